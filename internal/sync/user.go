package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// reconcileUser keeps one user's profile: provisioned while the user is
// active and in a team, deprovisioned (suspended, then deleted after the
// grace period) when the user is deactivated, deleted or in no team.
func (s *Syncer) reconcileUser(ctx context.Context, id string) (Result, error) {
	key := store.UserKey(id)
	st, _, err := s.status(ctx, key)
	if err != nil {
		return Result{}, err
	}
	u, err := s.store.GetUser(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return s.deprovision(ctx, st, id, "deleted", true)
	}
	if err != nil {
		return Result{}, fmt.Errorf("read user %s: %w", id, err)
	}
	ident, err := s.Identity(ctx, u)
	switch {
	case errors.Is(err, mapping.ErrInactive):
		return s.deprovision(ctx, st, id, "inactive", false)
	case errors.Is(err, mapping.ErrNoTeam):
		// Removed from every team group: the IdP's way of taking the
		// app away, treated like a deactivation.
		return s.deprovision(ctx, st, id, "in no team", false)
	case err != nil:
		return Result{}, Terminal(err)
	}
	return s.provision(ctx, st, id, ident)
}

// Identity is the AWS identity the mapping gives u with its groups in the
// store now: what a reconcile of u provisions. mapping.ErrInactive and
// mapping.ErrNoTeam say why there is none.
func (s *Syncer) Identity(ctx context.Context, u store.User) (mapping.Identity, error) {
	groups, err := s.groupsOf(ctx, u.ID)
	if err != nil {
		return mapping.Identity{}, err
	}
	return mapping.Resolve(s.o.Mapping, u, groups)
}

// ProfileTags are the tags the sync keeps on the profile of a user with
// userID in team.
func (s *Syncer) ProfileTags(userID, team string) map[string]string {
	return map[string]string{TagUserID: userID, TagTeam: team, s.owner.Key: s.owner.Value}
}

