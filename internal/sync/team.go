package sync

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// teamSpec is the desired state of a team's two roles.
type teamSpec struct {
	Federation roleSpec `json:"federation"`
	Execution  roleSpec `json:"execution"`
}

// teamWanted says whether the team should have roles: explicit teams
// always do; with teamsFrom a team exists while a group makes it (or the
// configuration has overrides for it). An invalid name is a team nobody
// can be in, so it is not wanted.
func (s *Syncer) teamWanted(ctx context.Context, name string) (bool, error) {
	mc := s.o.Config.Mapping
	if slices.Contains(s.o.Mapping.Teams(), name) {
		return true, nil
	}
	if mc.TeamsFrom == nil || config.CheckTeamName(name) != nil {
		return false, nil
	}
	ids, err := s.store.LookupGroups(ctx, store.Lookup{Index: store.IndexGroupName, Value: mc.TeamsFrom.DisplayNamePrefix + name})
	if err != nil {
		return false, fmt.Errorf("team %s: look up its group: %w", name, err)
	}
	return len(ids) > 0, nil
}

// teamSpec builds the desired roles of a team from the mapping.
func (s *Syncer) teamSpec(t mapping.Team) teamSpec {
	tags := map[string]string{TagTeam: t.Name, s.owner.Key: s.owner.Value}
	role := func(r mapping.Role, what, trust string, maxSession int32) roleSpec {
		inline := make(map[string]string, len(r.InlinePolicies))
		for _, p := range r.InlinePolicies {
			inline[p.Name] = p.Document
		}
		return roleSpec{
			Name: r.Name, Path: t.Path, Trust: trust, MaxSession: maxSession, Tags: tags,
			Description: fmt.Sprintf("sagebridge: %s role of team %s", what, t.Name),
			Managed:     slices.Sorted(slices.Values(r.ManagedPolicyARNs)), Inline: inline,
		}
	}
	return teamSpec{
		Federation: role(t.FederationRole, "federation",
			federationTrust(s.aws.SAMLProviderARN(), s.o.SignInURL, s.tagKeys), int32(t.MaxSessionDuration.Seconds())),
		Execution: role(t.ExecutionRole, "execution", executionTrust(), 0),
	}
}

func (s *Syncer) reconcileTeam(ctx context.Context, name string) (Result, error) {
	key := TeamKey(name)
	st, known, err := s.status(ctx, key)
	if err != nil {
		return Result{}, err
	}
	wanted, err := s.teamWanted(ctx, name)
	if err != nil {
		return Result{}, err
	}
	if !wanted {
		return s.deleteTeam(ctx, st, name)
	}
	if s.o.Metadata != nil {
		// Federation roles trust the SAML provider: make it first.
		if _, ok, err := s.status(ctx, SAMLKey); err != nil || !ok {
			if err == nil && s.await(SAMLKey, key) {
				err = s.w.enqueue(ctx, SAMLKey)
			}
			return Result{RequeueAfter: s.o.TeamWait}, err
		}
	}
	t, err := s.o.Mapping.Team(name)
	if err != nil {
		return Result{}, Terminal(fmt.Errorf("team %s: %w", name, err))
	}
	spec := s.teamSpec(t)
	for _, r := range []roleSpec{spec.Federation, spec.Execution} {
		if err := checkRoleLimits(name, r, s.aws.Quotas.ManagedPoliciesPerRole); err != nil {
			return Result{}, Terminal(err)
		}
	}
	h := hashOf(spec)
	if st.Applied == h && st.State == StateConverged && !s.takeVerify(key) {
		return Result{}, s.ready(ctx, key)
	}
	st.Team = name
	// A team the sync never recorded had no roles made by it: create them
	// without reading first. The record is written before the creates,
	// so that a role there after all (CreateRole says so, which leaves
	// the key unsettled) is read, and its ownership checked, on the next
	// pass.
	blind := s.blindCreate && !known
	if blind {
		st.State = StatePending
		if err := s.putStatus(ctx, st); err != nil {
			return Result{}, err
		}
	}
	var drift, wrote bool
	for _, r := range []*roleSpec{&spec.Federation, &spec.Execution} {
		var a roleState
		if !blind {
			if a, err = s.readRole(ctx, r.Name); err != nil {
				return Result{}, err
			}
		}
		acts, err := planRole(*r, a, s.owner)
		if errors.Is(err, ErrConflict) {
			return Result{}, s.conflict("role", err)
		}
		if err != nil {
			return Result{}, Terminal(err)
		}
		drift = drift || len(acts) > 0 && st.Applied == h
		arn := a.ARN
		for _, act := range acts {
			out, settled, err := s.w.applyRole(ctx, *r, act)
			if err != nil {
				return Result{}, err
			}
			if !settled {
				return Result{RequeueAfter: s.o.PollInterval}, nil
			}
			if out != "" {
				arn = out
			}
			wrote = true
		}
		if r == &spec.Federation {
			st.FederationRoleARN = arn
		} else {
			st.ExecutionRoleARN = arn
		}
	}
	if drift {
		s.o.Metrics.Drift.WithLabelValues("role").Inc()
	}
	if wrote {
		st.Changed = s.o.Now()
	}
	if err := s.converged(ctx, st, StateConverged, h); err != nil {
		return Result{}, err
	}
	s.log.InfoContext(ctx, "team roles converged", "team", name, "wrote", wrote)
	return Result{}, s.ready(ctx, key)
}

