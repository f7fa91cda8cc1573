package sync

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/config"
)

// roleSpec is one desired IAM role of a team.
type roleSpec struct {
	Name        string `json:"name"`
	Path        string `json:"path"`
	Description string `json:"description"`
	Trust       string `json:"trust"`
	// MaxSession in seconds; 0 leaves IAM's value alone.
	MaxSession int32             `json:"maxSession,omitempty"`
	Tags       map[string]string `json:"tags"`
	// Managed are the attached managed policy ARNs, sorted.
	Managed []string `json:"managed"`
	// Inline maps inline policy names to their documents.
	Inline map[string]string `json:"inline"`
}

// roleState is a role as IAM has it; documents are URL-decoded.
type roleState struct {
	Exists bool
	// Name is the role's name as IAM has it: names are unique regardless
	// of case, so it may differ from the desired name in case.
	Name       string
	ARN        string
	Path       string
	Trust      string
	MaxSession int32
	Tags       map[string]string
	Managed    []string
	Inline     map[string]string
}

// planRole is pure: the writes that make the role a equal d. Deletions
// come before additions so that a role at its policy quota can be changed.
// A role without the ownership tag is a conflict and gets no action.
func planRole(d roleSpec, a roleState, owner bridgeaws.Owner) ([]Action, error) {
	if !a.Exists {
		acts := []Action{{Op: "CreateRole", Resource: d.Name}}
		for _, name := range slices.Sorted(maps.Keys(d.Inline)) {
			acts = append(acts, Action{Op: "PutRolePolicy", Resource: d.Name, Detail: name})
		}
		for _, arn := range d.Managed {
			acts = append(acts, Action{Op: "AttachRolePolicy", Resource: d.Name, Detail: arn})
		}
		return acts, nil
	}
	if !ownsFold(owner, a.Tags) {
		return nil, fmt.Errorf("%w: role %s exists without the ownership tag %s=%s", ErrConflict, d.Name, owner.Key, owner.Value)
	}
	if a.Name != "" && a.Name != d.Name {
		// Two teams whose names differ only in case would otherwise
		// share, and fight over, one role.
		return nil, fmt.Errorf("%w: role %s is taken by role %s (IAM role names are unique regardless of case)", ErrConflict, d.Name, a.Name)
	}
	if a.Path != d.Path {
		// Name and path are immutable and moving means delete and
		// create, which would cut every session of the team: a person
		// decides.
		return nil, fmt.Errorf("role %s has path %s, the configuration says %s; IAM cannot move a role: delete it to let the sync recreate it, or restore the path", d.Name, a.Path, d.Path)
	}
	var acts []Action
	if !policiesEqual(a.Trust, d.Trust) {
		acts = append(acts, Action{Op: "UpdateAssumeRolePolicy", Resource: d.Name})
	}
	if d.MaxSession != 0 && a.MaxSession != d.MaxSession {
		acts = append(acts, Action{Op: "UpdateRole", Resource: d.Name, Detail: fmt.Sprintf("MaxSessionDuration %d", d.MaxSession)})
	}
	if keys := tagsToSet(d.Tags, a.Tags, true); len(keys) > 0 {
		acts = append(acts, Action{Op: "TagRole", Resource: d.Name, Detail: strings.Join(keys, ",")})
	}
	for _, name := range slices.Sorted(maps.Keys(a.Inline)) {
		if _, ok := d.Inline[name]; !ok {
			acts = append(acts, Action{Op: "DeleteRolePolicy", Resource: d.Name, Detail: name})
		}
	}
	for _, name := range slices.Sorted(maps.Keys(d.Inline)) {
		if doc, ok := a.Inline[name]; !ok || !policiesEqual(doc, d.Inline[name]) {
			acts = append(acts, Action{Op: "PutRolePolicy", Resource: d.Name, Detail: name})
		}
	}
	for _, arn := range a.Managed {
		if !slices.Contains(d.Managed, arn) {
			acts = append(acts, Action{Op: "DetachRolePolicy", Resource: d.Name, Detail: arn})
		}
	}
	for _, arn := range d.Managed {
		if !slices.Contains(a.Managed, arn) {
			acts = append(acts, Action{Op: "AttachRolePolicy", Resource: d.Name, Detail: arn})
		}
	}
	return acts, nil
}

// checkRoleLimits applies IAM's size and count quotas to a desired role
// before any call, so that a team whose policies grew too large gets an
// error naming the team and the limit instead of a LimitExceeded midway
// through an apply.
func checkRoleLimits(team string, d roleSpec, managedQuota int) error {
	if n := nonSpace(d.Trust); n > maxTrustPolicySize {
		return fmt.Errorf("team %s: role %s: the trust policy is %d characters; IAM allows %d by default (ACLSizePerRole)", team, d.Name, n, maxTrustPolicySize)
	}
	if len(d.Managed) > managedQuota {
		return fmt.Errorf("team %s: role %s: %d managed policies; the account allows %d per role (aws.quotas.managedPoliciesPerRole)", team, d.Name, len(d.Managed), managedQuota)
	}
	total := 0
	for _, doc := range d.Inline {
		total += nonSpace(doc)
	}
	if total > config.MaxInlinePolicies {
		return fmt.Errorf("team %s: role %s: inline policies total %d characters; IAM allows %d per role", team, d.Name, total, config.MaxInlinePolicies)
	}
	if len(d.Tags) > config.MaxTags {
		return fmt.Errorf("team %s: role %s: %d tags; IAM allows %d", team, d.Name, len(d.Tags), config.MaxTags)
	}
	return nil
}

// maxTrustPolicySize is IAM's default ACLSizePerRole quota.
const maxTrustPolicySize = 2048

// nonSpace counts what IAM's size quotas count: characters other than
// white space.
func nonSpace(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// planRoleDelete is pure: the writes that delete the role, policies first
// since IAM refuses to delete a role that still has any (DeleteConflict).
func planRoleDelete(name string, a roleState, owner bridgeaws.Owner) ([]Action, error) {
	if !a.Exists {
		return nil, nil
	}
	if !ownsFold(owner, a.Tags) {
		return nil, fmt.Errorf("%w: role %s is no longer wanted but has no ownership tag %s=%s; left in place", ErrConflict, name, owner.Key, owner.Value)
	}
	var acts []Action
	for _, p := range slices.Sorted(maps.Keys(a.Inline)) {
		acts = append(acts, Action{Op: "DeleteRolePolicy", Resource: name, Detail: p})
	}
	for _, arn := range a.Managed {
		acts = append(acts, Action{Op: "DetachRolePolicy", Resource: name, Detail: arn})
	}
	return append(acts, Action{Op: "DeleteRole", Resource: name}), nil
}

// tagsToSet returns, sorted, the desired tag keys whose value differs from
// (or is missing in) actual. IAM tag keys compare case-insensitively.
func tagsToSet(desired, actual map[string]string, fold bool) []string {
	var keys []string
	for k, v := range desired {
		got, ok := lookupTag(actual, k, fold)
		if !ok || got != v {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

func lookupTag(tags map[string]string, key string, fold bool) (string, bool) {
	if v, ok := tags[key]; ok || !fold {
		return v, ok
	}
	for k, v := range tags {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}
	return "", false
}

func ownsFold(owner bridgeaws.Owner, tags map[string]string) bool {
	v, ok := lookupTag(tags, owner.Key, true)
	return ok && v == owner.Value
}
