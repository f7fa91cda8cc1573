package config

import (
	"strconv"
	"strings"
	"time"
)

// Mapping turns a SCIM user and its groups into an AWS identity: the
// userId, the team(s), the roles and the session tags. internal/mapping
// evaluates it; this package only checks it and compiles its expressions.
type Mapping struct {
	// UserID is a CEL expression over user and groups whose result,
	// sanitised, is the userId: the SageMaker profile name, the
	// RoleSessionName, the SourceIdentity and the userId tag.
	UserID   Expr     `yaml:"userId"`
	Sanitize Sanitize `yaml:"sanitize"`
	// MultiTeam is what a user in several teams gets: first (the team of
	// highest priority), choose (every team; the sign-in picker decides) or
	// deny (refused until the groups are fixed).
	MultiTeam string `yaml:"multiTeam"`
	// Teams lists the teams and the groups that make them. Exactly one of
	// Teams and TeamsFrom is set.
	Teams     []Team     `yaml:"teams"`
	TeamsFrom *TeamsFrom `yaml:"teamsFrom"`
	// SessionTags maps a session tag key to a CEL expression over user,
	// groups, userId and team.
	SessionTags map[string]*Expr `yaml:"sessionTags"`
	// TransitiveTagKeys are the session tags that persist into chained
	// role sessions.
	TransitiveTagKeys []string `yaml:"transitiveTagKeys"`
	// Defaults are the settings of every team that does not override them.
	Defaults TeamSettings `yaml:"defaults"`
}

// Sanitize says how an expression's result becomes a valid userId:
// ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$ (a SageMaker profile name), which is
// also a valid RoleSessionName, SourceIdentity and tag value when it has at
// least two characters.
type Sanitize struct {
	// Lowercase folds ASCII letters to lower case. SageMaker lowercases
	// some ARNs, and a profile whose name differs in case from its ARN
	// cannot be tagged.
	Lowercase bool `yaml:"lowercase"`
	// Transliterate turns Latin letters with diacritics into ASCII
	// (é -> e, ß -> ss) instead of treating them as separators.
	Transliterate bool `yaml:"transliterate"`
	// ReplaceWith is what a run of other characters (. _ @ spaces ...)
	// becomes: "-" or "" (dropped).
	ReplaceWith string `yaml:"replaceWith"`
	// MaxLength is the longest userId, 2 to 63.
	MaxLength int `yaml:"maxLength"`
	// TooLong is what happens to a longer value: hash (keep a prefix and
	// add 8 hex digits of its SHA-256, so distinct values stay distinct),
	// truncate, or refuse.
	TooLong string `yaml:"tooLong"`
}

// Team is a team with the groups that make it.
type Team struct {
	Name   string     `yaml:"name"`
	Groups []GroupRef `yaml:"groups"`
	// TeamOverride is inline: priority and settings sit beside name.
	TeamOverride `yaml:",inline"`
}

// GroupRef names a SCIM group by exactly one of its displayName (compared
// case-insensitively, as the store indexes it) or its externalId (exact).
type GroupRef struct {
	DisplayName string `yaml:"displayName"`
	ExternalID  string `yaml:"externalId"`
}

// TeamsFrom makes a team of every group whose displayName starts with
// DisplayNamePrefix, named by the rest of the displayName.
type TeamsFrom struct {
	DisplayNamePrefix string `yaml:"displayNamePrefix"`
	// Overrides holds priority and settings by team name, for teams that
	// differ from the defaults.
	Overrides map[string]TeamOverride `yaml:"overrides"`
}

// TeamOverride is a team's priority and the settings it changes.
type TeamOverride struct {
	// Priority orders a user's teams: the highest comes first (multiTeam
	// first takes it; choose lists it first). Default 0.
	Priority     int `yaml:"priority"`
	TeamSettings `yaml:",inline"`
}

// TeamSettings are per-team settings. In a team, an empty value inherits
// the default; a list that is written, even as [], replaces it.
type TeamSettings struct {
	// Path is the IAM path of both roles; {team} is the team name.
	Path string `yaml:"path"`
	// SessionDuration is the SAML SessionDuration: how long a console
	// session lasts, 15m to 12h.
	SessionDuration Duration `yaml:"sessionDuration"`
	// MaxSessionDuration is the federation role's MaxSessionDuration (the
	// ceiling for API credentials), 1h to 12h and at least SessionDuration.
	// Zero means the larger of SessionDuration and 1h.
	MaxSessionDuration Duration     `yaml:"maxSessionDuration"`
	FederationRole     RoleSettings `yaml:"federationRole"`
	ExecutionRole      RoleSettings `yaml:"executionRole"`
}

// RoleSettings describe one of a team's two roles.
type RoleSettings struct {
	// Name is a template: {team} is the team name.
	Name string `yaml:"name"`
	// ManagedPolicyARNs are attached; {partition}, {account} and {team}
	// are filled in.
	ManagedPolicyARNs []string `yaml:"managedPolicyArns"`
	// PolicyFiles are inline policy documents, each a Go text/template
	// with .Team, .AccountID, .DomainID, .Region and .Partition. A
	// relative path is relative to the configuration file's directory. The
	// inline policy is named after the file, without .json and .tmpl.
	PolicyFiles []string `yaml:"policyFiles"`
}

