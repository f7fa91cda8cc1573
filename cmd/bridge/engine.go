package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	gosync "sync"
	"time"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// engine is the sync engine of one process with what the CLI asks of it
// (control.Sync): the daemon's, which runs from start to shutdown, or the
// CLI's own when no daemon runs, which runs only when a command needs
// reconciles (sync --once, approve) and otherwise only reads.
type engine struct {
	cfg    *config.Config
	store  store.Store
	status bridgesync.StatusStore
	syncer *bridgesync.Syncer

	// daemon: the syncer is run by serve, for the life of the process.
	daemon bool

	mu      gosync.Mutex
	cancel  context.CancelFunc // stops a run started by ensureRunning
	done    chan struct{}
	runErr  error
	running bool
}

var _ control.Sync = (*engine)(nil)

// engineOptions tune the syncer for where it runs.
type engineOptions struct {
	// dev: the emulator answers at once, so polls can be short and a
	// newcomer sees profiles appear within a second.
	dev bool
	// local: the CLI's own engine reconciles what is queued, and no more:
	// no periodic resync and no verification sweep.
	local   bool
	metrics *bridgesync.Metrics
	logger  *slog.Logger
	// metadata and signInURL come from sign-in: the IdP metadata the IAM
	// SAML provider holds and the URL the federation roles trust. Without
	// sign-in the SAML provider is not managed.
	metadata  func() ([]byte, error)
	signInURL string
}

// newEngine builds the mapping and the syncer over st and the AWS clients.
// It starts nothing.
func newEngine(cfg *config.Config, st store.Store, iam bridgeaws.IAM, sm bridgeaws.SageMaker, eo engineOptions) (*engine, error) {
	m, err := mapping.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("sync: build the mapping: %w", err)
	}
	o := pacing(cfg.AWS.Sync, eo)
	o.Store, o.Status, o.Config, o.Mapping = st, bridgesync.NewStoreStatus(st), cfg, m
	o.IAM, o.SageMaker, o.Metrics, o.Logger = iam, sm, eo.metrics, eo.logger
	o.Metadata, o.SignInURL = eo.metadata, eo.signInURL
	s, err := bridgesync.New(o)
	if err != nil {
		return nil, fmt.Errorf("sync: %w", err)
	}
	return &engine{cfg: cfg, store: st, status: o.Status, syncer: s, daemon: !eo.local}, nil
}

// pacing turns the configuration's sync tuning into the syncer's options,
// with dev mode's and the CLI's own engine's overrides.
func pacing(tune config.SyncTuning, eo engineOptions) bridgesync.Options {
	o := bridgesync.Options{
		Workers: tune.Workers, ResyncInterval: tune.ResyncInterval.Duration,
		VerifyRate: tune.VerifyRate, PollInterval: tune.PollInterval.Duration,
	}
	if tune.VerifyRate == 0 {
		o.VerifyRate = -1 // the options' zero means the default
	}
	if eo.dev {
		o.PollInterval, o.TeamWait = 200*time.Millisecond, 2*time.Second
		o.Backoff = bridgesync.Backoff{Base: 200 * time.Millisecond, Max: 10 * time.Second}
	}
	if eo.local {
		o.ResyncInterval, o.VerifyRate = -1, -1
	}
	return o
}

// ensureRunning starts the CLI's own engine, once. The daemon's runs
// already.
func (e *engine) ensureRunning() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.daemon || e.running {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.done, e.running = cancel, make(chan struct{}), true
	go func() {
		defer close(e.done)
		err := e.syncer.Run(ctx)
		e.mu.Lock()
		e.runErr = err
		e.mu.Unlock()
	}()
}

// failed returns the error a run ended with before it was stopped.
func (e *engine) failed() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runErr != nil {
		return fmt.Errorf("the sync stopped: %w", e.runErr)
	}
	return nil
}

// stop ends a run started by ensureRunning; reconciles in flight see their
// context cancelled and stay queued for the next run.
func (e *engine) stop() error {
	e.mu.Lock()
	cancel, done := e.cancel, e.done
	e.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	<-done
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.runErr
}

// Resync implements control.Sync.
func (e *engine) Resync(ctx context.Context) error {
	if err := e.syncer.Resync(ctx); err != nil {
		return err
	}
	e.ensureRunning()
	return nil
}

// syncDisabledReason explains a configuration without aws and mapping
// sections, to the log and to the CLI.
func syncDisabledReason(cfg *config.Config) string {
	name := cfg.Path
	if name == "" {
		name = "the configuration"
	}
	return fmt.Sprintf("%s has no aws and mapping sections, so the bridge keeps no AWS account in sync", name)
}

// errDevNoDaemon refuses a sync command in dev mode with no daemon.
var errDevNoDaemon = errors.New("no daemon answers on the control socket, and dev mode's AWS emulator lives inside the daemon: " +
	"start `bridge serve --dev` (with the same --data) and run this again, or pass --config FILE to reach a real AWS account")
