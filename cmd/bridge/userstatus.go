package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// User implements control.Sync: the user named by SCIM id, userName or
// queue key as the mapping, the sync's record, SageMaker and the queue see
// it. A user deleted from the store is still found by id or key while the
// sync keeps a record of it (its profile waits for the grace period). It
// only reads.
func (e *engine) User(ctx context.Context, ref string) (control.UserStatus, error) {
	u, found, err := e.findUser(ctx, strings.TrimPrefix(ref, store.UserKey("")))
	if err != nil {
		return control.UserStatus{}, err
	}
	key := store.UserKey(u.ID)
	out := control.UserStatus{Key: key, ID: u.ID, UserName: u.UserName, Active: u.Active}
	rec, recorded, err := e.status.GetStatus(ctx, key)
	if err != nil {
		return out, fmt.Errorf("status of %s: read the sync record: %w", key, err)
	}
	if !found && !recorded {
		return out, fmt.Errorf("no user with id, userName or key %q: %w", ref, store.ErrNotFound)
	}
	if recorded {
		out.Record = &control.Record{State: rec.State, Profile: rec.Profile, UserID: rec.UserID, Team: rec.Team,
			AppliedAt: rec.AppliedAt, Changed: rec.Changed, InactiveSince: rec.InactiveSince,
			LastError: rec.LastError, ErrorAt: rec.ErrorAt}
		out.Held = rec.State == bridgesync.StateHeld
	}
	profile := rec.Profile
	if found {
		if ident, err := e.syncer.Identity(ctx, u); err != nil {
			out.DesiredError = err.Error()
		} else {
			out.Desired = e.desired(ident, profile)
			profile = out.Desired.ProfileName
		}
	} else {
		out.DesiredError = "the user is deleted from the store"
	}
	if profile != "" {
		if p, err := e.syncer.ReadProfile(ctx, profile); err != nil {
			out.AWSError = err.Error()
		} else {
			out.AWS = &control.Profile{Exists: p.Exists, Name: profile, ARN: p.ARN, Status: p.Status,
				FailureReason: p.FailureReason, ExecutionRole: p.ExecutionRole, Tags: p.Tags}
		}
	}
	if out.Queue, err = queueEntry(ctx, e.store, key); err != nil {
		return out, err
	}
	return out, nil
}

// findUser takes a SCIM id, then a userName. Not found, it returns a user
// with ID ref, for the caller to look for a record of a deleted user.
func (e *engine) findUser(ctx context.Context, ref string) (store.User, bool, error) {
	u, err := e.store.GetUser(ctx, ref)
	if !errors.Is(err, store.ErrNotFound) {
		return u, err == nil, err
	}
	ids, err := e.store.LookupUsers(ctx, store.Lookup{Index: store.IndexUserName, Value: ref})
	if err != nil {
		return store.User{}, false, fmt.Errorf("look up user %q: %w", ref, err)
	}
	if len(ids) != 1 {
		return store.User{ID: ref}, false, nil
	}
	u, err = e.store.GetUser(ctx, ids[0])
	return u, err == nil, err
}

// desired is the profile the sync keeps for ident: the bound name when
// there is one (names survive renames), the team's execution role, and the
// tags the sync sets.
func (e *engine) desired(ident mapping.Identity, bound string) *control.Identity {
	team := ident.Teams[0]
	d := &control.Identity{
		UserID: ident.UserID, ProfileName: ident.ProfileName, Team: team.Name,
		ExecutionRoleARN: team.ExecutionRoleARN,
		Tags:             e.syncer.ProfileTags(ident.UserID, team.Name),
	}
	if bound != "" {
		d.ProfileName = bound
	}
	for _, t := range ident.Teams {
		d.Teams = append(d.Teams, t.Name)
	}
	return d
}

// queueEntry is key's queue entry: when it runs next, and why again.
func queueEntry(ctx context.Context, st store.Store, key string) (*control.QueueEntry, error) {
	it, err := st.QueueItem(ctx, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue entry of %s: %w", key, err)
	}
	return &control.QueueEntry{Due: it.Due.UTC(), Attempts: it.Attempts, LastError: it.LastError}, nil
}
