package sync

import (
	"context"
	"log/slog"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// meteredIAM and meteredSageMaker count every call in aws_calls_total as
// the sync saw it: after the SDK's retries, with the final error code, and
// log it with the reconcile's context, so that a call carries the id of
// the request that caused it (see internal/requestid). Wrapping the
// narrow interfaces keeps this out of the reconcilers and works for fakes
// and real clients alike.

type meteredIAM struct {
	c bridgeaws.IAM
	meter
}

type meteredSageMaker struct {
	c bridgeaws.SageMaker
	meter
}

type meter struct {
	m   *Metrics
	log *slog.Logger
}

// observe counts one call: code "ok" on success, the API error code, or
// "error" for a failure without one (connection, timeout, cancellation).
// Calls that change AWS are logged at info, reads at debug: in steady
// state the sync writes nothing, so the info log holds what changed.
func (mt meter) observe(ctx context.Context, service, op string, err error) {
	code := "ok"
	if err != nil {
		if code = bridgeaws.Code(err); code == "" {
			code = "error"
		}
	}
	mt.m.AWSCalls.WithLabelValues(service, op, code).Inc()
	level := slog.LevelInfo
	if isRead(op) {
		level = slog.LevelDebug
	}
	mt.log.Log(ctx, level, "aws call", "service", service, "operation", op, "result", code)
}

// isRead reports whether an operation only reads, by the AWS naming
// convention every call in internal/aws follows.
func isRead(op string) bool {
	return strings.HasPrefix(op, "Get") || strings.HasPrefix(op, "List") || strings.HasPrefix(op, "Describe")
}

func (w meteredIAM) GetRole(ctx context.Context, in *iam.GetRoleInput, o ...func(*iam.Options)) (*iam.GetRoleOutput, error) {
	out, err := w.c.GetRole(ctx, in, o...)
	w.observe(ctx, "iam", "GetRole", err)
	return out, err
}

func (w meteredIAM) CreateRole(ctx context.Context, in *iam.CreateRoleInput, o ...func(*iam.Options)) (*iam.CreateRoleOutput, error) {
	out, err := w.c.CreateRole(ctx, in, o...)
	w.observe(ctx, "iam", "CreateRole", err)
	return out, err
}

func (w meteredIAM) DeleteRole(ctx context.Context, in *iam.DeleteRoleInput, o ...func(*iam.Options)) (*iam.DeleteRoleOutput, error) {
	out, err := w.c.DeleteRole(ctx, in, o...)
	w.observe(ctx, "iam", "DeleteRole", err)
	return out, err
}

func (w meteredIAM) UpdateRole(ctx context.Context, in *iam.UpdateRoleInput, o ...func(*iam.Options)) (*iam.UpdateRoleOutput, error) {
	out, err := w.c.UpdateRole(ctx, in, o...)
	w.observe(ctx, "iam", "UpdateRole", err)
	return out, err
}

func (w meteredIAM) UpdateAssumeRolePolicy(ctx context.Context, in *iam.UpdateAssumeRolePolicyInput, o ...func(*iam.Options)) (*iam.UpdateAssumeRolePolicyOutput, error) {
	out, err := w.c.UpdateAssumeRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "UpdateAssumeRolePolicy", err)
	return out, err
}

func (w meteredIAM) TagRole(ctx context.Context, in *iam.TagRoleInput, o ...func(*iam.Options)) (*iam.TagRoleOutput, error) {
	out, err := w.c.TagRole(ctx, in, o...)
	w.observe(ctx, "iam", "TagRole", err)
	return out, err
}

func (w meteredIAM) ListRoles(ctx context.Context, in *iam.ListRolesInput, o ...func(*iam.Options)) (*iam.ListRolesOutput, error) {
	out, err := w.c.ListRoles(ctx, in, o...)
	w.observe(ctx, "iam", "ListRoles", err)
	return out, err
}

