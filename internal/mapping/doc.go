// Package mapping turns a SCIM user and its groups into the identity the
// bridge gives that user in AWS: the userId, the team or teams, the two
// roles of each team, and the session tags. The sync (which creates the
// SageMaker user profile and the roles) and sign-in (which issues the SAML
// assertion to AWS) both call Resolve, so AWS resources and sign-in
// sessions never disagree.
//
// Resolve is pure: no I/O, no clock, no randomness. Everything it needs was
// compiled or read when the configuration was loaded (config.Compiled), so
// a Mapping can be shared by any number of goroutines.
//
// # Identity binding
//
// Identity.UserID is what the configuration derives from the user now.
// Identity.ProfileName is the profile name the user would get if no
// profile existed yet; it equals UserID. The sync records the profile name
// the first time it creates the profile and keeps using the recorded name
// afterwards, even when a rename gives a new UserID, so that the user's
// Studio home directory is never orphaned. The tags (userId, team) follow
// the current Identity; the name does not. Index and DetectCollisions find
// two users that would share a userId or a profile name: the first keeps it,
// the second is refused and reported, never merged.
//
// # Errors
//
// Resolve returns errors that match, with errors.Is, one of ErrInactive,
// ErrInvalidUserID, ErrNoTeam, ErrMultipleTeams, ErrInvalidTeam and
// ErrInvalidSessionTag; errors.As gives the details (the value and the rule
// it broke, the teams, the group). For an inactive user Resolve still
// returns the userId fields, so the sync can find and suspend the profile.
package mapping
