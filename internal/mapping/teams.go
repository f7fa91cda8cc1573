package mapping

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

// teamInfo is a team's names and ARNs, computed once per explicit team, or
// per call for a team teamsFrom discovers (a few string joins).
type teamInfo struct {
	name            string
	priority        int
	order           int // position in mapping.teams; 0 for teamsFrom
	settings        config.TeamSettings
	path            string
	federationName  string
	federationARN   string
	executionName   string
	executionARN    string
	sessionDuration time.Duration
	samlRole        string
}

func (t *teamInfo) identity(tags []Tag) TeamIdentity {
	return TeamIdentity{
		Name:               t.name,
		Priority:           t.priority,
		FederationRoleName: t.federationName,
		FederationRoleARN:  t.federationARN,
		ExecutionRoleName:  t.executionName,
		ExecutionRoleARN:   t.executionARN,
		SessionDuration:    t.sessionDuration,
		SAMLRole:           t.samlRole,
		SessionTags:        tags,
	}
}

// newTeam computes a team's names and checks them. The configuration check
// already did so for explicit teams; a discovered team's name comes from a
// group's displayName and is checked here, on every use.
func (m *Mapping) newTeam(name string, order int) (*teamInfo, error) {
	if err := config.CheckTeamName(name); err != nil {
		return nil, &TeamError{Team: name, Rule: err.Error()}
	}
	s := m.cfg.TeamSettings(name)
	t := &teamInfo{
		name:            name,
		priority:        m.cfg.TeamPriority(name),
		order:           order,
		settings:        s,
		path:            config.ExpandTeam(s.Path, name),
		federationName:  config.ExpandTeam(s.FederationRole.Name, name),
		executionName:   config.ExpandTeam(s.ExecutionRole.Name, name),
		sessionDuration: s.SessionDuration.Duration,
	}
	for _, check := range []struct {
		what string
		err  error
	}{
		{"federation role name", config.CheckRoleName(t.federationName)},
		{"execution role name", config.CheckRoleName(t.executionName)},
		{"path", config.CheckPath(t.path)},
	} {
		if check.err != nil {
			return nil, &TeamError{Team: name, Rule: check.what + ": " + check.err.Error()}
		}
	}
	a := &m.aws
	t.federationARN = config.RoleARN(a.Partition, a.AccountID, t.path, t.federationName)
	t.executionARN = config.RoleARN(a.Partition, a.AccountID, t.path, t.executionName)
	t.samlRole = t.federationARN + "," + m.providerARN
	return t, nil
}

// indexTeams precomputes the explicit teams and the group lookups.
func (m *Mapping) indexTeams() error {
	if len(m.cfg.Teams) == 0 {
		return nil
	}
	m.byDisplay = map[string]*teamInfo{}
	m.byExternal = map[string]*teamInfo{}
	for i, ct := range m.cfg.Teams {
		t, err := m.newTeam(ct.Name, i)
		if err != nil {
			return err
		}
		m.teams = append(m.teams, t)
		for _, g := range ct.Groups {
			if g.DisplayName != "" {
				m.byDisplay[strings.ToLower(g.DisplayName)] = t
			} else {
				m.byExternal[g.ExternalID] = t
			}
		}
	}
	return nil
}

// teamOf returns the team a group makes, or nil.
func (m *Mapping) teamOf(g store.Group) (*teamInfo, error) {
	if tf := m.cfg.TeamsFrom; tf != nil {
		name, ok := tf.TeamOfDisplayName(g.DisplayName)
		if !ok {
			return nil, nil
		}
		t, err := m.newTeam(name, 0)
		var te *TeamError
		if errors.As(err, &te) {
			te.Group = g.DisplayName
		}
		if err != nil {
			return nil, err
		}
		return t, nil
	}
	// externalId first: it survives a rename of the group in the IdP.
	if g.ExternalID != "" {
		if t := m.byExternal[g.ExternalID]; t != nil {
			return t, nil
		}
	}
	return m.byDisplay[strings.ToLower(g.DisplayName)], nil
}

