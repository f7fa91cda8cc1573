package sync

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
)

// Profile statuses (SageMaker UserProfileStatus).
const (
	profilePending      = "Pending"
	profileInService    = "InService"
	profileUpdating     = "Updating"
	profileDeleting     = "Deleting"
	profileFailed       = "Failed"
	profileUpdateFailed = "Update_Failed"
	profileDeleteFailed = "Delete_Failed"
)

// profileSpec is a desired user profile.
type profileSpec struct {
	Domain string `json:"domain"`
	Name   string `json:"name"`
	// ExecutionRole is UserSettings.ExecutionRole; "" leaves it alone (a
	// suspended profile keeps its role).
	ExecutionRole string `json:"executionRole,omitempty"`
	// Tags must have these values; Absent keys must not be there (a
	// suspended profile loses its userId tag, so ABAC lets nobody open it).
	Tags   map[string]string `json:"tags"`
	Absent []string          `json:"absent,omitempty"`
}

// ProfileState is a user profile as SageMaker has it.
type ProfileState struct {
	Exists        bool
	ARN           string
	Status        string
	FailureReason string
	ExecutionRole string
	Tags          map[string]string
}

// planProfile is pure: the writes that make a equal d, or wait when the
// profile is in a transitional state (SageMaker refuses updates until it
// settles), or an error: ErrConflict when the profile lacks the ownership
// tag, a plain error when it failed and a person must look.
func planProfile(d profileSpec, a ProfileState, owner bridgeaws.Owner) (acts []Action, wait bool, err error) {
	if !a.Exists {
		detail := "tags " + strings.Join(slices.Sorted(maps.Keys(d.Tags)), ",")
		if d.ExecutionRole != "" {
			detail = "ExecutionRole " + d.ExecutionRole + "; " + detail
		}
		return []Action{{Op: "CreateUserProfile", Resource: d.Name, Detail: detail}}, false, nil
	}
	if !owner.Owns(a.Tags) {
		return nil, false, fmt.Errorf("%w: user profile %s exists without the ownership tag %s=%s", ErrConflict, d.Name, owner.Key, owner.Value)
	}
	switch a.Status {
	case profilePending, profileUpdating, profileDeleting:
		return nil, true, nil
	case profileFailed, profileDeleteFailed:
		return nil, false, fmt.Errorf("user profile %s is %s: %s", d.Name, a.Status, a.FailureReason)
	}
	if d.ExecutionRole != "" && (a.ExecutionRole != d.ExecutionRole || a.Status == profileUpdateFailed) {
		acts = append(acts, Action{Op: "UpdateUserProfile", Resource: d.Name, Detail: "ExecutionRole " + d.ExecutionRole})
	}
	if keys := tagsToSet(d.Tags, a.Tags, false); len(keys) > 0 {
		acts = append(acts, Action{Op: "AddTags", Resource: d.Name, Detail: strings.Join(keys, ",")})
	}
	var remove []string
	for _, k := range d.Absent {
		if _, ok := a.Tags[k]; ok {
			remove = append(remove, k)
		}
	}
	if len(remove) > 0 {
		slices.Sort(remove)
		acts = append(acts, Action{Op: "DeleteTags", Resource: d.Name, Detail: strings.Join(remove, ",")})
	}
	return acts, false, nil
}
