package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// errRoleNotVisible: SageMaker refused the execution role, which right
// after the role was written usually means IAM has not propagated it yet.
var errRoleNotVisible = errors.New("SageMaker refused the execution role")

// describeProfile reads a profile without its tags.
func (s *Syncer) describeProfile(ctx context.Context, name string) (ProfileState, error) {
	out, err := s.sm.DescribeUserProfile(ctx, &sagemaker.DescribeUserProfileInput{DomainId: &s.aws.SageMaker.DomainID, UserProfileName: &name})
	if bridgeaws.Classify(err) == bridgeaws.NotFound {
		return ProfileState{}, nil
	}
	if err != nil {
		return ProfileState{}, fmt.Errorf("describe user profile %s: %w", name, err)
	}
	a := ProfileState{
		Exists: true, ARN: sdkaws.ToString(out.UserProfileArn), Status: string(out.Status),
		FailureReason: sdkaws.ToString(out.FailureReason),
	}
	if out.UserSettings != nil {
		a.ExecutionRole = sdkaws.ToString(out.UserSettings.ExecutionRole)
	}
	return a, nil
}

// ReadProfile reads a profile and its tags.
func (s *Syncer) ReadProfile(ctx context.Context, name string) (ProfileState, error) {
	a, err := s.describeProfile(ctx, name)
	if err != nil {
		return a, err
	}
	return s.withTags(ctx, name, a)
}

// withTags adds the tags of a described profile. DescribeUserProfile does
// not return them, so ListTags follows, by the ARN SageMaker returned (it
// lowercases it; a rebuilt ARN of another case would not be found).
func (s *Syncer) withTags(ctx context.Context, name string, a ProfileState) (ProfileState, error) {
	if !a.Exists {
		return a, nil
	}
	a.Tags = map[string]string{}
	var token *string
	for {
		out, err := s.sm.ListTags(ctx, &sagemaker.ListTagsInput{ResourceArn: &a.ARN, NextToken: token, MaxResults: sdkaws.Int32(100)})
		if err != nil {
			if bridgeaws.Classify(err) == bridgeaws.Terminal && strings.Contains(bridgeaws.Message(err), "does not exist") {
				// Deleted between the two calls.
				return ProfileState{}, nil
			}
			return ProfileState{}, fmt.Errorf("list tags of user profile %s: %w", name, err)
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
