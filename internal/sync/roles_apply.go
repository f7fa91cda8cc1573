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

// applyRole makes one write of a role plan. It returns the role's ARN when
// the write reports it, and settled false when the write met a role that
// appeared or vanished since it was read, or a concurrent change: the key
// is then read again, ownership check included, rather than failed.
// Removing what is already gone counts as done.
func (s *Syncer) applyRole(ctx context.Context, d roleSpec, act Action) (arn string, settled bool, err error) {
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
		if out, err = s.iam.CreateRole(ctx, in); err == nil {
			arn = sdkaws.ToString(out.Role.Arn)
		}
	case "UpdateAssumeRolePolicy":
		_, err = s.iam.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: name, PolicyDocument: &d.Trust})
	case "UpdateRole":
		_, err = s.iam.UpdateRole(ctx, &iam.UpdateRoleInput{RoleName: name, MaxSessionDuration: &d.MaxSession})
	case "TagRole":
		// TagRole overwrites keys it names and leaves other tags alone.
		_, err = s.iam.TagRole(ctx, &iam.TagRoleInput{RoleName: name, Tags: bridgeaws.IAMTags(d.Tags)})
	case "PutRolePolicy":
		doc := d.Inline[act.Detail]
		_, err = s.iam.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: name, PolicyName: &act.Detail, PolicyDocument: &doc})
	case "AttachRolePolicy":
		_, err = s.iam.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: name, PolicyArn: &act.Detail})
	case "DeleteRolePolicy":
		_, err = s.iam.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: name, PolicyName: &act.Detail})
	case "DetachRolePolicy":
		_, err = s.iam.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: name, PolicyArn: &act.Detail})
	case "DeleteRole":
		_, err = s.iam.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: name})
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
