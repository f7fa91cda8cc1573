package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store"
)

// A plan runs the sync's own reconcilers (which read AWS, compute their
// pure plan and apply it) against clients whose reads reach AWS and whose
// writes are only recorded, over a store that takes no writes and a copy
// of the status records. What was recorded is what a sync would change.
// Every method of the narrow AWS interfaces is spelled out below, with no
// embedding, so that a write added to them later fails to compile here
// instead of reaching AWS from a plan.

// recorder collects the writes of the key being planned.
type recorder struct {
	mu   gosync.Mutex
	acts []control.Action
}

func (r *recorder) add(op, resource, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.acts = append(r.acts, control.Action{Op: op, Resource: resource, Detail: detail})
}

// take returns the writes recorded since the last take.
func (r *recorder) take() []control.Action {
	r.mu.Lock()
	defer r.mu.Unlock()
	acts := r.acts
	r.acts = nil
	return acts
}

// dryIAM reads from IAM and records writes. A created role's ARN is what
// IAM would return, so the team's users plan against it.
type dryIAM struct {
	c         bridgeaws.IAM
	rec       *recorder
	partition string
	account   string
}

func (d dryIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	return d.c.GetRole(ctx, in, o...)
}

func (d dryIAM) ListRoles(ctx context.Context, in *iam.ListRolesInput, o ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	return d.c.ListRoles(ctx, in, o...)
}

func (d dryIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	return d.c.ListRolePolicies(ctx, in, o...)
}

func (d dryIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, o ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	return d.c.GetRolePolicy(ctx, in, o...)
}

func (d dryIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	return d.c.ListAttachedRolePolicies(ctx, in, o...)
}

func (d dryIAM) GetSAMLProvider(ctx context.Context, in *iam.GetSAMLProviderInput, o ...func(*iam.Options)) (*iam.GetSAMLProviderOutput, error) {
	return d.c.GetSAMLProvider(ctx, in, o...)
}

func (d dryIAM) CreateRole(_ context.Context, in *iam.CreateRoleInput, _ ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	name, path := sdkaws.ToString(in.RoleName), sdkaws.ToString(in.Path)
	d.rec.add("CreateRole", name, "")
	arn := fmt.Sprintf("arn:%s:iam::%s:role%s%s", d.partition, d.account, path, name)
	return &iam.CreateRoleOutput{Role: &iamtypes.Role{RoleName: in.RoleName, Path: in.Path, Arn: &arn}}, nil
}

func (d dryIAM) DeleteRole(_ context.Context, in *iam.DeleteRoleInput, _ ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	d.rec.add("DeleteRole", sdkaws.ToString(in.RoleName), "")
	return &iam.DeleteRoleOutput{}, nil
}

func (d dryIAM) UpdateRole(_ context.Context, in *iam.UpdateRoleInput, _ ...func(*iam.Options)) (*iam.UpdateRoleOutput, error) {
	d.rec.add("UpdateRole", sdkaws.ToString(in.RoleName), fmt.Sprintf("MaxSessionDuration %d", sdkaws.ToInt32(in.MaxSessionDuration)))
	return &iam.UpdateRoleOutput{}, nil
}

func (d dryIAM) UpdateAssumeRolePolicy(_ context.Context, in *iam.UpdateAssumeRolePolicyInput, _ ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	d.rec.add("UpdateAssumeRolePolicy", sdkaws.ToString(in.RoleName), "")
	return &iam.UpdateAssumeRolePolicyOutput{}, nil
}

func (d dryIAM) TagRole(_ context.Context, in *iam.TagRoleInput, _ ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	d.rec.add("TagRole", sdkaws.ToString(in.RoleName), tagKeys(bridgeaws.IAMTagMap(in.Tags)))
	return &iam.TagRoleOutput{}, nil
}

func (d dryIAM) PutRolePolicy(_ context.Context, in *iam.PutRolePolicyInput, _ ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	d.rec.add("PutRolePolicy", sdkaws.ToString(in.RoleName), sdkaws.ToString(in.PolicyName))
	return &iam.PutRolePolicyOutput{}, nil
}

func (d dryIAM) DeleteRolePolicy(_ context.Context, in *iam.DeleteRolePolicyInput, _ ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	d.rec.add("DeleteRolePolicy", sdkaws.ToString(in.RoleName), sdkaws.ToString(in.PolicyName))
	return &iam.DeleteRolePolicyOutput{}, nil
}

