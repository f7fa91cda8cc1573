package sync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagebridge/sagebridge/internal/store"
)

// Run reconciles until ctx is done: it restores the identity claims and
// held deletions from the status records, enqueues a full resync, and runs
// the controller, the periodic resync and the verification sweep.
func (s *Syncer) Run(ctx context.Context) error {
	if err := s.restore(ctx); err != nil {
		return err
	}
	c, err := NewController(ControllerOptions{
		Queue: s.o.Store, Reconciler: s, Workers: s.o.Workers, Timeout: s.o.ReconcileTimeout,
		Backoff: s.o.Backoff, Lane: s.lane, OnTerminal: s.recordTerminal, Metrics: s.o.Metrics, Logger: s.log,
		Now: s.o.Now, NewTimer: s.o.NewTimer,
	})
	if err != nil {
		return err
	}
	var wg gosync.WaitGroup
	wg.Go(func() { s.every(ctx, s.o.ResyncInterval, true, s.resyncLogged) })
	if s.o.VerifyRate > 0 {
		sweep := &sweeper{s: s}
		wg.Go(func() { s.every(ctx, time.Duration(float64(time.Second)/s.o.VerifyRate), false, sweep.next) })
	}
	err = c.Run(ctx)
	wg.Wait()
	return err
}

// restore rebuilds the in-memory state that must survive a restart from
// the status records: which user holds which name, and which deletions
// wait for approval.
func (s *Syncer) restore(ctx context.Context) error {
	if err := s.claims.load(ctx, s.records); err != nil {
		return fmt.Errorf("restore identity claims: %w", err)
	}
	return scanStatus(ctx, s.records, "", func(st Status) error {
		if st.State == StateHeld && st.Approved.IsZero() {
			s.held.hold(st.Key)
		}
		return nil
	})
}

// every calls fn every interval until ctx is done (first at once when
// now is set); a non-positive interval disables it.
func (s *Syncer) every(ctx context.Context, interval time.Duration, now bool, fn func(context.Context)) {
	if interval <= 0 {
		return
	}
	if now {
		fn(ctx)
	}
	for {
		t := s.o.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C():
		}
		fn(ctx)
	}
}

func (s *Syncer) resyncLogged(ctx context.Context) {
	if err := s.Resync(ctx); err != nil && ctx.Err() == nil {
		s.log.ErrorContext(ctx, "full resync failed", "err", err)
	}
}

// Resync enqueues every key, so that every user, team and the SAML
// provider are looked at. Keys whose desired state is unchanged cost no
// AWS call; to still find changes made by hand, Resync first lists the
// domain's profiles and the account's roles (a number of calls bounded by
// pages, not users) and marks for verification every recorded resource
// that is missing from the lists.
func (s *Syncer) Resync(ctx context.Context) error {
	if err := s.markMissing(ctx); err != nil {
		// Drift detection is best effort; the sweep will get there.
		s.log.WarnContext(ctx, "resync: listing AWS for drift failed", "err", err)
	}
	keys, err := s.resyncKeys(ctx)
	if err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	if err := s.enqueue(ctx, keys); err != nil {
		return fmt.Errorf("resync: %w", err)
	}
	now := s.o.Now()
	s.lastResync.Store(&now)
	s.o.Metrics.LastResync.Set(float64(now.Unix()))
	s.log.InfoContext(ctx, "full resync enqueued", "keys", len(keys))
	return nil
}

// MetadataChanged tells the syncer that the bridge's IdP metadata changed
// (a key rotation), so the IAM SAML provider is updated now rather than at
// the next full resync.
func (s *Syncer) MetadataChanged(ctx context.Context) error {
	if s.o.Metadata == nil {
		return nil
	}
	return s.enqueue(ctx, []string{SAMLKey})
}

// LastResync is when this Syncer last enqueued a full resync; zero before
// the first. Readiness checks it: a daemon whose resync stopped is drifting
// unseen.
func (s *Syncer) LastResync() time.Time {
	if t := s.lastResync.Load(); t != nil {
		return *t
	}
	return time.Time{}
}

