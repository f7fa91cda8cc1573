package config

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"cel.dev/cel-go/cel"
)

// Compiled is what the mapping needs at run time and what is expensive or
// impure to prepare: the CEL programs (safe for concurrent use) and the
// parsed policy templates. It is built once, when the file is loaded.
type Compiled struct {
	UserID      cel.Program
	SessionTags map[string]cel.Program
	// Policies holds every policy file named in the mapping, keyed by the
	// path as written in the configuration.
	Policies map[string]*PolicyFile
}

// Compile returns the compiled mapping of a configuration: the one built
// when Load or Parse checked the file, or, for a configuration built in
// code, a fresh one (which reads the policy files).
func (c *Config) Compile() (*Compiled, error) {
	if c.compiled != nil {
		return c.compiled, nil
	}
	if c.Mapping == nil || c.AWS == nil {
		return nil, errors.New("compile mapping: the configuration has no mapping and aws sections")
	}
	comp, ps := c.check()
	if len(ps) > 0 {
		return nil, fmt.Errorf("compile mapping:\n%w", ps)
	}
	return comp, nil
}

// sampleTeam stands in for the teams teamsFrom will discover, so that
// templates and policy files are checked even before any group exists.
const sampleTeam = "example"

var (
	multiTeams = []string{MultiTeamFirst, MultiTeamChoose, MultiTeamDeny}
	tooLongs   = []string{TooLongHash, TooLongTruncate, TooLongRefuse}
)

// mappingChecker checks the mapping and aws sections together: role ARNs
// and policy documents need the account and partition.
type mappingChecker struct {
	v    *validator
	m    *Mapping
	a    *AWS
	dir  string // anchors relative policy file paths
	fsys fs.FS  // where policy files are read from; nil: the OS
	comp *Compiled
	// Policy files that failed to load, or to render for some team, by
	// path as written.
	loadErr, bad map[string]error
}

func (c *Config) checkMapping(v *validator) *Compiled {
	m, a := c.Mapping, c.AWS
	switch {
	case m == nil && a == nil:
		return nil
	case m == nil:
		v.add("aws", "needs a mapping section: without one there is nothing to keep in sync")
		a.validate(v)
		return nil
	case a == nil:
		v.add("mapping", "needs an aws section: role ARNs and policies name the account, partition and domain")
	default:
		a.validate(v)
	}
	dir := "."
	if c.Path != "" {
		dir = filepath.Dir(c.Path)
	}
	mc := &mappingChecker{v: v, m: m, a: a, dir: dir, fsys: c.fsys, loadErr: map[string]error{}, bad: map[string]error{},
		comp: &Compiled{SessionTags: map[string]cel.Program{}, Policies: map[string]*PolicyFile{}}}
	if m.UserID.Source == "" {
		v.add("mapping.userId", "is required: a CEL expression over user and groups, such as user.userName.split('@')[0] or user.externalId")
	} else {
		mc.comp.UserID = compile(v, "mapping.userId", m.UserID, userIDExpr)
	}
	m.Sanitize.validate(v)
	v.oneOf("mapping.multiTeam", m.MultiTeam, multiTeams, false)
	teams := mc.teams()
	mc.sessionTags()
	if a != nil {
		mc.settings(teams)
	}
	return mc.comp
}

func (s *Sanitize) validate(v *validator) {
	if s.ReplaceWith != "-" && s.ReplaceWith != "" {
		v.add("mapping.sanitize.replaceWith", fmt.Sprintf("must be \"-\" or \"\" (a profile name holds only letters, digits and hyphens), got %q", s.ReplaceWith))
	}
	if s.MaxLength < MinSessionNameLen || s.MaxLength > MaxProfileNameLen {
		v.add("mapping.sanitize.maxLength", fmt.Sprintf("must be from %d (RoleSessionName minimum) to %d (SageMaker profile name maximum), got %d", MinSessionNameLen, MaxProfileNameLen, s.MaxLength))
	} else if s.TooLong == TooLongHash && s.MaxLength < 10 {
		v.add("mapping.sanitize.maxLength", fmt.Sprintf("must be at least 10 with tooLong: hash (a prefix, a hyphen and 8 hex digits), got %d", s.MaxLength))
	}
	v.oneOf("mapping.sanitize.tooLong", s.TooLong, tooLongs, false)
}

