package awsemu

import (
	"encoding/json"
	"maps"
	"slices"
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
		st.Roles = append(st.Roles, roleState(e.iam.roles[k]))
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
		st.Profiles = append(st.Profiles, e.profileState(p))
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

// roleState copies a role.
func roleState(r *role) RoleState {
	return RoleState{
		Name: r.name, Path: r.path, Arn: r.arn, RoleID: r.id, TrustPolicy: r.trust,
		Description: r.description, MaxSessionDuration: r.maxSession, PermissionsBoundary: r.boundary,
		Tags: copyTags(r.tags), InlinePolicies: maps.Clone(r.inline), AttachedPolicies: slices.Clone(r.attached),
		Created: r.created, VisibleToSageMaker: r.propagated != "",
	}
}

// profileState copies a profile and its tags.
func (e *Emulator) profileState(p *profile) ProfileState {
	role, _ := executionRole(p.settings)
	settings := make(map[string]json.RawMessage, len(p.settings))
	for k, v := range p.settings {
		settings[k] = slices.Clone(v)
	}
	return ProfileState{
		DomainID: p.domain, Name: p.name, Arn: p.arn, Status: p.status, FailureReason: p.failure,
		ExecutionRole: role, UserSettings: settings, Tags: copyTags(e.sm.tags[p.arn]),
		Created: p.created, Modified: p.modified,
	}
}

// Role returns one role by name (any case), for tests. Like Snapshot it
// observes nothing; unlike it, it copies only that role, so a test or a
// benchmark that checks every one of many resources stays linear.
func (e *Emulator) Role(name string) (RoleState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	r, ok := e.iam.roles[strings.ToLower(name)]
	if !ok {
		return RoleState{}, false
	}
	return roleState(r), true
}

// Profile returns one user profile, for tests, copying only it (see Role).
func (e *Emulator) Profile(domainID, name string) (ProfileState, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	p, ok := e.sm.profiles[profileKey{domainID, name}]
	if !ok {
		return ProfileState{}, false
	}
	return e.profileState(p), true
}
