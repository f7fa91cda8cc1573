package mapping

import (
	"errors"
	"fmt"
	"time"

	"cel.dev/cel-go/cel"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Identity is what a user is in AWS.
type Identity struct {
	// UserID is the sanitised userId: the value of the userId tag on the
	// profile and of the userId session tag by default.
	UserID string
	// ProfileName is the SageMaker user profile name to create if the user
	// has none yet. The sync binds the name at creation and keeps it across
	// renames (see the package documentation).
	ProfileName string
	// RoleSessionName and SourceIdentity are the SAML attributes of the
	// same names; both are the userId, which the sanitiser keeps within
	// their 2-64 character rule.
	RoleSessionName string
	SourceIdentity  string
	// Teams are the user's teams, highest priority first: one, except with
	// multiTeam choose. Teams[0] is the team whose execution role the
	// profile gets and whose tags the profile carries.
	Teams []TeamIdentity
	// SessionTags are Teams[0].SessionTags. A sign-in for another team of a
	// choose user must use that team's SessionTags.
	SessionTags []Tag
}

// TeamIdentity is a user's membership of one team, as sign-in and the
// profile need it.
type TeamIdentity struct {
	Name               string
	Priority           int
	FederationRoleName string
	FederationRoleARN  string
	ExecutionRoleName  string
	ExecutionRoleARN   string
	// SessionDuration is the SAML SessionDuration; the configuration keeps
	// it within 900-43200 seconds and the role's MaxSessionDuration.
	SessionDuration time.Duration
	// SAMLRole is the Role attribute value: "role-arn,saml-provider-arn".
	SAMLRole string
	// SessionTags for a session in this team, sorted by key.
	SessionTags []Tag
}

// Tag is a session tag.
type Tag struct {
	Key        string
	Value      string
	Transitive bool
}

// TransitiveKeys returns the keys of the transitive tags, for the
// TransitiveTagKeys attribute.
func TransitiveKeys(tags []Tag) []string {
	var keys []string
	for _, t := range tags {
		if t.Transitive {
			keys = append(keys, t.Key)
		}
	}
	return keys
}

// Mapping is a loaded mapping configuration with its compiled programs.
// It is immutable and safe for concurrent use.
type Mapping struct {
	cfg         *config.Mapping
	aws         config.AWS
	comp        *config.Compiled
	sanitize    sanitizer
	tags        []tagProgram
	providerARN string
	// Explicit teams, precomputed; nil with teamsFrom.
	teams      []*teamInfo
	byDisplay  map[string]*teamInfo // lower-cased displayName
	byExternal map[string]*teamInfo
}

type tagProgram struct {
	key        string
	prg        cel.Program
	transitive bool
}

// New builds a Mapping from a loaded configuration, which must have the
// mapping and aws sections.
func New(cfg *config.Config) (*Mapping, error) {
	if cfg.Mapping == nil || cfg.AWS == nil {
		return nil, errors.New("new mapping: the configuration has no mapping and aws sections")
	}
	comp, err := cfg.Compile()
	if err != nil {
		return nil, fmt.Errorf("new mapping: %w", err)
	}
	mc := cfg.Mapping
	m := &Mapping{
		cfg:         mc,
		aws:         *cfg.AWS,
		comp:        comp,
		sanitize:    newSanitizer(mc.Sanitize),
		providerARN: cfg.AWS.SAMLProviderARN(),
	}
	transitive := map[string]bool{}
	for _, k := range mc.TransitiveTagKeys {
		transitive[k] = true
	}
	for _, k := range sortedKeys(comp.SessionTags) {
		m.tags = append(m.tags, tagProgram{key: k, prg: comp.SessionTags[k], transitive: transitive[k]})
	}
	if err := m.indexTeams(); err != nil {
		return nil, fmt.Errorf("new mapping: %w", err)
	}
	return m, nil
}

// SAMLProviderARN is the IAM SAML provider every federation role trusts.
func (m *Mapping) SAMLProviderARN() string { return m.providerARN }

// MultiTeam is the configured multi-team policy: first, choose or deny.
func (m *Mapping) MultiTeam() string { return m.cfg.MultiTeam }

// Resolve maps a user and the groups it is a member of. It is pure: the
// same inputs give the same Identity, and it does no I/O.
//
// The userId is derived first, so that even an inactive user (ErrInactive)
// gets UserID, ProfileName, RoleSessionName and SourceIdentity back; every
// other error returns an empty Identity.
func Resolve(m *Mapping, user store.User, groups []store.Group) (Identity, error) {
	id, err := resolve(m, user, groups)
	if err != nil {
		return id, fmt.Errorf("map user %q (%s): %w", user.UserName, user.ID, err)
	}
	return id, nil
}

func resolve(m *Mapping, user store.User, groups []store.Group) (Identity, error) {
	in, err := newInput(user, groups)
	if err != nil {
		return Identity{}, err
	}
	raw, err := in.eval(m.comp.UserID)
	if err != nil {
		return Identity{}, &InvalidUserIDError{Rule: "mapping.userId: " + err.Error()}
	}
	uid, err := m.sanitize.apply(raw)
	if err != nil {
		return Identity{}, err
	}
	id := Identity{UserID: uid, ProfileName: uid, RoleSessionName: uid, SourceIdentity: uid}
	if !user.Active {
		return id, ErrInactive
	}
	teams, err := m.teamsOf(groups)
	if err != nil {
		return Identity{}, err
	}
	in.vars[config.VarUserID] = uid
	id.Teams = make([]TeamIdentity, len(teams))
	for i, t := range teams {
		tags, err := m.sessionTags(in, t.name)
		if err != nil {
			return Identity{}, err
		}
		id.Teams[i] = t.identity(tags)
	}
	id.SessionTags = id.Teams[0].SessionTags
	return id, nil
}

// sessionTags evaluates every tag for one team and checks the values AWS
// would otherwise refuse at sign-in.
func (m *Mapping) sessionTags(in *input, team string) ([]Tag, error) {
	in.vars[config.VarTeam] = team
	tags := make([]Tag, 0, len(m.tags))
	for _, tp := range m.tags {
		v, err := in.eval(tp.prg)
		if err != nil {
			return nil, &SessionTagError{Key: tp.key, Team: team, Rule: "mapping.sessionTags." + tp.key + ": " + err.Error()}
		}
		if err := config.CheckTagValue(v); err != nil {
			return nil, &SessionTagError{Key: tp.key, Team: team, Value: v, Rule: err.Error()}
		}
		tags = append(tags, Tag{Key: tp.key, Value: v, Transitive: tp.transitive})
	}
	return tags, nil
}
