package sync

import (
	"context"
	"errors"
	"fmt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// reconcileGroup follows a group's team. The store enqueues the members
// when the membership changes, but only the group when its attributes
// change: a rename can move every member to another team (teamsFrom maps
// displayNames to teams), so the sync enqueues the members itself when the
// team the group makes changes, and the teams involved, which may gain or
// lose their roles.
func (s *Syncer) reconcileGroup(ctx context.Context, id string) (Result, error) {
	key := store.GroupKey(id)
	st, known, err := s.status(ctx, key)
	if err != nil {
		return Result{}, err
	}
	g, err := s.store.GetGroup(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		// DeleteGroup enqueued the members already.
		if st.Team != "" {
			if err := s.w.enqueue(ctx, TeamKey(st.Team)); err != nil {
				return Result{}, fmt.Errorf("group %s deleted: %w", id, err)
			}
		}
		return Result{}, s.deleteStatus(ctx, key)
	}
	if err != nil {
		return Result{}, fmt.Errorf("read group %s: %w", id, err)
	}
	team, _, err := s.o.Mapping.TeamOf(g)
	if err != nil {
		return Result{}, Terminal(fmt.Errorf("group %s: %w", id, err))
	}
	var keys []string
	if team != "" {
		keys = append(keys, TeamKey(team))
	}
	if known && team != st.Team {
		if st.Team != "" {
			keys = append(keys, TeamKey(st.Team))
		}
		err := s.store.Members(ctx, id, func(uid string) error {
			keys = append(keys, store.UserKey(uid))
			return nil
		})
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return Result{}, fmt.Errorf("members of group %s: %w", id, err)
		}
		s.log.InfoContext(ctx, "group changed team", "group", id, "from", st.Team, "to", team, "keys", len(keys))
	}
	if err := s.enqueue(ctx, keys); err != nil {
		return Result{}, err
	}
	st.Team = team
	return Result{}, s.converged(ctx, st, StateConverged, "")
}
