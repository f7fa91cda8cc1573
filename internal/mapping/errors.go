package mapping

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Each typed error below matches one of them with
// errors.Is, so a caller can count by reason without parsing messages.
var (
	// ErrInactive: the user is deactivated (active=false). Sign-in must
	// refuse; the sync suspends the profile.
	ErrInactive = errors.New("user is inactive")
	// ErrInvalidUserID: the userId expression failed, or its result could
	// not be made a valid userId. See InvalidUserIDError.
	ErrInvalidUserID = errors.New("invalid userId")
	// ErrNoTeam: none of the user's groups makes a team.
	ErrNoTeam = errors.New("user is in no team")
	// ErrMultipleTeams: the user is in several teams and the multi-team
	// policy is deny. See MultipleTeamsError.
	ErrMultipleTeams = errors.New("user is in several teams")
	// ErrInvalidTeam: a group makes a team whose name cannot name AWS
	// resources, or names a team the configuration does not define. See
	// TeamError.
	ErrInvalidTeam = errors.New("invalid team")
	// ErrInvalidSessionTag: a session tag expression failed or gave a value
	// AWS would refuse. See SessionTagError.
	ErrInvalidSessionTag = errors.New("invalid session tag")
	// ErrCollision: another user already holds the userId or profile name.
	// See Collision.
	ErrCollision = errors.New("identity collision")
)

// InvalidUserIDError says which value broke which rule.
type InvalidUserIDError struct {
	// Value is what the expression produced ("" if it failed).
	Value string
	// Rule is the rule it broke, in words.
	Rule string
}

func (e *InvalidUserIDError) Error() string {
	if e.Value == "" {
		return "invalid userId: " + e.Rule
	}
	return fmt.Sprintf("invalid userId %q: %s", e.Value, e.Rule)
}

// Is makes errors.Is(err, ErrInvalidUserID) true.
func (e *InvalidUserIDError) Is(target error) bool { return target == ErrInvalidUserID }

// MultipleTeamsError lists the teams of a user refused by multiTeam: deny.
type MultipleTeamsError struct {
	Teams []string // in priority order
}

func (e *MultipleTeamsError) Error() string {
	return fmt.Sprintf("user is in several teams (%s) and mapping.multiTeam is deny", strings.Join(e.Teams, ", "))
}

// Is makes errors.Is(err, ErrMultipleTeams) true.
func (e *MultipleTeamsError) Is(target error) bool { return target == ErrMultipleTeams }

// TeamError says which group gave which unusable team name, and why.
type TeamError struct {
	Group string // the group's displayName; "" when a team was asked for by name
	Team  string
	Rule  string
}

func (e *TeamError) Error() string {
	if e.Group == "" {
		return fmt.Sprintf("team %q: %s", e.Team, e.Rule)
	}
	return fmt.Sprintf("group %q makes team %q: %s", e.Group, e.Team, e.Rule)
}

// Is makes errors.Is(err, ErrInvalidTeam) true.
func (e *TeamError) Is(target error) bool { return target == ErrInvalidTeam }

// SessionTagError says which tag failed for which team, with the value.
type SessionTagError struct {
	Key   string
	Team  string
	Value string // "" if the expression failed
	Rule  string
}

func (e *SessionTagError) Error() string {
	return fmt.Sprintf("session tag %q for team %q: %s", e.Key, e.Team, e.Rule)
}

// Is makes errors.Is(err, ErrInvalidSessionTag) true.
func (e *SessionTagError) Is(target error) bool { return target == ErrInvalidSessionTag }