// teams checks the team definitions and returns the team names whose
// settings must be checked.
func (mc *mappingChecker) teams() []string {
	v, m := mc.v, mc.m
	switch {
	case len(m.Teams) > 0 && m.TeamsFrom != nil:
		v.add("mapping.teamsFrom", "set either teams or teamsFrom, not both")
	case len(m.Teams) == 0 && m.TeamsFrom == nil:
		v.add("mapping.teams", "is required: list the teams and their groups, or set teamsFrom to make a team of every group whose displayName starts with a prefix")
	}
	var names []string
	seen := map[string]string{} // lower-cased team name -> where it was defined
	// A duplicate is reported but its settings are still checked, so that
	// every problem shows in one pass.
	claim := func(name, field string) {
		names = append(names, name)
		// IAM role names are unique regardless of case, so two teams whose
		// names differ only in case would fight over one role.
		if first, dup := seen[strings.ToLower(name)]; dup {
			v.add(field, fmt.Sprintf("team %q is already defined at %s (team names are compared case-insensitively, as IAM role names are)", name, first))
			return
		}
		seen[strings.ToLower(name)] = field
	}
	groupOwner := map[string]string{} // "d:"+lower(displayName) or "e:"+externalId -> team
	for i, t := range m.Teams {
		p := fmt.Sprintf("mapping.teams[%d]", i)
		if err := CheckTeamName(t.Name); err != nil {
			v.add(p+".name", err.Error())
		} else {
			claim(t.Name, p+".name")
		}
		if len(t.Groups) == 0 {
			v.add(p+".groups", "must list at least one group (displayName or externalId) whose members are in the team")
		}
		for j, g := range t.Groups {
			gp := fmt.Sprintf("%s.groups[%d]", p, j)
			var key, field, shown string
			switch {
			case (g.DisplayName == "") == (g.ExternalID == ""):
				v.add(gp, "set exactly one of displayName and externalId")
				continue
			case g.DisplayName != "":
				key, field, shown = "d:"+strings.ToLower(g.DisplayName), gp+".displayName", "displayName "+g.DisplayName
			default:
				key, field, shown = "e:"+g.ExternalID, gp+".externalId", "externalId "+g.ExternalID
			}
			if owner, dup := groupOwner[key]; dup {
				v.add(field, fmt.Sprintf("the group with %s is already in team %q; a group makes one team", shown, owner))
				continue
			}
			groupOwner[key] = t.Name
		}
	}
	if tf := m.TeamsFrom; tf != nil {
		if tf.DisplayNamePrefix == "" {
			v.add("mapping.teamsFrom.displayNamePrefix", "is required, such as \"team-\": without one every group would be a team")
		}
		for _, name := range sortedKeys(tf.Overrides) {
			f := "mapping.teamsFrom.overrides." + name
			if err := CheckTeamName(name); err != nil {
				v.add(f, err.Error())
				continue
			}
			claim(name, f)
		}
		if _, dup := seen[sampleTeam]; !dup {
			names = append(names, sampleTeam)
		}
	}
	return names
}

func (mc *mappingChecker) sessionTags() {
	v, m := mc.v, mc.m
	keys := sortedKeys(m.SessionTags)
	if len(keys) > MaxTags {
		v.add("mapping.sessionTags", fmt.Sprintf("has %d tags; AWS accepts at most %d session tags (TAG-3)", len(keys), MaxTags))
	}
	folded := map[string]string{}
	for _, k := range keys {
		f := "mapping.sessionTags." + k
		if err := CheckTagKey(k); err != nil {
			v.add(f, err.Error())
		}
		if other, dup := folded[strings.ToLower(k)]; dup {
			v.add(f, fmt.Sprintf("%q and %q differ only in case; AWS treats tag keys case-insensitively (TAG-4)", other, k))
		}
		folded[strings.ToLower(k)] = k
		e := m.SessionTags[k]
		if e == nil || e.Source == "" {
			v.add(f, "must be a CEL expression over user, groups, userId and team, such as userId")
			continue
		}
		if prg := compile(v, f, *e, sessionTagExpr); prg != nil {
			mc.comp.SessionTags[k] = prg
		}
	}
	if len(m.TransitiveTagKeys) > MaxTags {
		v.add("mapping.transitiveTagKeys", fmt.Sprintf("has %d keys; AWS accepts at most %d (TT-1)", len(m.TransitiveTagKeys), MaxTags))
	}
	seen := map[string]bool{}
	for i, k := range m.TransitiveTagKeys {
		f := fmt.Sprintf("mapping.transitiveTagKeys[%d]", i)
		switch _, ok := m.SessionTags[k]; {
		case seen[k]:
			v.add(f, fmt.Sprintf("%q is listed twice", k))
		case !ok:
			v.add(f, fmt.Sprintf("%q is not a key of mapping.sessionTags; only a session tag can be transitive (TT-2)", k))
		}
		seen[k] = true
	}
}

