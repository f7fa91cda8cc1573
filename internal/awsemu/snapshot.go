package awsemu

import (
	"encoding/json"
	"sort"
	"strings"
	"time"
)

// State is a copy of everything the emulator holds, for tests to inspect
// without going through the API (and so without counting calls or moving
// transitional states along). Slices are sorted by name.
type State struct {
	Roles         []RoleState
	SAMLProviders []SAMLProviderState
	Domains       []Domain
	Profiles      []ProfileState
	Spaces        []SpaceState
	Apps          []AppState
}

// RoleState is an IAM role. Policy documents are as IAM stores them (decoded,
// reformatted).
type RoleState struct {
	Name, Path, Arn, RoleID string
	TrustPolicy             string
	Description             string
	MaxSessionDuration      int
	PermissionsBoundary     string
	Tags                    []Tag
	InlinePolicies          map[string]string
	AttachedPolicies        []string
	Created                 time.Time
	// VisibleToSageMaker: the role has propagated (reference rule 18).
	VisibleToSageMaker bool
}

// SAMLProviderState is an IAM SAML provider.
type SAMLProviderState struct {
	Name, Arn, Metadata string
	Tags                []Tag
	Created, ValidUntil time.Time
}

// ProfileState is a SageMaker user profile.
type ProfileState struct {
	DomainID, Name, Arn   string
	Status, FailureReason string
	ExecutionRole         string
	UserSettings          map[string]json.RawMessage
	Tags                  []Tag
	Created, Modified     time.Time
}

// SpaceState is a SageMaker space.
type SpaceState struct {
	DomainID, Name, Arn, Owner, SharingType, Status string
	Tags                                            []Tag
}

// AppState is a SageMaker app; Deleted apps are included.
type AppState struct {
	DomainID, UserProfileName, SpaceName, AppType, AppName, Arn, Status string
	Tags                                                                []Tag
}

// Snapshot returns a copy of the state.
func (e *Emulator) Snapshot() State {
	e.mu.Lock()
	defer e.mu.Unlock()
	var st State
	for _, k := range e.iam.roleKeys {
		r := e.iam.roles[k]
		inline := make(map[string]string, len(r.inline))
		for n, d := range r.inline {
			inline[n] = d
		}
		st.Roles = append(st.Roles, RoleState{
			Name: r.name, Path: r.path, Arn: r.arn, RoleID: r.id, TrustPolicy: r.trust,
			Description: r.description, MaxSessionDuration: r.maxSession, PermissionsBoundary: r.boundary,
			Tags: copyTags(r.tags), InlinePolicies: inline, AttachedPolicies: append([]string(nil), r.attached...),
			Created: r.created, VisibleToSageMaker: r.propagated != "",
		})
	}
	for _, p := range e.iam.saml {
		st.SAMLProviders = append(st.SAMLProviders, SAMLProviderState{
			Name: p.name, Arn: p.arn, Metadata: p.metadata, Tags: copyTags(p.tags), Created: p.created, ValidUntil: p.validUntil,
		})
	}
	sort.Slice(st.SAMLProviders, func(i, j int) bool { return st.SAMLProviders[i].Name < st.SAMLProviders[j].Name })
	for _, d := range e.sm.domains {
		st.Domains = append(st.Domains, Domain{ID: d.id, Name: d.name, ExecutionRole: d.executionRole, AuthMode: d.authMode})
	}
	sort.Slice(st.Domains, func(i, j int) bool { return st.Domains[i].ID < st.Domains[j].ID })
	for _, p := range e.sm.order {
		role, _ := executionRole(p.settings)
		settings := make(map[string]json.RawMessage, len(p.settings))
		for k, v := range p.settings {
			settings[k] = append(json.RawMessage(nil), v...)
		}
		st.Profiles = append(st.Profiles, ProfileState{
			DomainID: p.domain, Name: p.name, Arn: p.arn, Status: p.status, FailureReason: p.failure,
			ExecutionRole: role, UserSettings: settings, Tags: copyTags(e.sm.tags[p.arn]),
			Created: p.created, Modified: p.modified,
		})
	}
	sort.Slice(st.Profiles, func(i, j int) bool {
		a, b := st.Profiles[i], st.Profiles[j]
		return a.DomainID < b.DomainID || (a.DomainID == b.DomainID && a.Name < b.Name)
	})
	for _, s := range e.sm.spaceSeq {
		st.Spaces = append(st.Spaces, SpaceState{s.domain, s.name, s.arn, s.owner, s.sharing, s.status, copyTags(e.sm.tags[s.arn])})
	}
	for _, a := range e.sm.apps {
		st.Apps = append(st.Apps, AppState{a.domain, a.profile, a.space, a.typ, a.name, a.arn, a.status, copyTags(e.sm.tags[a.arn])})
	}
	return st
}

func copyTags(tags []Tag) []Tag {
	if tags == nil {
		return nil
	}
	return append([]Tag(nil), tags...)
}

// Role returns one role by name (any case), for tests.
func (e *Emulator) Role(name string) (RoleState, bool) {
	for _, r := range e.Snapshot().Roles {
		if strings.EqualFold(r.Name, name) {
			return r, true
		}
	}
	return RoleState{}, false
}

// Profile returns one user profile, for tests.
func (e *Emulator) Profile(domainID, name string) (ProfileState, bool) {
	for _, p := range e.Snapshot().Profiles {
		if p.DomainID == domainID && p.Name == name {
			return p, true
		}
	}
	return ProfileState{}, false
}