// teamsOf returns the user's teams in priority order, after the multi-team
// policy.
func (m *Mapping) teamsOf(groups []store.Group) ([]*teamInfo, error) {
	var teams []*teamInfo
	for _, g := range groups {
		t, err := m.teamOf(g)
		if err != nil {
			return nil, err
		}
		if t != nil && !slices.ContainsFunc(teams, func(o *teamInfo) bool { return o.name == t.name }) {
			teams = append(teams, t)
		}
	}
	if len(teams) == 0 {
		return nil, ErrNoTeam
	}
	// Highest priority first; ties go to the team listed first in the
	// file, then (for teamsFrom) to the name, so that the order never
	// depends on the order of the groups.
	slices.SortFunc(teams, func(a, b *teamInfo) int {
		return cmp.Or(cmp.Compare(b.priority, a.priority), cmp.Compare(a.order, b.order), strings.Compare(a.name, b.name))
	})
	switch m.cfg.MultiTeam {
	case config.MultiTeamChoose:
		return teams, nil
	case config.MultiTeamDeny:
		if len(teams) > 1 {
			names := make([]string, len(teams))
			for i, t := range teams {
				names[i] = t.name
			}
			return nil, &MultipleTeamsError{Teams: names}
		}
	}
	return teams[:1], nil
}

// TeamOf returns the name of the team a group makes, if any. The sync uses
// it to find every team that needs roles.
func (m *Mapping) TeamOf(g store.Group) (string, bool, error) {
	t, err := m.teamOf(g)
	if err != nil || t == nil {
		return "", false, err
	}
	return t.name, true, nil
}

// Teams lists the teams the configuration names: every explicit team, or
// with teamsFrom the teams that have overrides.
func (m *Mapping) Teams() []string {
	if m.cfg.TeamsFrom != nil {
		return sortedKeys(m.cfg.TeamsFrom.Overrides)
	}
	names := make([]string, len(m.teams))
	for i, t := range m.teams {
		names[i] = t.name
	}
	return names
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

// Team is what the sync keeps in AWS for one team.
type Team struct {
	Name string
	// Path is the IAM path of both roles.
	Path string
	// MaxSessionDuration is the federation role's MaxSessionDuration.
	MaxSessionDuration time.Duration
	FederationRole     Role
	ExecutionRole      Role
}

// Role is one IAM role of a team, without its trust policy (which the sync
// builds from the SAML provider and the sign-in endpoints).
type Role struct {
	Name              string
	ARN               string
	ManagedPolicyARNs []string
	// InlinePolicies are sorted by name.
	InlinePolicies []Policy
}

// Policy is an inline policy, rendered for the team.
type Policy struct {
	Name     string
	Document string
}

// Team returns the AWS resources of the named team. With explicit teams
// the name must be one of them; with teamsFrom any valid name is a team.
func (m *Mapping) Team(name string) (Team, error) {
	var t *teamInfo
	if m.cfg.TeamsFrom == nil {
		i := slices.IndexFunc(m.teams, func(t *teamInfo) bool { return t.name == name })
		if i < 0 {
			return Team{}, &TeamError{Team: name, Rule: "no such team in mapping.teams"}
		}
		t = m.teams[i]
	} else {
		var err error
		if t, err = m.newTeam(name, 0); err != nil {
			return Team{}, err
		}
	}
	out := Team{Name: name, Path: t.path, MaxSessionDuration: t.settings.MaxSessionDuration.Duration}
	var err error
	if out.FederationRole, err = m.role(t, t.federationName, t.federationARN, t.settings.FederationRole); err != nil {
		return Team{}, err
	}
	if out.ExecutionRole, err = m.role(t, t.executionName, t.executionARN, t.settings.ExecutionRole); err != nil {
		return Team{}, err
	}
	return out, nil
}

func (m *Mapping) role(t *teamInfo, name, arn string, rs config.RoleSettings) (Role, error) {
	a := &m.aws
	r := Role{Name: name, ARN: arn}
	for _, tmpl := range rs.ManagedPolicyARNs {
		r.ManagedPolicyARNs = append(r.ManagedPolicyARNs, config.ExpandARN(tmpl, a.Partition, a.AccountID, t.name))
	}
	data := config.PolicyData{Team: t.name, AccountID: a.AccountID, DomainID: a.SageMaker.DomainID, Region: a.Region, Partition: a.Partition}
	for _, path := range rs.PolicyFiles {
		p, ok := m.comp.Policies[path]
		if !ok {
			return Role{}, fmt.Errorf("team %q: policy file %s was not loaded with the configuration", t.name, path)
		}
		doc, err := p.Render(data)
		if err != nil {
			return Role{}, &TeamError{Team: t.name, Rule: err.Error()}
		}
		r.InlinePolicies = append(r.InlinePolicies, Policy{Name: p.Name, Document: doc})
	}
	slices.SortFunc(r.InlinePolicies, func(a, b Policy) int { return strings.Compare(a.Name, b.Name) })
	return r, nil
}
