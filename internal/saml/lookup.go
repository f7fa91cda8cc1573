package saml

import (
	"context"
	"errors"
	"fmt"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// subjectOf returns the value the user is looked up by: the NameID, or
// the configured attribute, which must have exactly one value.
func (b *Bridge) subjectOf(a *assertion) (string, error) {
	attr := b.cfg.SP.UserLookup.Attribute
	if attr == "" {
		if a.nameID == "" {
			return "", refuse(reasonUnknownUser, "empty NameID")
		}
		return a.nameID, nil
	}
	vals := a.attributes[attr]
	if len(vals) != 1 || vals[0] == "" {
		return "", refuse(reasonUnknownUser, "attribute %q has %d values, want one", attr, len(vals))
	}
	return vals[0], nil
}

// findUser looks the subject up by userName or email. Both indexes fold
// case, so the match is case-insensitive.
func (b *Bridge) findUser(ctx context.Context, subject string) (store.User, error) {
	idx := store.IndexUserName
	if b.cfg.SP.UserLookup.Match == config.LookupEmail {
		idx = store.IndexUserEmail
	}
	ids, err := b.store.LookupUsers(ctx, store.Lookup{Index: idx, Value: subject})
	if err != nil {
		return store.User{}, fmt.Errorf("look up %s %q: %w", idx, subject, err)
	}
	switch len(ids) {
	case 0:
		return store.User{}, refuse(reasonUnknownUser, "no user with %s %q", idx, subject)
	case 1:
	default:
		return store.User{}, refuse(reasonAmbiguousUser, "%d users with %s %q", len(ids), idx, subject)
	}
	return b.activeUser(ctx, ids[0])
}

// activeUser reads a user that must exist and be active.
func (b *Bridge) activeUser(ctx context.Context, id string) (store.User, error) {
	u, err := b.store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, refuse(reasonUnknownUser, "user %s is gone", id)
	}
	if err != nil {
		return store.User{}, fmt.Errorf("read user %s: %w", id, err)
	}
	if !u.Active {
		return store.User{}, refuse(reasonInactiveUser, "user %s (%s) is not active", u.UserName, u.ID)
	}
	return u, nil
}

// identityOf maps the user with its groups, as the sync does.
func (b *Bridge) identityOf(ctx context.Context, u store.User) (mapping.Identity, error) {
	groups, err := b.store.UserGroups(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) {
		return mapping.Identity{}, refuse(reasonUnknownUser, "user %s is gone", u.ID)
	}
	if err != nil {
		return mapping.Identity{}, err
	}
	id, err := mapping.Resolve(b.mapping, u, groups)
	switch {
	case errors.Is(err, mapping.ErrInactive):
		return mapping.Identity{}, refuse(reasonInactiveUser, "%w", err)
	case err != nil:
		return mapping.Identity{}, refuse(reasonUnmappedUser, "%w", err)
	}
	return id, nil
}
