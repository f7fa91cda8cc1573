package sync

import (
	"context"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/store"
)

// A Syncer reads AWS, the store and its status records through the
// read-only interfaces below, and makes every change through its writer.
// The daemon's writer (liveWriter) writes; a plan's (planWriter, plan.go)
// records, so a dry run cannot write by construction: its syncer holds no
// client, store or status store with a write method.

// storeReader is the part of store.Store the reconcilers read.
type storeReader interface {
	GetUser(ctx context.Context, id string) (store.User, error)
	ScanUserIDs(ctx context.Context, after string, limit int) (store.Page[string], error)
	GetGroup(ctx context.Context, id string) (store.Group, error)
	LookupGroups(ctx context.Context, l store.Lookup) ([]string, error)
	ScanGroups(ctx context.Context, after string, limit int) (store.Page[store.Group], error)
	Members(ctx context.Context, groupID string, fn func(userID string) error) error
	UserGroups(ctx context.Context, userID string) ([]store.Group, error)
}

// statusReader is the part of StatusStore that only reads.
type statusReader interface {
	GetStatus(ctx context.Context, key string) (Status, bool, error)
	ScanStatus(ctx context.Context, after string, limit int) ([]Status, error)
}

// writer makes every change a reconcile makes. The apply methods make one
// write of a plan and report settled false when it met a resource that
// appeared, vanished or was busy since it was read, for the key to be read
// again; the delete methods return AWS's error for the caller to classify.
type writer interface {
	applySAML(ctx context.Context, d samlSpec, act Action) (settled bool, err error)
	applyRole(ctx context.Context, d roleSpec, act Action) (arn string, settled bool, err error)
	applyProfile(ctx context.Context, d profileSpec, a ProfileState, act Action) (settled bool, err error)
	deleteApp(ctx context.Context, in *sagemaker.DeleteAppInput) error
	deleteSpace(ctx context.Context, name string) error
	deleteUserProfile(ctx context.Context, name string) error
	enqueue(ctx context.Context, keys ...string) error
	putStatus(ctx context.Context, st Status) error
	deleteStatus(ctx context.Context, key string) error
}

// liveWriter writes to AWS, the durable queue and the status records.
type liveWriter struct {
	iam   bridgeaws.IAM
	sm    bridgeaws.SageMaker
	queue interface {
		Enqueue(context.Context, ...string) error
	}
	// lane gets the enqueued keys others wait for, which the controller
	// then runs first.
	lane   *Lane
	status StatusStore
	owner  bridgeaws.Owner
	domain string
}

func (w liveWriter) enqueue(ctx context.Context, keys ...string) error {
	if err := w.queue.Enqueue(ctx, keys...); err != nil {
		return err
	}
	w.lane.Add(keys...)
	return nil
}

func (w liveWriter) putStatus(ctx context.Context, st Status) error {
	return w.status.PutStatus(ctx, st)
}
func (w liveWriter) deleteStatus(ctx context.Context, key string) error {
	return w.status.DeleteStatus(ctx, key)
}

func (w liveWriter) deleteApp(ctx context.Context, in *sagemaker.DeleteAppInput) error {
	_, err := w.sm.DeleteApp(ctx, in)
	return err
}

func (w liveWriter) deleteSpace(ctx context.Context, name string) error {
	_, err := w.sm.DeleteSpace(ctx, &sagemaker.DeleteSpaceInput{DomainId: &w.domain, SpaceName: &name})
	return err
}

func (w liveWriter) deleteUserProfile(ctx context.Context, name string) error {
	_, err := w.sm.DeleteUserProfile(ctx, &sagemaker.DeleteUserProfileInput{DomainId: &w.domain, UserProfileName: &name})
	return err
}

// applySAML treats a provider that appeared or vanished since it was read
// as unsettled: the key is looked at again, ownership check included.
func (w liveWriter) applySAML(ctx context.Context, d samlSpec, act Action) (bool, error) {
	var err error
	switch act.Op {
	case "CreateSAMLProvider":
		_, err = w.iam.CreateSAMLProvider(ctx, &iam.CreateSAMLProviderInput{
			Name: &d.Name, SAMLMetadataDocument: &d.Metadata, Tags: []iamtypes.Tag{w.owner.IAMTag()},
		})
	case "UpdateSAMLProvider":
		_, err = w.iam.UpdateSAMLProvider(ctx, &iam.UpdateSAMLProviderInput{SAMLProviderArn: &d.ARN, SAMLMetadataDocument: &d.Metadata})
	}
	switch bridgeaws.Classify(err) {
	case bridgeaws.AlreadyExists, bridgeaws.NotFound:
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("%s: %w", act, err)
	}
	return true, nil
}

