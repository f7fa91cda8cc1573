package aws

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	smtypes "github.com/aws/aws-sdk-go-v2/service/sagemaker/types"
	"github.com/aws/smithy-go"
)

// IAM is the part of the IAM API the sync calls. The signatures are the
// SDK's own, so *iam.Client satisfies it and tests substitute a small
// hand-written fake that returns the SDK's typed errors.
type IAM interface {
	IAMReader
	CreateRole(ctx context.Context, params *iam.CreateRoleInput, optFns ...func(*iam.Options)) (*iam.CreateRoleOutput, error)
	DeleteRole(ctx context.Context, params *iam.DeleteRoleInput, optFns ...func(*iam.Options)) (*iam.DeleteRoleOutput, error)
	UpdateRole(ctx context.Context, params *iam.UpdateRoleInput, optFns ...func(*iam.Options)) (*iam.UpdateRoleOutput, error)
	UpdateAssumeRolePolicy(ctx context.Context, params *iam.UpdateAssumeRolePolicyInput, optFns ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error)
	TagRole(ctx context.Context, params *iam.TagRoleInput, optFns ...func(*iam.Options)) (*iam.TagRoleOutput, error)
	PutRolePolicy(ctx context.Context, params *iam.PutRolePolicyInput, optFns ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error)
	DeleteRolePolicy(ctx context.Context, params *iam.DeleteRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error)
	AttachRolePolicy(ctx context.Context, params *iam.AttachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error)
	DetachRolePolicy(ctx context.Context, params *iam.DetachRolePolicyInput, optFns ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error)
	CreateSAMLProvider(ctx context.Context, params *iam.CreateSAMLProviderInput, optFns ...func(*iam.Options)) (*iam.CreateSAMLProviderOutput, error)
	UpdateSAMLProvider(ctx context.Context, params *iam.UpdateSAMLProviderInput, optFns ...func(*iam.Options)) (*iam.UpdateSAMLProviderOutput, error)
}

// IAMReader is the part of IAM that only reads: what a dry run may hold.
type IAMReader interface {
	GetRole(ctx context.Context, params *iam.GetRoleInput, optFns ...func(*iam.Options)) (*iam.GetRoleOutput, error)
	ListRoles(ctx context.Context, params *iam.ListRolesInput, optFns ...func(*iam.Options)) (*iam.ListRolesOutput, error)
	ListRolePolicies(ctx context.Context, params *iam.ListRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error)
	GetRolePolicy(ctx context.Context, params *iam.GetRolePolicyInput, optFns ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error)
	ListAttachedRolePolicies(ctx context.Context, params *iam.ListAttachedRolePoliciesInput, optFns ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error)
	GetSAMLProvider(ctx context.Context, params *iam.GetSAMLProviderInput, optFns ...func(*iam.Options)) (*iam.GetSAMLProviderOutput, error)
}

// SageMaker is the part of the SageMaker API the sync calls, with the
// SDK's signatures, so *sagemaker.Client satisfies it.
type SageMaker interface {
	SageMakerReader
	CreateUserProfile(ctx context.Context, params *sagemaker.CreateUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.CreateUserProfileOutput, error)
	UpdateUserProfile(ctx context.Context, params *sagemaker.UpdateUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.UpdateUserProfileOutput, error)
	DeleteUserProfile(ctx context.Context, params *sagemaker.DeleteUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteUserProfileOutput, error)
	AddTags(ctx context.Context, params *sagemaker.AddTagsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.AddTagsOutput, error)
	DeleteTags(ctx context.Context, params *sagemaker.DeleteTagsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteTagsOutput, error)
	DeleteApp(ctx context.Context, params *sagemaker.DeleteAppInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteAppOutput, error)
	DeleteSpace(ctx context.Context, params *sagemaker.DeleteSpaceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DeleteSpaceOutput, error)
}

// SageMakerReader is the part of SageMaker that only reads.
type SageMakerReader interface {
	DescribeUserProfile(ctx context.Context, params *sagemaker.DescribeUserProfileInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeUserProfileOutput, error)
	ListUserProfiles(ctx context.Context, params *sagemaker.ListUserProfilesInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListUserProfilesOutput, error)
	ListTags(ctx context.Context, params *sagemaker.ListTagsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error)
	ListApps(ctx context.Context, params *sagemaker.ListAppsInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListAppsOutput, error)
	ListSpaces(ctx context.Context, params *sagemaker.ListSpacesInput, optFns ...func(*sagemaker.Options)) (*sagemaker.ListSpacesOutput, error)
	DescribeSpace(ctx context.Context, params *sagemaker.DescribeSpaceInput, optFns ...func(*sagemaker.Options)) (*sagemaker.DescribeSpaceOutput, error)
}

var (
	_ IAM       = (*iam.Client)(nil)
	_ SageMaker = (*sagemaker.Client)(nil)
)

// Owner is the ownership tag: the bridge changes or deletes only
// resources that carry it, and puts it on everything it creates.
type Owner struct {
	Key, Value string
}

// IAMTag is the ownership tag for an IAM call.
func (o Owner) IAMTag() iamtypes.Tag {
	return iamtypes.Tag{Key: &o.Key, Value: &o.Value}
}

// SageMakerTag is the ownership tag for a SageMaker call.
func (o Owner) SageMakerTag() smtypes.Tag {
	return smtypes.Tag{Key: &o.Key, Value: &o.Value}
}

// OwnsIAM reports whether IAM tags carry the ownership tag. IAM tag keys
// are case-insensitive (a TagRole with "Team" overwrites "team"), values
// are not.
func (o Owner) OwnsIAM(tags []iamtypes.Tag) bool {
	for _, t := range tags {
		if t.Key != nil && strings.EqualFold(*t.Key, o.Key) {
			return t.Value != nil && *t.Value == o.Value
		}
	}
	return false
}

// OwnsSageMaker reports whether SageMaker tags carry the ownership tag.
// SageMaker tag keys are case-sensitive.
func (o Owner) OwnsSageMaker(tags []smtypes.Tag) bool {
	return o.Owns(SageMakerTagMap(tags))
}

// Owns reports whether a tag map (as IAMTagMap or SageMakerTagMap return
// it) carries the ownership tag.
func (o Owner) Owns(tags map[string]string) bool {
	v, ok := tags[o.Key]
	return ok && v == o.Value
}

// IAMTagMap turns IAM tags into a map. Keys keep the case IAM returned.
func IAMTagMap(tags []iamtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if t.Key != nil {
			m[*t.Key] = deref(t.Value)
		}
	}
	return m
}

// SageMakerTagMap turns SageMaker tags into a map.
func SageMakerTagMap(tags []smtypes.Tag) map[string]string {
	m := make(map[string]string, len(tags))
	for _, t := range tags {
		if t.Key != nil {
			m[*t.Key] = deref(t.Value)
		}
	}
	return m
}

// IAMTags turns a map into IAM tags, in no particular order.
func IAMTags(m map[string]string) []iamtypes.Tag {
	out := make([]iamtypes.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, iamtypes.Tag{Key: &k, Value: &v})
	}
	return out
}

// SageMakerTags turns a map into SageMaker tags, in no particular order.
func SageMakerTags(m map[string]string) []smtypes.Tag {
	out := make([]smtypes.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, smtypes.Tag{Key: &k, Value: &v})
	}
	return out
}

// Message is the API error message of err, or "" when it is not an API
// error. SageMaker reports some conditions (an execution role it cannot
// see yet) only as a ValidationException whose message says which.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorMessage()
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