// deleteTeam removes the roles of a team that is no longer wanted, within
// the deletion threshold.
func (s *Syncer) deleteTeam(ctx context.Context, st Status, name string) (Result, error) {
	if st.FederationRoleARN == "" && st.ExecutionRoleARN == "" {
		// The sync never made roles for it (or already removed them).
		return Result{}, s.deleteStatus(ctx, st.Key)
	}
	var plans [][]Action
	for _, arn := range []string{st.FederationRoleARN, st.ExecutionRoleARN} {
		if arn == "" {
			continue
		}
		roleName := arnName(arn)
		a, err := s.readRole(ctx, roleName)
		if err != nil {
			return Result{}, err
		}
		acts, err := planRoleDelete(roleName, a, s.owner)
		if err != nil {
			return Result{}, s.conflict("role", err)
		}
		plans = append(plans, acts)
	}
	if st.State != StateDeleting {
		managed := func() int { return s.managedCount(ctx, kindTeam+"/") * 2 }
		if !s.held.allow(st.Key, deleteRole, managed, !st.Approved.IsZero()) {
			return Result{}, Terminal(fmt.Errorf("%w: the roles of team %s", ErrHeld, name))
		}
		st.State, st.Approved = StateDeleting, time.Time{}
		if err := s.putStatus(ctx, st); err != nil {
			return Result{}, err
		}
	}
	for _, acts := range plans {
		for _, act := range acts {
			if _, settled, err := s.w.applyRole(ctx, roleSpec{Name: act.Resource}, act); err != nil {
				return Result{}, err
			} else if !settled {
				return Result{RequeueAfter: s.o.PollInterval}, nil
			}
		}
	}
	s.log.InfoContext(ctx, "team roles deleted", "team", name)
	return Result{}, s.deleteStatus(ctx, st.Key)
}

func (s *Syncer) deleteStatus(ctx context.Context, key string) error {
	if err := s.w.deleteStatus(ctx, key); err != nil {
		return fmt.Errorf("delete sync status of %s: %w", key, err)
	}
	return nil
}

// managedCount counts the status records under prefix that stand for
// something the sync manages, the denominator of the percent threshold.
func (s *Syncer) managedCount(ctx context.Context, prefix string) int {
	n := 0
	err := scanStatus(ctx, s.records, prefix, func(st Status) error {
		if st.State != StateDeleted && (st.Profile != "" || st.ExecutionRoleARN != "" || st.FederationRoleARN != "") {
			n++
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "count managed resources", "prefix", prefix, "err", err)
	}
	return n
}

// arnName is the last path element of an ARN: a role's name.
func arnName(arn string) string {
	for i := len(arn) - 1; i >= 0; i-- {
		if arn[i] == '/' {
			return arn[i+1:]
		}
	}
	return arn
}