func (w meteredIAM) ListRolePolicies(ctx context.Context, in *iam.ListRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListRolePoliciesOutput, error) {
	out, err := w.c.ListRolePolicies(ctx, in, o...)
	w.observe(ctx, "iam", "ListRolePolicies", err)
	return out, err
}

func (w meteredIAM) GetRolePolicy(ctx context.Context, in *iam.GetRolePolicyInput, o ...func(*iam.Options)) (*iam.GetRolePolicyOutput, error) {
	out, err := w.c.GetRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "GetRolePolicy", err)
	return out, err
}

func (w meteredIAM) PutRolePolicy(ctx context.Context, in *iam.PutRolePolicyInput, o ...func(*iam.Options)) (*iam.PutRolePolicyOutput, error) {
	out, err := w.c.PutRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "PutRolePolicy", err)
	return out, err
}

func (w meteredIAM) DeleteRolePolicy(ctx context.Context, in *iam.DeleteRolePolicyInput, o ...func(*iam.Options)) (*iam.DeleteRolePolicyOutput, error) {
	out, err := w.c.DeleteRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "DeleteRolePolicy", err)
	return out, err
}

func (w meteredIAM) ListAttachedRolePolicies(ctx context.Context, in *iam.ListAttachedRolePoliciesInput, o ...func(*iam.Options)) (*iam.ListAttachedRolePoliciesOutput, error) {
	out, err := w.c.ListAttachedRolePolicies(ctx, in, o...)
	w.observe(ctx, "iam", "ListAttachedRolePolicies", err)
	return out, err
}

func (w meteredIAM) AttachRolePolicy(ctx context.Context, in *iam.AttachRolePolicyInput, o ...func(*iam.Options)) (*iam.AttachRolePolicyOutput, error) {
	out, err := w.c.AttachRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "AttachRolePolicy", err)
	return out, err
}

func (w meteredIAM) DetachRolePolicy(ctx context.Context, in *iam.DetachRolePolicyInput, o ...func(*iam.Options)) (*iam.DetachRolePolicyOutput, error) {
	out, err := w.c.DetachRolePolicy(ctx, in, o...)
	w.observe(ctx, "iam", "DetachRolePolicy", err)
	return out, err
}

func (w meteredIAM) GetSAMLProvider(ctx context.Context, in *iam.GetSAMLProviderInput, o ...func(*iam.Options)) (*iam.GetSAMLProviderOutput, error) {
	out, err := w.c.GetSAMLProvider(ctx, in, o...)
	w.observe(ctx, "iam", "GetSAMLProvider", err)
	return out, err
}

func (w meteredIAM) CreateSAMLProvider(ctx context.Context, in *iam.CreateSAMLProviderInput, o ...func(*iam.Options)) (*iam.CreateSAMLProviderOutput, error) {
	out, err := w.c.CreateSAMLProvider(ctx, in, o...)
	w.observe(ctx, "iam", "CreateSAMLProvider", err)
	return out, err
}

func (w meteredIAM) UpdateSAMLProvider(ctx context.Context, in *iam.UpdateSAMLProviderInput, o ...func(*iam.Options)) (*iam.UpdateSAMLProviderOutput, error) {
	out, err := w.c.UpdateSAMLProvider(ctx, in, o...)
	w.observe(ctx, "iam", "UpdateSAMLProvider", err)
	return out, err
}