func (s *Syncer) groupsOf(ctx context.Context, id string) ([]store.Group, error) {
	groups, err := s.store.UserGroups(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return groups, err
}

// teamRoles returns the status of the user's team once its roles have
// converged. Until then the user waits for the team (which wakes it when
// it converges) and ok is false; a team in conflict or failed is reported
// as the user's error, since the user cannot converge without it.
func (s *Syncer) teamRoles(ctx context.Context, team, userKey string) (tst Status, ok bool, err error) {
	dep := TeamKey(team)
	usable := func(st Status) bool { return st.State == StateConverged && st.ExecutionRoleARN != "" }
	tst, known, err := s.status(ctx, dep)
	if err != nil || usable(tst) {
		return tst, err == nil, err
	}
	if s.await(dep, userKey) && !known {
		if err := s.w.enqueue(ctx, dep); err != nil {
			return Status{}, false, fmt.Errorf("enqueue team %s: %w", team, err)
		}
	}
	// The team may have converged between the two looks.
	if tst, _, err = s.status(ctx, dep); err != nil || usable(tst) {
		return tst, err == nil, err
	}
	if tst.State == StateConflict || tst.State == StateFailed {
		return Status{}, false, Terminal(fmt.Errorf("team %s has no usable roles (%s): %s", team, tst.State, tst.LastError))
	}
	return Status{}, false, nil
}

func (s *Syncer) provision(ctx context.Context, st Status, id string, ident mapping.Identity) (Result, error) {
	name := st.Profile
	if name == "" {
		name = ident.ProfileName
	}
	if err := s.claims.claim(mapping.Claim{Owner: id, UserID: ident.UserID, ProfileName: name}); err != nil {
		return Result{}, s.conflict("identity", err)
	}
	team := ident.Teams[0].Name
	tst, ready, err := s.teamRoles(ctx, team, st.Key)
	if err != nil || !ready {
		return Result{RequeueAfter: s.o.TeamWait}, err
	}
	spec := profileSpec{
		Domain: s.aws.SageMaker.DomainID, Name: name, ExecutionRole: tst.ExecutionRoleARN,
		Tags: s.ProfileTags(ident.UserID, team),
	}
	h := hashOf(spec)
	verify := s.takeVerify(st.Key)
	if st.Applied == h && st.State == StateConverged && !verify {
		return Result{}, nil
	}
	s.held.forget(st.Key)
	var a ProfileState
	switch {
	case s.blindCreate && st.Profile == "":
		// No profile was ever made for the user: create it without
		// looking first. If the name is taken after all,
		// CreateUserProfile says so (ResourceInUse), which leaves the key
		// unsettled; by then the name is bound, so the next pass reads
		// the profile and checks its ownership before anything else.
	case st.State == StatePending && st.Applied == h && !verify:
		res, done, err := s.awaitProfile(ctx, st, spec, h)
		if err != nil || done {
			return res, err
		}
		// Gone, failed or changed meanwhile: plan from a full read.
		a, err = s.ReadProfile(ctx, name)
		if err != nil {
			return Result{}, err
		}
	default:
		if a, err = s.ReadProfile(ctx, name); err != nil {
			return Result{}, err
		}
	}
	acts, wait, err := planProfile(spec, a, s.owner)
	switch {
	case errors.Is(err, ErrConflict):
		return Result{}, s.conflict("profile", err)
	case err != nil:
		return Result{}, Terminal(err)
	case wait:
		return Result{RequeueAfter: s.o.PollInterval}, nil
	}
	if st.Applied == h && st.State == StateConverged && len(acts) > 0 {
		s.o.Metrics.Drift.WithLabelValues("profile").Inc()
	}
	st.UserID, st.Team, st.InactiveSince, st.Approved = ident.UserID, team, time.Time{}, time.Time{}
	if st.Profile == "" {
		// Bind the name before creating, so a crash between the two
		// cannot lose which profile is this user's.
		st.Profile, st.Bound = name, s.o.Now()
		if len(acts) > 0 {
			if err := s.putStatus(ctx, st); err != nil {
				return Result{}, err
			}
		}
	}
	if len(acts) == 0 {
		return Result{}, s.converged(ctx, st, StateConverged, h)
	}
	for _, act := range acts {
		settled, err := s.w.applyProfile(ctx, spec, a, act)
		if errors.Is(err, errRoleNotVisible) {
			return s.roleNotVisible(ctx, st.Key, team, tst, err)
		}
		if err != nil {
			return Result{}, err
		}
		if !settled {
			return Result{RequeueAfter: s.o.PollInterval}, nil
		}
	}
	s.log.InfoContext(ctx, "user profile changed", "key", st.Key, "profile", name, "team", team, "actions", len(acts))
	// SageMaker took every write of spec: what is left to see is the
	// profile settling, which awaitProfile checks without ListTags.
	st.State, st.Applied, st.Changed = StatePending, h, s.o.Now()
	return Result{RequeueAfter: s.o.PollInterval}, s.putStatus(ctx, st)
}

// awaitProfile looks at a profile whose writes of spec (hashed h) an
// earlier pass made: SageMaker accepted them, tags included, so the
// profile's status and role are all there is to check, and
// DescribeUserProfile shows both. done is false when the profile is not
// settling towards spec (gone, failed, or with another role: changed by
// hand meanwhile), for the caller to plan from a full read.
func (s *Syncer) awaitProfile(ctx context.Context, st Status, spec profileSpec, h string) (res Result, done bool, err error) {
	a, err := s.describeProfile(ctx, spec.Name)
	switch {
	case err != nil:
		return Result{}, true, err
	case !a.Exists || a.ExecutionRole != spec.ExecutionRole:
		return Result{}, false, nil
	case a.Status == profilePending || a.Status == profileUpdating:
		return Result{RequeueAfter: s.o.PollInterval}, true, nil
	case a.Status == profileInService:
		return Result{}, true, s.converged(ctx, st, StateConverged, h)
	}
	return Result{}, false, nil
}

// roleNotVisible handles SageMaker refusing the team's execution role for
// the user of key. Soon after the role was written, that is IAM
// propagating it (reference rule 18): the user looks again after a poll.
// Later, the role may have been changed or deleted by hand, so the team is
// verified, at most once per propagation window however many of its users
// are refused, and the user retries with backoff. It never fails the user
// for good: the role is used by a key that may have waited behind
// thousands of others, long past any window, and a role that propagates
// late or is put back lets the user converge.
func (s *Syncer) roleNotVisible(ctx context.Context, key, team string, tst Status, err error) (Result, error) {
	now := s.o.Now()
	if now.Sub(tst.Changed) < s.o.PropagationWindow {
		s.log.DebugContext(ctx, "execution role not visible to SageMaker yet", "key", key, "team", team)
		return Result{RequeueAfter: s.o.PollInterval}, nil
	}
	if now.Sub(tst.AppliedAt) >= s.o.PropagationWindow {
		s.markVerify(TeamKey(team))
		if qerr := s.w.enqueue(ctx, TeamKey(team)); qerr != nil {
			return Result{}, fmt.Errorf("%w (and the team's verification could not be enqueued: %w)", err, qerr)
		}
	}
	return Result{}, fmt.Errorf("team %s: %w", team, err)
}
