package sync

import (
	"context"
	"fmt"
	"slices"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// readRole reads a role, its inline policies and its attached policies.
// GetRole returns the tags, so ListRoleTags is not needed.
func (s *Syncer) readRole(ctx context.Context, name string) (roleState, error) {
	out, err := s.iam.GetRole(ctx, &iam.GetRoleInput{RoleName: &name})
	if bridgeaws.Classify(err) == bridgeaws.NotFound {
		return roleState{}, nil
	}
	if err != nil {
		return roleState{}, fmt.Errorf("get role %s: %w", name, err)
	}
	r := out.Role
	trust, err := decodePolicy(sdkaws.ToString(r.AssumeRolePolicyDocument))
	if err != nil {
		return roleState{}, fmt.Errorf("role %s trust policy: %w", name, err)
	}
	a := roleState{
		Exists: true, Name: sdkaws.ToString(r.RoleName), ARN: sdkaws.ToString(r.Arn), Path: sdkaws.ToString(r.Path), Trust: trust,
		MaxSession: sdkaws.ToInt32(r.MaxSessionDuration), Tags: bridgeaws.IAMTagMap(r.Tags),
		Inline: map[string]string{},
	}
	// IAM may end a page early with IsTruncated set: loop on IsTruncated,
	// never on the page size.
	var marker *string
	for {
		page, err := s.iam.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: &name, Marker: marker})
		if err != nil {
			return roleState{}, fmt.Errorf("list inline policies of role %s: %w", name, err)
		}
		for _, p := range page.PolicyNames {
			got, err := s.iam.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: &name, PolicyName: &p})
			if bridgeaws.Classify(err) == bridgeaws.NotFound {
				continue
			}
			if err != nil {
				return roleState{}, fmt.Errorf("get inline policy %s of role %s: %w", p, name, err)
			}
			doc, err := decodePolicy(sdkaws.ToString(got.PolicyDocument))
			if err != nil {
				return roleState{}, fmt.Errorf("inline policy %s of role %s: %w", p, name, err)
			}
			a.Inline[p] = doc
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	marker = nil
	for {
		page, err := s.iam.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: &name, Marker: marker})
		if err != nil {
			return roleState{}, fmt.Errorf("list attached policies of role %s: %w", name, err)
		}
		for _, p := range page.AttachedPolicies {
			a.Managed = append(a.Managed, sdkaws.ToString(p.PolicyArn))
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	slices.Sort(a.Managed)
	return a, nil
}