// settings checks every team's effective settings: role names, path,
// durations, managed policies and policy documents, rendered for that team.
func (mc *mappingChecker) settings(teams []string) {
	v := mc.v
	roleOwner := map[string]string{} // lower-cased role name -> team and role
	done := map[string]bool{}        // lower-cased team names checked
	for _, team := range teams {
		s, from := mc.m.teamSettings(team)
		if bad := unknownPlaceholders(s.Path, "team"); len(bad) > 0 {
			v.add(from["path"], fmt.Sprintf("unknown placeholder %s; a path may use {team}", strings.Join(bad, ", ")))
		} else if err := CheckPath(ExpandTeam(s.Path, team)); err != nil {
			v.add(from["path"], forTeam(s.Path, team, err))
		}
		mc.durations(s, from)
		fed := mc.role(team, s.FederationRole, "federationRole", from)
		exe := mc.role(team, s.ExecutionRole, "executionRole", from)
		if fed != "" && exe != "" && strings.EqualFold(fed, exe) {
			v.add(from["executionRole.name"], fmt.Sprintf("%q is also the federation role's name; the two roles need different names", exe))
			continue
		}
		if (team == sampleTeam && mc.m.TeamsFrom != nil) || done[strings.ToLower(team)] {
			// Not a real team, or a duplicate already reported: its names
			// collide by construction.
			continue
		}
		done[strings.ToLower(team)] = true
		for _, r := range []struct{ name, field, what string }{
			{fed, from["federationRole.name"], "federation role"},
			{exe, from["executionRole.name"], "execution role"},
		} {
			if r.name == "" {
				continue
			}
			what := fmt.Sprintf("the %s of team %q", r.what, team)
			if other, dup := roleOwner[strings.ToLower(r.name)]; dup {
				v.add(r.field, fmt.Sprintf("%s would be %q, which is already %s (IAM role names are unique regardless of case)", what, r.name, other))
			}
			roleOwner[strings.ToLower(r.name)] = what
		}
	}
}

func (mc *mappingChecker) durations(s TeamSettings, from map[string]string) {
	v := mc.v
	sd, md := s.SessionDuration.Duration, s.MaxSessionDuration.Duration
	sdOK := sd%time.Second == 0 && sd >= MinSessionDuration*time.Second && sd <= MaxSessionDuration*time.Second
	if !sdOK {
		v.add(from["sessionDuration"], fmt.Sprintf("must be whole seconds from 15m to 12h (SAML SessionDuration 900-43200), got %s", sd))
	}
	// A derived maxSessionDuration is valid whenever sessionDuration is;
	// judging it would only repeat the sessionDuration problem.
	derived := from["maxSessionDuration"] == from["sessionDuration"]
	switch {
	case derived:
	case md%time.Second != 0 || md < MinRoleMaxSession*time.Second || md > MaxSessionDuration*time.Second:
		v.add(from["maxSessionDuration"], fmt.Sprintf("must be whole seconds from 1h to 12h (IAM role MaxSessionDuration 3600-43200), got %s", md))
	case sdOK && md < sd:
		v.add(from["maxSessionDuration"], fmt.Sprintf("%s is shorter than sessionDuration %s; tools that replay the assertion to AssumeRoleWithSAML would fail (DUR-1)", md, sd))
	}
}