func (w meteredSageMaker) DescribeUserProfile(ctx context.Context, in *sagemaker.DescribeUserProfileInput, o ...func(*sagemaker.Options)) (*sagemaker.DescribeUserProfileOutput, error) {
	out, err := w.c.DescribeUserProfile(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DescribeUserProfile", err)
	return out, err
}

func (w meteredSageMaker) CreateUserProfile(ctx context.Context, in *sagemaker.CreateUserProfileInput, o ...func(*sagemaker.Options)) (*sagemaker.CreateUserProfileOutput, error) {
	out, err := w.c.CreateUserProfile(ctx, in, o...)
	w.observe(ctx, "sagemaker", "CreateUserProfile", err)
	return out, err
}

func (w meteredSageMaker) UpdateUserProfile(ctx context.Context, in *sagemaker.UpdateUserProfileInput, o ...func(*sagemaker.Options)) (*sagemaker.UpdateUserProfileOutput, error) {
	out, err := w.c.UpdateUserProfile(ctx, in, o...)
	w.observe(ctx, "sagemaker", "UpdateUserProfile", err)
	return out, err
}

func (w meteredSageMaker) DeleteUserProfile(ctx context.Context, in *sagemaker.DeleteUserProfileInput, o ...func(*sagemaker.Options)) (*sagemaker.DeleteUserProfileOutput, error) {
	out, err := w.c.DeleteUserProfile(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DeleteUserProfile", err)
	return out, err
}

func (w meteredSageMaker) ListUserProfiles(ctx context.Context, in *sagemaker.ListUserProfilesInput, o ...func(*sagemaker.Options)) (*sagemaker.ListUserProfilesOutput, error) {
	out, err := w.c.ListUserProfiles(ctx, in, o...)
	w.observe(ctx, "sagemaker", "ListUserProfiles", err)
	return out, err
}

func (w meteredSageMaker) AddTags(ctx context.Context, in *sagemaker.AddTagsInput, o ...func(*sagemaker.Options)) (*sagemaker.AddTagsOutput, error) {
	out, err := w.c.AddTags(ctx, in, o...)
	w.observe(ctx, "sagemaker", "AddTags", err)
	return out, err
}

func (w meteredSageMaker) DeleteTags(ctx context.Context, in *sagemaker.DeleteTagsInput, o ...func(*sagemaker.Options)) (*sagemaker.DeleteTagsOutput, error) {
	out, err := w.c.DeleteTags(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DeleteTags", err)
	return out, err
}

func (w meteredSageMaker) ListTags(ctx context.Context, in *sagemaker.ListTagsInput, o ...func(*sagemaker.Options)) (*sagemaker.ListTagsOutput, error) {
	out, err := w.c.ListTags(ctx, in, o...)
	w.observe(ctx, "sagemaker", "ListTags", err)
	return out, err
}

func (w meteredSageMaker) ListApps(ctx context.Context, in *sagemaker.ListAppsInput, o ...func(*sagemaker.Options)) (*sagemaker.ListAppsOutput, error) {
	out, err := w.c.ListApps(ctx, in, o...)
	w.observe(ctx, "sagemaker", "ListApps", err)
	return out, err
}

func (w meteredSageMaker) DeleteApp(ctx context.Context, in *sagemaker.DeleteAppInput, o ...func(*sagemaker.Options)) (*sagemaker.DeleteAppOutput, error) {
	out, err := w.c.DeleteApp(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DeleteApp", err)
	return out, err
}

func (w meteredSageMaker) ListSpaces(ctx context.Context, in *sagemaker.ListSpacesInput, o ...func(*sagemaker.Options)) (*sagemaker.ListSpacesOutput, error) {
	out, err := w.c.ListSpaces(ctx, in, o...)
	w.observe(ctx, "sagemaker", "ListSpaces", err)
	return out, err
}

func (w meteredSageMaker) DescribeSpace(ctx context.Context, in *sagemaker.DescribeSpaceInput, o ...func(*sagemaker.Options)) (*sagemaker.DescribeSpaceOutput, error) {
	out, err := w.c.DescribeSpace(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DescribeSpace", err)
	return out, err
}

func (w meteredSageMaker) DeleteSpace(ctx context.Context, in *sagemaker.DeleteSpaceInput, o ...func(*sagemaker.Options)) (*sagemaker.DeleteSpaceOutput, error) {
	out, err := w.c.DeleteSpace(ctx, in, o...)
	w.observe(ctx, "sagemaker", "DeleteSpace", err)
	return out, err
}