// resyncKeys returns, sorted, every key a resync visits: the SAML
// provider, every team (configured, made by a group, or recorded) and
// every user (in the store or recorded).
func (s *Syncer) resyncKeys(ctx context.Context) ([]string, error) {
	keys := map[string]bool{}
	if s.o.Metadata != nil {
		keys[SAMLKey] = true
	}
	for _, t := range s.o.Mapping.Teams() {
		keys[TeamKey(t)] = true
	}
	err := scanStatus(ctx, s.records, "", func(st Status) error {
		// Recorded teams and users include deleted ones whose resources
		// may still need removing.
		if k := Kind(st.Key); k == kindTeam || k == kindUser {
			keys[st.Key] = true
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("scan status: %w", err)
	}
	for after := ""; ; {
		page, err := s.store.ScanGroups(ctx, after, 500)
		if err != nil {
			return nil, fmt.Errorf("scan groups: %w", err)
		}
		for _, g := range page.Items {
			if team, ok, err := s.o.Mapping.TeamOf(g); err == nil && ok {
				keys[TeamKey(team)] = true
			}
		}
		if after = page.Next; after == "" {
			break
		}
	}
	for after := ""; ; {
		page, err := s.store.ScanUserIDs(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		for _, id := range page.Items {
			keys[store.UserKey(id)] = true
		}
		if after = page.Next; after == "" {
			break
		}
	}
	return slices.Sorted(maps.Keys(keys)), nil
}

// markMissing lists the domain's profiles and the account's roles and
// marks for verification the converged keys whose resource is gone.
func (s *Syncer) markMissing(ctx context.Context) error {
	profiles := map[string]bool{}
	var token *string
	for {
		page, err := s.sm.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{
			DomainIdEquals: &s.aws.SageMaker.DomainID, MaxResults: sdkaws.Int32(100), NextToken: token})
		if err != nil {
			return fmt.Errorf("list user profiles: %w", err)
		}
		for _, p := range page.UserProfiles {
			profiles[sdkaws.ToString(p.UserProfileName)] = true
		}
		if token = page.NextToken; sdkaws.ToString(token) == "" {
			break
		}
	}
	roles := map[string]bool{}
	var marker *string
	for {
		page, err := s.iam.ListRoles(ctx, &iam.ListRolesInput{Marker: marker, MaxItems: sdkaws.Int32(1000)})
		if err != nil {
			return fmt.Errorf("list roles: %w", err)
		}
		for _, r := range page.Roles {
			roles[strings.ToLower(sdkaws.ToString(r.RoleName))] = true
		}
		if !page.IsTruncated {
			break
		}
		marker = page.Marker
	}
	return scanStatus(ctx, s.records, "", func(st Status) error {
		switch {
		case st.Applied == "":
		case Kind(st.Key) == kindUser && st.State == StateConverged && st.Profile != "" && !profiles[st.Profile]:
			s.o.Metrics.Drift.WithLabelValues("profile").Inc()
			s.markVerify(st.Key)
		case Kind(st.Key) == kindTeam &&
			(!roles[strings.ToLower(arnName(st.FederationRoleARN))] || !roles[strings.ToLower(arnName(st.ExecutionRoleARN))]):
			s.o.Metrics.Drift.WithLabelValues("role").Inc()
			s.markVerify(st.Key)
		}
		return nil
	})
}

// sweeper walks the status records in key order, one per tick, marking
// each for verification and enqueueing it: every resource is compared with
// AWS in full now and then, at a rate that stays far below the API limits
// whatever the number of users.
type sweeper struct {
	s     *Syncer
	after string
}

func (w *sweeper) next(ctx context.Context) {
	batch, err := w.s.records.ScanStatus(ctx, w.after, 1)
	if err != nil {
		w.s.log.WarnContext(ctx, "verification sweep", "err", err)
		return
	}
	if len(batch) == 0 {
		w.after = "" // wrap around
		return
	}
	key := batch[0].Key
	w.after = key
	if k := Kind(key); k != kindUser && k != kindTeam && k != kindSAML {
		return
	}
	w.s.markVerify(key)
	if err := w.s.w.enqueue(ctx, key); err != nil && !errors.Is(err, context.Canceled) {
		w.s.log.WarnContext(ctx, "verification sweep", "key", key, "err", err)
	}
}

// Approve lets held deletions proceed: the given queue keys, or every held
// one when keys is empty. The approval is recorded in each key's status
// and the keys are enqueued, so the deletions run whether or not this
// Syncer runs: a daemon started later carries them out. It returns the
// keys it approved, sorted; keys not held are left out.
func (s *Syncer) Approve(ctx context.Context, keys ...string) ([]string, error) {
	var approved []string
	approve := func(st Status) error {
		if st.State != StateHeld {
			return nil
		}
		if st.Approved.IsZero() {
			st.Approved = s.o.Now().UTC()
			if err := s.putStatus(ctx, st); err != nil {
				return err
			}
		}
		approved = append(approved, st.Key)
		return nil
	}
	if len(keys) == 0 {
		if err := scanStatus(ctx, s.records, "", approve); err != nil {
			return nil, fmt.Errorf("approve: %w", err)
		}
	}
	for _, k := range keys {
		st, ok, err := s.status(ctx, k)
		if err == nil && ok {
			err = approve(st)
		}
		if err != nil {
			return nil, fmt.Errorf("approve: %w", err)
		}
	}
	if len(approved) == 0 {
		return nil, nil
	}
	slices.Sort(approved)
	s.held.approve(approved)
	return approved, s.enqueue(ctx, approved)
}