// Multi-team policies.
const (
	MultiTeamFirst  = "first"
	MultiTeamChoose = "choose"
	MultiTeamDeny   = "deny"
)

// Too-long policies.
const (
	TooLongHash     = "hash"
	TooLongTruncate = "truncate"
	TooLongRefuse   = "refuse"
)

// Defaults of the mapping section.
const (
	DefaultPath               = "/sagebridge/"
	DefaultSessionDuration    = time.Hour
	DefaultFederationRoleName = "sagebridge-{team}"
	DefaultExecutionRoleName  = "sagebridge-{team}-execution"
)

func (m *Mapping) setDefaults() {
	*m = Mapping{
		Sanitize: Sanitize{
			Lowercase:     true,
			Transliterate: true,
			ReplaceWith:   "-",
			MaxLength:     MaxProfileNameLen,
			TooLong:       TooLongHash,
		},
		MultiTeam: MultiTeamFirst,
		SessionTags: map[string]*Expr{
			"userId": {Source: VarUserID},
			"team":   {Source: VarTeam},
		},
		Defaults: TeamSettings{
			Path:            DefaultPath,
			SessionDuration: Duration{DefaultSessionDuration},
			FederationRole:  RoleSettings{Name: DefaultFederationRoleName},
			ExecutionRole:   RoleSettings{Name: DefaultExecutionRoleName},
		},
	}
}

// TeamSettings returns the settings of the named team: the defaults with
// its own overrides (from teams, or from teamsFrom.overrides) applied, and
// MaxSessionDuration filled in.
func (m *Mapping) TeamSettings(team string) TeamSettings {
	s, _ := m.teamSettings(team)
	return s
}

// TeamPriority returns the named team's priority.
func (m *Mapping) TeamPriority(team string) int {
	if o, _, ok := m.override(team); ok {
		return o.Priority
	}
	return 0
}

// override finds the team's own entry and the field path it came from.
func (m *Mapping) override(team string) (TeamOverride, string, bool) {
	for i, t := range m.Teams {
		if t.Name == team {
			return t.TeamOverride, "mapping.teams[" + strconv.Itoa(i) + "]", true
		}
	}
	if m.TeamsFrom != nil {
		if o, ok := m.TeamsFrom.Overrides[team]; ok {
			return o, "mapping.teamsFrom.overrides." + team, true
		}
	}
	return TeamOverride{}, "", false
}

// teamSettings merges and also says, per setting, which field of the file
// it came from, so that a problem with a default is reported at the
// default and a problem with an override at the override.
func (m *Mapping) teamSettings(team string) (TeamSettings, map[string]string) {
	s := m.Defaults
	from := map[string]string{}
	const def = "mapping.defaults."
	for _, k := range settingKeys {
		from[k] = def + k
	}
	o, path, ok := m.override(team)
	if ok {
		set := func(key string, use bool) bool {
			if use {
				from[key] = path + "." + key
			}
			return use
		}
		if set("path", o.Path != "") {
			s.Path = o.Path
		}
		if set("sessionDuration", o.SessionDuration.Duration != 0) {
			s.SessionDuration = o.SessionDuration
		}
		if set("maxSessionDuration", o.MaxSessionDuration.Duration != 0) {
			s.MaxSessionDuration = o.MaxSessionDuration
		}
		s.FederationRole = mergeRole(s.FederationRole, o.FederationRole, "federationRole", set)
		s.ExecutionRole = mergeRole(s.ExecutionRole, o.ExecutionRole, "executionRole", set)
	}
	if s.MaxSessionDuration.Duration == 0 {
		s.MaxSessionDuration = Duration{max(s.SessionDuration.Duration, MinRoleMaxSession*time.Second)}
		from["maxSessionDuration"] = from["sessionDuration"]
	}
	return s, from
}

var settingKeys = []string{
	"path", "sessionDuration", "maxSessionDuration",
	"federationRole.name", "federationRole.managedPolicyArns", "federationRole.policyFiles",
	"executionRole.name", "executionRole.managedPolicyArns", "executionRole.policyFiles",
}

func mergeRole(base, o RoleSettings, key string, set func(string, bool) bool) RoleSettings {
	if set(key+".name", o.Name != "") {
		base.Name = o.Name
	}
	// nil means "not written"; [] is written and replaces.
	if set(key+".managedPolicyArns", o.ManagedPolicyARNs != nil) {
		base.ManagedPolicyARNs = o.ManagedPolicyARNs
	}
	if set(key+".policyFiles", o.PolicyFiles != nil) {
		base.PolicyFiles = o.PolicyFiles
	}
	return base
}

// TeamOfDisplayName applies teamsFrom to a group's displayName: the team
// name and whether the group is a team at all. The prefix is compared
// case-insensitively, as displayNames are unique regardless of case; the
// name keeps its case and is not checked here.
func (t *TeamsFrom) TeamOfDisplayName(displayName string) (string, bool) {
	n := len(t.DisplayNamePrefix)
	if len(displayName) < n || !strings.EqualFold(displayName[:n], t.DisplayNamePrefix) {
		return "", false
	}
	return displayName[len(t.DisplayNamePrefix):], true
}
