package main

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

// Plan implements control.Sync with a dry run of the sync (see dryrun.go):
// the keys a full resync would enqueue, each reconciled once by a syncer
// whose writes go nowhere. It changes nothing in AWS, the store or the
// status records, and may run beside the daemon's syncer.
func (e *engine) Plan(ctx context.Context, full bool) (control.Plan, error) {
	status, err := e.statusCopy(ctx, full)
	if err != nil {
		return control.Plan{}, fmt.Errorf("plan: %w", err)
	}
	rec := &recorder{}
	ro := &readOnlyStore{Store: e.store, enqueued: map[string]bool{}}
	o := e.opts
	o.Store, o.Status = ro, status
	o.IAM = dryIAM{c: e.iam, rec: rec, partition: e.cfg.AWS.Partition, account: e.cfg.AWS.AccountID}
	o.SageMaker = drySageMaker{c: e.sm, rec: rec}
	warnings := newWarnCollector()
	o.Metrics, o.Logger = nil, slog.New(warnings)
	dry, err := bridgesync.New(o)
	if err != nil {
		return control.Plan{}, fmt.Errorf("plan: %w", err)
	}
	// Resync finds the keys (every team and user, recorded or in the
	// store) and, as the sync does, marks for verification the recorded
	// resources missing from AWS's listings.
	if err := dry.Resync(ctx); err != nil {
		return control.Plan{}, fmt.Errorf("plan: %w", err)
	}
	keys, err := planOrder(ctx, status, ro.takeEnqueued())
	if err != nil {
		return control.Plan{}, fmt.Errorf("plan: %w", err)
	}
	p := control.Plan{At: time.Now().UTC(), Full: full, Keys: len(keys), Changes: []control.KeyPlan{}}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return control.Plan{}, fmt.Errorf("plan: %w", err)
		}
		_, err := dry.Reconcile(ctx, key)
		kp := control.KeyPlan{Key: key, Actions: rec.take()}
		if err != nil {
			kp.Error = err.Error()
		}
		if len(kp.Actions) > 0 || kp.Error != "" {
			p.Changes = append(p.Changes, kp)
		}
	}
	p.Warnings = warnings.take()
	return p, nil
}

// statusCopy copies the status records for the dry run to change. With
// full, the record of what was applied is dropped, so every key reads AWS.
func (e *engine) statusCopy(ctx context.Context, full bool) (*memStatus, error) {
	cp := &memStatus{m: map[string]bridgesync.Status{}}
	err := scanAllStatus(ctx, e.status, func(st bridgesync.Status) error {
		if full {
			st.Applied = ""
		}
		return cp.PutStatus(ctx, st)
	})
	return cp, err
}

// planOrder orders keys as dependencies need: the SAML provider, then the
// teams (whose roles the users' profiles name), then the users, those
// with a bound profile name first, oldest binding first, as the syncer
// restores its identity claims, so a plan reports the same collisions.
func planOrder(ctx context.Context, status bridgesync.StatusStore, keys []string) ([]string, error) {
	bound := map[string]time.Time{}
	err := scanAllStatus(ctx, status, func(st bridgesync.Status) error {
		if st.Profile != "" {
			bound[st.Key] = st.Bound
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rank := func(k string) int {
		switch bridgesync.Kind(k) {
		case "saml":
			return 0
		case "team":
			return 1
		case "user":
			if _, ok := bound[k]; ok {
				return 2
			}
			return 3
		}
		return 4
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), bound[a].Compare(bound[b]), cmp.Compare(a, b))
	})
	return keys, nil
}

// warnCollector keeps the warnings the dry run logs (such as a failed
// listing of AWS for drift), for the plan to report: a plan that could not
// look must not pass for a plan that found nothing.
type warnCollector struct {
	sink  *warnSink
	attrs []slog.Attr
}

type warnSink struct {
	mu   gosync.Mutex
	msgs []string
}

func newWarnCollector() *warnCollector { return &warnCollector{sink: &warnSink{}} }

// take returns the warnings collected so far.
func (c *warnCollector) take() []string {
	c.sink.mu.Lock()
	defer c.sink.mu.Unlock()
	msgs := c.sink.msgs
	c.sink.msgs = nil
	return msgs
}

func (c *warnCollector) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }

func (c *warnCollector) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	add := func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	}
	for _, a := range c.attrs {
		add(a)
	}
	r.Attrs(add)
	c.sink.mu.Lock()
	defer c.sink.mu.Unlock()
	c.sink.msgs = append(c.sink.msgs, b.String())
	return nil
}

func (c *warnCollector) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &warnCollector{sink: c.sink, attrs: append(slices.Clone(c.attrs), attrs...)}
}

// WithGroup flattens: the warnings are read by a person, not parsed.
func (c *warnCollector) WithGroup(string) slog.Handler { return c }
