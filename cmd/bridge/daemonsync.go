package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"
	"github.com/prometheus/client_golang/prometheus"

	bridgeaws "github.com/sagebridge/sagebridge/internal/aws"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/server"
	"github.com/sagebridge/sagebridge/internal/store"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// daemonSync is the daemon's sync engine and, in dev mode, the emulator it
// syncs to. Without aws and mapping sections there is none, and reason
// says so to the log and to the CLI.
type daemonSync struct {
	eng     *engine
	reason  string
	dev     *devAWS
	clients *bridgeaws.Clients

	cancel context.CancelFunc
	done   chan error
}

// startDaemonSync builds the engine (and in dev mode starts the emulator);
// run starts reconciling.
func startDaemonSync(ctx context.Context, cfg *config.Config, dev bool, st store.Store, reg prometheus.Registerer, logger *slog.Logger, si *signIn) (*daemonSync, error) {
	ds := &daemonSync{}
	if cfg.AWS == nil || cfg.Mapping == nil {
		ds.reason = syncDisabledReason(cfg)
		logger.Warn("AWS sync disabled; serving SCIM only", "reason", ds.reason)
		return ds, nil
	}
	endpoint := ""
	if dev {
		var err error
		if ds.dev, err = startDevAWS(cfg); err != nil {
			return nil, err
		}
		endpoint = ds.dev.url
	}
	var err error
	ds.clients, err = newAWSClients(ctx, cfg, endpoint)
	if err == nil {
		ds.eng, err = newEngine(cfg, st, ds.clients.IAM, ds.clients.SageMaker, si.syncOptions(engineOptions{
			dev: dev, metrics: bridgesync.NewMetrics(reg), logger: logger.With("component", "sync"),
		}))
	}
	if err != nil {
		ds.close(logger)
		return nil, err
	}
	if endpoint == "" {
		endpoint = "default"
	}
	logger.Info("AWS sync enabled", "account", cfg.AWS.AccountID, "region", cfg.AWS.Region,
		"domain", cfg.AWS.SageMaker.DomainID, "endpoint", endpoint)
	return ds, nil
}

// control is what the control socket serves for the sync.
func (ds *daemonSync) control() control.Sync {
	if ds.eng == nil {
		return control.SyncDisabled(ds.reason)
	}
	return ds.eng
}

// metadataChanged has the sync push the IdP metadata to the IAM SAML
// provider now.
func (ds *daemonSync) metadataChanged(ctx context.Context) error {
	if ds.eng == nil {
		return nil
	}
	return ds.eng.syncer.MetadataChanged(ctx)
}

// checks are the sync's readiness checks: the full resync runs (it is
// how drift is found), and AWS answers. The AWS check is cached so that a
// load balancer probing /readyz does not turn into AWS calls.
func (ds *daemonSync) checks(cfg *config.Config) []server.Check {
	if ds.eng == nil {
		return nil
	}
	return []server.Check{
		{Name: "resync", Check: server.Recent("full resync", ds.eng.syncer.LastResync, 3*cfg.AWS.Sync.ResyncInterval.Duration, nil)},
		{Name: "aws", Check: server.Cached(func(ctx context.Context) error {
			return pingAWS(ctx, ds.clients, cfg.AWS.SageMaker.DomainID)
		}, awsCheckTTL, nil)},
	}
}

// awsCheckTTL is how long an AWS readiness answer is reused.
const awsCheckTTL = 10 * time.Second

// pingAWS makes the cheapest read of each API the sync uses, on the
// rate-limited clients: one item of each listing.
func pingAWS(ctx context.Context, c *bridgeaws.Clients, domain string) error {
	if _, err := c.IAM.ListRoles(ctx, &iam.ListRolesInput{MaxItems: sdkaws.Int32(1)}); err != nil {
		return fmt.Errorf("IAM: %w", err)
	}
	_, err := c.SageMaker.ListUserProfiles(ctx, &sagemaker.ListUserProfilesInput{DomainIdEquals: &domain, MaxResults: sdkaws.Int32(1)})
	if err != nil {
		return fmt.Errorf("SageMaker: %w", err)
	}
	return nil
}

// run starts the syncer. If it fails (it could not restore its state),
// stopServer shuts the daemon down: a daemon that accepts SCIM changes
// but never applies them would fail silently.
func (ds *daemonSync) run(stopServer context.CancelFunc, logger *slog.Logger) {
	if ds.eng == nil {
		return
	}
	// Not derived from the signal context: the syncer stops after SCIM
	// has drained, so that the last writes are queued before it goes.
	ctx, cancel := context.WithCancel(context.Background())
	ds.cancel, ds.done = cancel, make(chan error, 1)
	go func() {
		err := ds.eng.syncer.Run(ctx)
		if err != nil && ctx.Err() == nil {
			logger.Error("sync stopped; shutting down", "err", err)
			stopServer()
		}
		ds.done <- err
	}()
}

// stop stops the syncer and waits for its reconciles to return.
func (ds *daemonSync) stop() error {
	if ds.cancel == nil {
		return nil
	}
	ds.cancel()
	if err := <-ds.done; err != nil {
		return fmt.Errorf("sync: %w", err)
	}
	return nil
}

// close stops dev mode's emulator, after the syncer.
func (ds *daemonSync) close(logger *slog.Logger) {
	if ds.dev == nil {
		return
	}
	if err := ds.dev.close(); err != nil {
		logger.Error("stop the dev AWS emulator", "err", err)
	}
}