// role checks one role of a team and returns its name, or "" if the name
// is invalid.
func (mc *mappingChecker) role(team string, r RoleSettings, key string, from map[string]string) string {
	v, a := mc.v, mc.a
	name := ""
	nameField := from[key+".name"]
	switch bad := unknownPlaceholders(r.Name, "team"); {
	case len(bad) > 0:
		v.add(nameField, fmt.Sprintf("unknown placeholder %s; a role name may use {team}", strings.Join(bad, ", ")))
	case !strings.Contains(r.Name, "{team}"):
		v.add(nameField, fmt.Sprintf("%q must contain {team}: every team needs roles of its own", r.Name))
	default:
		if err := CheckRoleName(ExpandTeam(r.Name, team)); err != nil {
			v.add(nameField, forTeam(r.Name, team, err))
		} else {
			name = ExpandTeam(r.Name, team)
		}
	}
	arnField := from[key+".managedPolicyArns"]
	if n := len(r.ManagedPolicyARNs); n > a.Quotas.ManagedPoliciesPerRole {
		v.add(arnField, fmt.Sprintf("lists %d policies; the account allows %d per role (aws.quotas.managedPoliciesPerRole)", n, a.Quotas.ManagedPoliciesPerRole))
	}
	seenARN := map[string]bool{}
	for i, t := range r.ManagedPolicyARNs {
		f := fmt.Sprintf("%s[%d]", arnField, i)
		if bad := unknownPlaceholders(t, "partition", "account", "team"); len(bad) > 0 {
			v.add(f, fmt.Sprintf("unknown placeholder %s; a policy ARN may use {partition}, {account} and {team}", strings.Join(bad, ", ")))
			continue
		}
		arn := ExpandARN(t, a.Partition, a.AccountID, team)
		m := policyARNRe.FindStringSubmatch(arn)
		switch {
		case m == nil:
			v.add(f, fmt.Sprintf("must be a managed policy ARN such as arn:{partition}:iam::aws:policy/NAME, got %q", arn))
		case m[1] != a.Partition:
			v.add(f, fmt.Sprintf("is in partition %q but aws.partition is %q; write arn:{partition}:... to follow it", m[1], a.Partition))
		case seenARN[arn]:
			v.add(f, fmt.Sprintf("%q is listed twice", arn))
		}
		seenARN[arn] = true
	}
	mc.policies(team, r.PolicyFiles, from[key+".policyFiles"])
	return name
}

func (mc *mappingChecker) policies(team string, files []string, field string) {
	v, a := mc.v, mc.a
	names := map[string]string{}
	total := 0
	for i, path := range files {
		f := fmt.Sprintf("%s[%d]", field, i)
		p, err := mc.policy(path)
		if err != nil {
			v.add(f, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		if other, dup := names[p.Name]; dup {
			v.add(f, fmt.Sprintf("%s and %s would both be the inline policy %q", other, path, p.Name))
			continue
		}
		names[p.Name] = path
		doc, err := p.Render(PolicyData{Team: team, AccountID: a.AccountID, DomainID: a.SageMaker.DomainID, Region: a.Region, Partition: a.Partition})
		if err != nil {
			// A file that fails for one team almost always fails for all:
			// one problem says it, a hundred would bury the others.
			if _, seen := mc.bad[path]; !seen {
				v.add(f, err.Error())
				mc.bad[path] = err
			}
			continue
		}
		total += policySize(doc)
	}
	if total > MaxInlinePolicies {
		v.add(field, fmt.Sprintf("for team %q the inline policies total %d characters (whitespace not counted); IAM allows %d per role", team, total, MaxInlinePolicies))
	}
}

// policy loads a policy file once, however many teams and roles name it.
func (mc *mappingChecker) policy(path string) (*PolicyFile, error) {
	if p, ok := mc.comp.Policies[path]; ok {
		return p, nil
	}
	if err, ok := mc.loadErr[path]; ok {
		return nil, err
	}
	p, err := loadPolicy(mc.fsys, mc.dir, path)
	if err != nil {
		mc.loadErr[path] = err
		return nil, err
	}
	mc.comp.Policies[path] = p
	return p, nil
}

// forTeam says which team a rendered template failed for, when the
// template depends on the team at all.
func forTeam(tmpl, team string, err error) string {
	if strings.Contains(tmpl, "{team}") {
		return fmt.Sprintf("for team %q: %v", team, err)
	}
	return err.Error()
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}