// applyRole returns the role's ARN when the write reports it. A concurrent
// change is unsettled; removing what is already gone counts as done.
func (w liveWriter) applyRole(ctx context.Context, d roleSpec, act Action) (arn string, settled bool, err error) {
	name := &d.Name
	switch act.Op {
	case "CreateRole":
		in := &iam.CreateRoleInput{
			RoleName: name, Path: &d.Path, AssumeRolePolicyDocument: &d.Trust,
			Description: &d.Description, Tags: bridgeaws.IAMTags(d.Tags),
		}
		if d.MaxSession > 0 {
			in.MaxSessionDuration = &d.MaxSession
		}
		var out *iam.CreateRoleOutput
		if out, err = w.iam.CreateRole(ctx, in); err == nil {
			arn = sdkaws.ToString(out.Role.Arn)
		}
	case "UpdateAssumeRolePolicy":
		_, err = w.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: &d.Trust})
	case "UpdateRole":
		_, err = w.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: name, MaxSessionDuration: &d.MaxSession})
	case "TagRole":
		// TagRole overwrites keys it names and leaves other tags alone.
		_, err = w.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: bridgeaws.IAMTags(d.Tags)})
	case "PutRolePolicy":
		doc := d.Inline[act.Detail]
		_, err = w.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: &act.Detail, PolicyDocument: &doc})
	case "AttachRolePolicy":
		_, err = w.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: &act.Detail})
	case "DeleteRolePolicy":
		_, err = w.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: &act.Detail})
	case "DetachRolePolicy":
		_, err = w.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: &act.Detail})
	case "DeleteRole":
		_, err = w.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
	default:
		return "", false, fmt.Errorf("unknown role action %s", act)
	}
	removal := act.Op == "DeleteRolePolicy" || act.Op == "DetachRolePolicy" || act.Op == "DeleteRole"
	switch bridgeaws.Classify(err) {
	case bridgeaws.NotFound:
		return "", removal, nil
	case bridgeaws.AlreadyExists, bridgeaws.Conflict:
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("%s: %w", act, err)
	}
	return arn, true, nil
}

// applyProfile reports SageMaker refusing the execution role as
// errRoleNotVisible, which the caller waits out while IAM propagates.
func (w liveWriter) applyProfile(ctx context.Context, d profileSpec, a ProfileState, act Action) (bool, error) {
	domain, name := &w.domain, &d.Name
	var err error
	switch act.Op {
	case "CreateUserProfile":
		in := &sagemaker.CreateUserProfileInput{DomainId: domain, UserProfileName: name, Tags: bridgeaws.SageMakerTags(d.Tags)}
		if d.ExecutionRole != "" {
			in.UserSettings = &smtypes.UserSettings{ExecutionRole: &d.ExecutionRole}
		}
		_, err = w.sm.CreateUserProfile(ctx, in)
	case "UpdateUserProfile":
		_, err = w.sm.UpdateUserProfile(ctx, &sagemaker.UpdateUserProfileInput{DomainId: domain, UserProfileName: name,
			UserSettings: &smtypes.UserSettings{ExecutionRole: &d.ExecutionRole}})
	case "AddTags":
		// AddTags adds or overwrites; sending every desired tag is one call
		// either way.
		_, err = w.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: &a.ARN, Tags: bridgeaws.SageMakerTags(d.Tags)})
	case "DeleteTags":
		_, err = w.sm.DeleteTags(ctx, &sagemaker.DeleteTagsInput{ResourceArn: &a.ARN, TagKeys: strings.Split(act.Detail, ",")})
	default:
		return false, fmt.Errorf("unknown profile action %s", act)
	}
	if err == nil {
		return true, nil
	}
	code := bridgeaws.Code(err)
	switch {
	case code == "ValidationException" && (act.Op == "CreateUserProfile" || act.Op == "UpdateUserProfile") &&
		strings.Contains(strings.ToLower(bridgeaws.Message(err)), "role"):
		return false, fmt.Errorf("%s: %w: %w", act, errRoleNotVisible, err)
	case code == "ValidationException" && strings.Contains(bridgeaws.Message(err), "does not exist"):
		// Tagging a profile deleted since it was read.
		return false, nil
	}
	switch bridgeaws.Classify(err) {
	case bridgeaws.NotFound, bridgeaws.Conflict, bridgeaws.AlreadyExists:
		// ResourceInUse on create means the name is taken: the next read
		// finds the profile and checks its ownership.
		return false, nil
	}
	return false, fmt.Errorf("%s: %w", act, err)
}