func (d dryIAM) AttachRolePolicy(_ context.Context, in *iam.AttachRolePolicyInput, _ ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	d.rec.add("AttachRolePolicy", sdkaws.ToString(in.RoleName), sdkaws.ToString(in.PolicyArn))
	return &iam.AttachRolePolicyOutput{}, nil
}

func (d dryIAM) DetachRolePolicy(_ context.Context, in *iam.DetachRolePolicyInput, _ ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	d.rec.add("DetachRolePolicy", sdkaws.ToString(in.RoleName), sdkaws.ToString(in.PolicyArn))
	return &iam.DetachRolePolicyOutput{}, nil
}

func (d dryIAM) CreateSAMLProvider(_ context.Context, in *iam.CreateSAMLProviderInput, _ ...func(*iam.Options)) (*iam.CreateSAMLProviderOutput, error) {
	d.rec.add("CreateSAMLProvider", sdkaws.ToString(in.Name), "")
	return &iam.CreateSAMLProviderOutput{}, nil
}

func (d dryIAM) UpdateSAMLProvider(_ context.Context, in *iam.UpdateSAMLProviderInput, _ ...func(*iam.Options)) (*iam.UpdateSAMLProviderOutput, error) {
	d.rec.add("UpdateSAMLProvider", arnName(sdkaws.ToString(in.SAMLProviderArn)), "")
	return &iam.UpdateSAMLProviderOutput{}, nil
}

// drySageMaker reads from SageMaker and records writes.
type drySageMaker struct {
	c   bridgeaws.SageMaker
	rec *recorder
}

func (d drySageMaker) DescribeUserProfile(ctx context.Context, in *sagemaker.DescribeUserProfileInput, o ...func(*sagemaker.Options)) (*sagemaker.DescribeUserProfileOutput, error) {
	return d.c.DescribeUserProfile(ctx, in, o...)
}

func (d drySageMaker) ListUserProfiles(ctx context.Context, in *sagemaker.ListUserProfilesInput, o ...func(*sagemaker.Options)) (*sagemaker.ListUserProfilesOutput, error) {
	return d.c.ListUserProfiles(ctx, in, o...)
}

func (d drySageMaker) ListTags(ctx context.Context, in *sagemaker.ListTagsInput, o ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error) {
	return d.c.ListTags(ctx, in, o...)
}

func (d drySageMaker) ListApps(ctx context.Context, in *sagemaker.ListAppsInput, o ...func(*sagemaker.Options)) (*sagemaker.ListAppsOutput, error) {
	return d.c.ListApps(ctx, in, o...)
}

func (d drySageMaker) ListSpaces(ctx context.Context, in *sagemaker.ListSpacesInput, o ...func(*sagemaker.Options)) (*sagemaker.ListSpacesOutput, error) {
	return d.c.ListSpaces(ctx, in, o...)
}

func (d drySageMaker) CreateUserProfile(_ context.Context, in *sagemaker.CreateUserProfileInput, _ ...func(*sagemaker.Options)) (*sagemaker.CreateUserProfileOutput, error) {
	detail := tagKeys(bridgeaws.SageMakerTagMap(in.Tags))
	if in.UserSettings != nil && in.UserSettings.ExecutionRole != nil {
		detail = "ExecutionRole " + *in.UserSettings.ExecutionRole + "; tags " + detail
	}
	d.rec.add("CreateUserProfile", sdkaws.ToString(in.UserProfileName), detail)
	return &sagemaker.CreateUserProfileOutput{}, nil
}

func (d drySageMaker) UpdateUserProfile(_ context.Context, in *sagemaker.UpdateUserProfileInput, _ ...func(*sagemaker.Options)) (*sagemaker.UpdateUserProfileOutput, error) {
	detail := ""
	if in.UserSettings != nil && in.UserSettings.ExecutionRole != nil {
		detail = "ExecutionRole " + *in.UserSettings.ExecutionRole
	}
	d.rec.add("UpdateUserProfile", sdkaws.ToString(in.UserProfileName), detail)
	return &sagemaker.UpdateUserProfileOutput{}, nil
}

func (d drySageMaker) DeleteUserProfile(_ context.Context, in *sagemaker.DeleteUserProfileInput, _ ...func(*sagemaker.Options)) (*sagemaker.DeleteUserProfileOutput, error) {
	d.rec.add("DeleteUserProfile", sdkaws.ToString(in.UserProfileName), "")
	return &sagemaker.DeleteUserProfileOutput{}, nil
}

