package sync

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"time"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Options configure a Syncer. Store, Status, Config (with its aws and
// mapping sections), Mapping, IAM and SageMaker are required.
type Options struct {
	Store   store.Store
	Status  StatusStore
	Config  *config.Config
	Mapping *mapping.Mapping
	// IAM and SageMaker are usually internal/aws.New's clients.
	IAM       bridgeaws.IAM
	SageMaker bridgeaws.SageMaker
	// Metadata returns the bridge's SAML IdP metadata, the document the
	// IAM SAML provider must hold. Nil means the sync does not manage the
	// SAML provider (no IdP is configured yet); the federation roles still
	// trust the configured provider's ARN.
	Metadata func() ([]byte, error)
	// SignInURL is the SAML:aud the federation roles require. Default the
	// partition's AWS sign-in endpoint.
	SignInURL string

	// PollInterval is how long a key waits for AWS to settle (a profile
	// Pending or Updating, apps Deleting) before it looks again. Default 10s.
	PollInterval time.Duration
	// TeamWait is how long a user waits for its team's roles before it
	// looks again; a team that converges wakes its waiting users at once.
	// Default 30s.
	TeamWait time.Duration
	// PropagationWindow is how long after a role was written SageMaker may
	// still refuse it as an execution role (IAM is eventually consistent);
	// within it such a refusal is waited out, after it it is an error.
	// Default 2m.
	PropagationWindow time.Duration
	// ResyncInterval is the period of the full resync. Default 1h; negative
	// disables it (Resync can still be called).
	ResyncInterval time.Duration
	// VerifyRate is how many keys per second the background sweep marks
	// for verification against AWS. Default 0.1; negative disables it.
	VerifyRate float64

	// Workers, Backoff, ReconcileTimeout and NewTimer configure the
	// Controller.
	Workers          int
	Backoff          Backoff
	ReconcileTimeout time.Duration
	NewTimer         func(time.Duration) Timer

	Metrics *Metrics
	Logger  *slog.Logger
	Now     func() time.Time
}

// Syncer reconciles every kind of key: "saml", "team/<name>",
// "group/<id>" and "user/<id>".
type Syncer struct {
	o       Options
	aws     config.AWS
	owner   bridgeaws.Owner
	iam     bridgeaws.IAMReader
	sm      bridgeaws.SageMakerReader
	store   storeReader
	records statusReader
	w       writer
	// blindCreate lets a reconcile create a user's first profile, or a
	// team's first roles, without reading first: the create's own answer
	// says whether the name was taken. A plan's writes answer nothing, so
	// its syncer always reads.
	blindCreate bool
	lane        *Lane
	log         *slog.Logger
	claims      *claims
	held        *threshold
	spaces      *spaceIndex
	tagKeys     []string

	lastResync atomic.Pointer[time.Time]

	mu      gosync.Mutex
	verify  map[string]bool            // keys to check against AWS even if unchanged
	waiters map[string]map[string]bool // key -> keys waiting for it to converge
}

// New checks the options and builds a Syncer.
func New(o Options) (*Syncer, error) {
	if o.Store == nil || o.Status == nil || o.Mapping == nil || o.IAM == nil || o.SageMaker == nil {
		return nil, errors.New("new syncer: Store, Status, Mapping, IAM and SageMaker are required")
	}
	if o.Config == nil || o.Config.AWS == nil || o.Config.Mapping == nil {
		return nil, errors.New("new syncer: the configuration needs its aws and mapping sections")
	}
	if o.SignInURL == "" {
		// Without a saml section, the partition's default sign-in
		// endpoint, as the bridge would post to.
		o.SignInURL = (&config.SAML{}).SignInURL(o.Config.AWS)
	}
	setDuration(&o.PollInterval, 10*time.Second)
	setDuration(&o.TeamWait, 30*time.Second)
	setDuration(&o.PropagationWindow, 2*time.Minute)
	setDuration(&o.ResyncInterval, time.Hour)
	if o.VerifyRate == 0 {
		o.VerifyRate = 0.1
	}
	if o.Metrics == nil {
		o.Metrics = NewMetrics(nil)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewTimer == nil {
		o.NewTimer = newRealTimer
	}
	mt := meter{m: o.Metrics, log: o.Logger}
	iam, sm := meteredIAM{o.IAM, mt}, meteredSageMaker{o.SageMaker, mt}
	s := newSyncer(o, iam, sm, o.Store, o.Status)
	s.blindCreate, s.lane = true, NewLane()
	s.w = liveWriter{iam: iam, sm: sm, queue: o.Store, lane: s.lane, status: o.Status, owner: s.owner, domain: s.aws.SageMaker.DomainID}
	return s, nil
}

// newSyncer builds a Syncer that reads through the given interfaces; the
// caller sets its writer.
func newSyncer(o Options, iam bridgeaws.IAMReader, sm bridgeaws.SageMakerReader, st storeReader, records statusReader) *Syncer {
	a := *o.Config.AWS
	s := &Syncer{
		o:       o,
		aws:     a,
		owner:   bridgeaws.Owner{Key: a.OwnershipTag.Key, Value: a.OwnershipTag.Value},
		iam:     iam,
		sm:      sm,
		store:   st,
		records: records,
		log:     o.Logger,
		claims:  newClaims(),
		held:    newThreshold(a.DeletionThreshold, o.Now, o.Metrics),
		tagKeys: slices.Sorted(maps.Keys(o.Config.Mapping.SessionTags)),
		verify:  map[string]bool{},
		waiters: map[string]map[string]bool{},
	}
	s.spaces = newSpaceIndex(s.listSpaces)
	return s
}

func setDuration(d *time.Duration, def time.Duration) {
	if *d == 0 {
		*d = def
	}
}

// Reconcile implements Reconciler.
func (s *Syncer) Reconcile(ctx context.Context, key string) (Result, error) {
	kind, id, _ := strings.Cut(key, "/")
	switch {
	case key == SAMLKey:
		return s.reconcileSAML(ctx)
	case kind == kindTeam && id != "":
		return s.reconcileTeam(ctx, id)
	case kind == kindGroup && id != "":
		return s.reconcileGroup(ctx, id)
	case kind == kindUser && id != "":
		return s.reconcileUser(ctx, id)
	}
	return Result{}, Terminal(fmt.Errorf("unknown queue key %q", key))
}

// markVerify makes the next reconcile of key read AWS even if the desired
// state has not changed since it was last applied.
func (s *Syncer) markVerify(key string) {
	s.mu.Lock()
	s.verify[key] = true
	s.mu.Unlock()
}

func (s *Syncer) takeVerify(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.verify[key]
	delete(s.verify, key)
	return v
}

// await records that waiter waits for dep (a team's roles, the SAML
// provider) and reports whether it is the first waiter since dep was last
// ready. Only the first enqueues dep: a dependency that keeps failing must
// keep its backoff, not be reset by every user that waits for it.
func (s *Syncer) await(dep, waiter string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	first := s.waiters[dep] == nil
	if first {
		s.waiters[dep] = map[string]bool{}
	}
	s.waiters[dep][waiter] = true
	return first
}

// ready wakes the keys waiting for dep.
func (s *Syncer) ready(ctx context.Context, dep string) error {
	s.mu.Lock()
	keys := slices.Sorted(maps.Keys(s.waiters[dep]))
	delete(s.waiters, dep)
	s.mu.Unlock()
	return s.enqueue(ctx, keys)
}

// enqueue puts keys on the durable queue in batches, so a resync of many
// users is a few transactions, not one per user.
func (s *Syncer) enqueue(ctx context.Context, keys []string) error {
	const batch = 1000
	for len(keys) > 0 {
		n := min(batch, len(keys))
		if err := s.w.enqueue(ctx, keys[:n]...); err != nil {
			return fmt.Errorf("enqueue: %w", err)
		}
		keys = keys[n:]
	}
	return nil
}

func (s *Syncer) status(ctx context.Context, key string) (Status, bool, error) {
	st, ok, err := s.records.GetStatus(ctx, key)
	if err != nil {
		return Status{}, false, fmt.Errorf("read sync status of %s: %w", key, err)
	}
	st.Key = key
	return st, ok, nil
}

func (s *Syncer) putStatus(ctx context.Context, st Status) error {
	if err := s.w.putStatus(ctx, st); err != nil {
		return fmt.Errorf("record sync status of %s: %w", st.Key, err)
	}
	return nil
}

// converged records that AWS equals the desired state hashed h.
func (s *Syncer) converged(ctx context.Context, st Status, state, h string) error {
	st.State, st.Applied, st.AppliedAt = state, h, s.o.Now()
	st.LastError, st.ErrorAt = "", time.Time{}
	return s.putStatus(ctx, st)
}

// recordTerminal is the controller's OnTerminal: it keeps the error where
// `bridge status` shows it. The state says why the key stopped.
func (s *Syncer) recordTerminal(ctx context.Context, key string, err error) error {
	st, _, gerr := s.status(ctx, key)
	if gerr != nil {
		return gerr
	}
	switch {
	case errors.Is(err, ErrHeld):
		st.State = StateHeld
	case errors.Is(err, ErrConflict):
		st.State = StateConflict
	default:
		st.State = StateFailed
	}
	st.Applied = ""
	st.LastError, st.ErrorAt = err.Error(), s.o.Now()
	return s.putStatus(ctx, st)
}

// conflict counts a conflict of the given kind and returns it as a
// Terminal error that matches ErrConflict.
func (s *Syncer) conflict(kind string, err error) error {
	s.o.Metrics.Conflicts.WithLabelValues(kind).Inc()
	if !errors.Is(err, ErrConflict) {
		err = fmt.Errorf("%w: %w", ErrConflict, err)
	}
	return Terminal(err)
}

// hashOf is the hash of a desired state: its JSON encoding, which for the
// spec structs used here is deterministic (maps are encoded sorted).
func hashOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		// Specs hold strings, maps and slices only; if encoding ever
		// failed, an empty hash just means "always read AWS".
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
