package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// errRoleNotVisible: SageMaker refused the execution role, which right
// after the role was written usually means IAM has not propagated it yet.
var errRoleNotVisible = errors.New("SageMaker refused the execution role")

// describeProfile reads a profile without its tags.
func (s *Syncer) describeProfile(ctx context.Context, name string) (profileState, error) {
	out, err := s.sm.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: &s.aws.SageMaker.DomainID, UserProfileName: &name})
	if bridgeaws.Classify(err) == bridgeaws.NotFound {
		return profileState{}, nil
	}
	if err != nil {
		return profileState{}, fmt.Errorf("describe user profile %s: %w", name, err)
	}
	a := profileState{
		Exists: true, ARN: sdkaws.ToString(out.UserProfileArn), Status: string(out.Status),
		FailureReason: sdkaws.ToString(out.FailureReason),
	}
	if out.UserSettings != nil {
		a.ExecutionRole = sdkaws.ToString(out.UserSettings.ExecutionRole)
	}
	return a, nil
}

// readProfile reads a profile and its tags. DescribeUserProfile does not
// return tags, so ListTags follows, by the ARN SageMaker returned (it
// lowercases it; a rebuilt ARN of another case would not be found).
func (s *Syncer) readProfile(ctx context.Context, name string) (profileState, error) {
	a, err := s.describeProfile(ctx, name)
	if err != nil || !a.Exists {
		return a, err
	}
	a.Tags = map[string]string{}
	var token *string
	for {
		out, err := s.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: &a.ARN, NextToken: token, MaxResults: sdkaws.Int32(100)})
		if err != nil {
			if bridgeaws.Classify(err) == bridgeaws.Terminal && strings.Contains(bridgeaws.Message(err), "does not exist") {
				// Deleted between the two calls.
				return profileState{}, nil
			}
			return profileState{}, fmt.Errorf("list tags of user profile %s: %w", name, err)
		}
		for k, v := range bridgeaws.SageMakerTagMap(out.Tags) {
			a.Tags[k] = v
		}
		if sdkaws.ToString(out.NextToken) == "" {
			return a, nil
		}
		token = out.NextToken
	}
}

// applyProfile makes one write of a profile plan. It returns settled false
// when the profile appeared, vanished or was busy since it was read: the
// key is then read again rather than failed.
func (s *Syncer) applyProfile(ctx context.Context, d profileSpec, a profileState, act Action) (bool, error) {
	domain, name := &s.aws.SageMaker.DomainID, &d.Name
	var err error
	switch act.Op {
	case "CreateUserProfile":
		tags := make(map[string]string, len(d.Tags))
		for k, v := range d.Tags {
			tags[k] = v
		}
		in := &sagemaker.CreateUserProfileInput{DomainId: domain, UserProfileName: name, Tags: bridgeaws.SageMakerTags(tags)}
		if d.ExecutionRole != "" {
			in.UserSettings = &smtypes.UserSettings{ExecutionRole: &d.ExecutionRole}
		}
		_, err = s.sm.CreateUserProfile(ctx, in)
	case "UpdateUserProfile":
		_, err = s.sm.UpdateUserProfile(ctx, &sagemaker.UpdateUserProfileInput{DomainId: domain, UserProfileName: name,
			UserSettings: &smtypes.UserSettings{ExecutionRole: &d.ExecutionRole}})
	case "AddTags":
		// AddTags adds or overwrites; sending every desired tag is one call
		// either way.
		_, err = s.sm.AddTags(ctx, &sagemaker.AddTagsInput{ResourceArn: &a.ARN, Tags: bridgeaws.SageMakerTags(d.Tags)})
	case "DeleteTags":
		_, err = s.sm.DeleteTags(ctx, &sagemaker.DeleteTagsInput{ResourceArn: &a.ARN, TagKeys: strings.Split(act.Detail, ",")})
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
