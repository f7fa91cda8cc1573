package saml

import (
	"context"
	"time"
)

// Periods of the background work. Pruning and key reloads are cheap; the
// metadata refresh period is configured, and a failed refresh is retried
// sooner.
const (
	pruneEvery     = time.Minute
	pruneBatch     = 1000
	maxPruneRounds = 10
	keysEvery      = time.Minute
	refreshRetry   = time.Minute
)

// Run refreshes the upstream metadata, prunes the replay cache and
// reloads the signing keys until ctx is cancelled. It returns nil then.
func (b *Bridge) Run(ctx context.Context) error {
	refresh := time.NewTimer(0)
	defer refresh.Stop()
	prune := time.NewTicker(pruneEvery)
	defer prune.Stop()
	keys := time.NewTicker(keysEvery)
	defer keys.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-refresh.C:
			refresh.Reset(b.refreshUpstream(ctx))
		case <-prune.C:
			b.pruneReplay(ctx)
		case <-keys.C:
			if err := b.keys.reload(ctx); err != nil {
				b.log.WarnContext(ctx, "reload signing keys", "err", err)
			}
		}
	}
}

// refreshUpstream loads the upstream metadata and returns when to do it
// next.
func (b *Bridge) refreshUpstream(ctx context.Context) time.Duration {
	every := b.cfg.SP.UpstreamMetadata.RefreshInterval.Duration
	if err := b.upstream.refresh(ctx); err != nil {
		b.metrics.refresh.WithLabelValues("error").Inc()
		level := "using the cached metadata"
		if b.upstream.get() == nil {
			level = "sign-in is unavailable until it loads"
		}
		b.log.WarnContext(ctx, "refresh upstream IdP metadata: "+level, "err", err)
		return min(every, refreshRetry)
	}
	b.metrics.refresh.WithLabelValues("ok").Inc()
	return every
}

// pruneReplay drops expired replay entries, in bounded batches so that a
// backlog never makes one transaction large.
func (b *Bridge) pruneReplay(ctx context.Context) {
	for range maxPruneRounds {
		n, err := b.store.PruneSeen(ctx, b.now(), pruneBatch)
		if err != nil {
			b.log.WarnContext(ctx, "prune replay cache", "err", err)
			return
		}
		if n < pruneBatch {
			return
		}
	}
}