func (d drySageMaker) AddTags(_ context.Context, in *sagemaker.AddTagsInput, _ ...func(*sagemaker.Options)) (*sagemaker.AddTagsOutput, error) {
	d.rec.add("AddTags", arnName(sdkaws.ToString(in.ResourceArn)), tagKeys(bridgeaws.SageMakerTagMap(in.Tags)))
	return &sagemaker.AddTagsOutput{}, nil
}

func (d drySageMaker) DeleteTags(_ context.Context, in *sagemaker.DeleteTagsInput, _ ...func(*sagemaker.Options)) (*sagemaker.DeleteTagsOutput, error) {
	keys := slices.Sorted(slices.Values(in.TagKeys))
	d.rec.add("DeleteTags", arnName(sdkaws.ToString(in.ResourceArn)), strings.Join(keys, ","))
	return &sagemaker.DeleteTagsOutput{}, nil
}

func (d drySageMaker) DeleteApp(_ context.Context, in *sagemaker.DeleteAppInput, _ ...func(*sagemaker.Options)) (*sagemaker.DeleteAppOutput, error) {
	owner := "user profile " + sdkaws.ToString(in.UserProfileName)
	if in.SpaceName != nil {
		owner = "space " + *in.SpaceName
	}
	d.rec.add("DeleteApp", sdkaws.ToString(in.AppName), owner)
	return &sagemaker.DeleteAppOutput{}, nil
}

func (d drySageMaker) DeleteSpace(_ context.Context, in *sagemaker.DeleteSpaceInput, _ ...func(*sagemaker.Options)) (*sagemaker.DeleteSpaceOutput, error) {
	d.rec.add("DeleteSpace", sdkaws.ToString(in.SpaceName), "")
	return &sagemaker.DeleteSpaceOutput{}, nil
}

var (
	_ bridgeaws.IAM       = dryIAM{}
	_ bridgeaws.SageMaker = drySageMaker{}
)

// errReadOnly refuses a store write during a plan; the sync makes none
// but enqueues, so hitting it means the sync changed.
var errReadOnly = errors.New("a plan does not write to the store")

// readOnlyStore is the store as a plan sees it: reads pass, enqueues are
// collected (a resync's keys are the keys to plan), writes are refused.
type readOnlyStore struct {
	store.Store
	mu       gosync.Mutex
	enqueued map[string]bool
}

func (s *readOnlyStore) Enqueue(_ context.Context, keys ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.enqueued[k] = true
	}
	return nil
}

// takeEnqueued returns, sorted, the keys enqueued since the last call.
func (s *readOnlyStore) takeEnqueued() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := slices.Sorted(maps.Keys(s.enqueued))
	clear(s.enqueued)
	return keys
}

func (s *readOnlyStore) CreateUser(context.Context, store.User) (store.User, error) {
	return store.User{}, errReadOnly
}

func (s *readOnlyStore) UpdateUser(context.Context, string, store.UserUpdate) (store.User, error) {
	return store.User{}, errReadOnly
}

func (s *readOnlyStore) DeleteUser(context.Context, string, uint64) error { return errReadOnly }

func (s *readOnlyStore) CreateGroup(context.Context, store.Group, []string) (store.Group, error) {
	return store.Group{}, errReadOnly
}

func (s *readOnlyStore) UpdateGroup(context.Context, string, store.GroupUpdate) (store.Group, error) {
	return store.Group{}, errReadOnly
}

func (s *readOnlyStore) DeleteGroup(context.Context, string, uint64) error { return errReadOnly }
func (s *readOnlyStore) Complete(context.Context, string, uint64) error    { return errReadOnly }
func (s *readOnlyStore) CreateToken(context.Context, store.Token) error    { return errReadOnly }
func (s *readOnlyStore) DeleteToken(context.Context, string) error         { return errReadOnly }
func (s *readOnlyStore) Close() error                                      { return errReadOnly }
func (s *readOnlyStore) PutStatus(context.Context, string, []byte) error   { return errReadOnly }
func (s *readOnlyStore) DeleteStatus(context.Context, string) error        { return errReadOnly }

func (s *readOnlyStore) Reschedule(context.Context, string, uint64, time.Time, int, string) error {
	return errReadOnly
}

// tagKeys lists a tag map's keys, sorted, for an action's detail.
func tagKeys(tags map[string]string) string {
	return strings.Join(slices.Sorted(maps.Keys(tags)), ",")
}

// arnName is the last path element of an ARN: a role's, a profile's or a
// provider's name.
func arnName(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}
