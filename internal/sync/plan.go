package sync

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	gosync "sync"
	"time"

	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sagemaker"

	"github.com/sagebridge/sagebridge/internal/config"
)

// Plan is what a sync would change now.
type Plan struct {
	At   time.Time
	Full bool
	// Keys is how many queue keys were examined.
	Keys int
	// Changes are the keys with writes to make or an error; keys a sync
	// would leave alone are only counted.
	Changes []KeyPlan
	// Warnings are what kept the plan from looking everywhere (AWS could
	// not be listed for drift, say): without them, no changes means none.
	Warnings []string
}

// KeyPlan is what a sync would do for one queue key.
type KeyPlan struct {
	Key     string
	Actions []Action
	// Error is why the key would not converge: a conflict, a held
	// deletion, an invalid identity, an AWS error.
	Error string
}

// Plan runs the sync's own reconcilers once over every key a full resync
// visits, with reads reaching AWS and the store and every write recorded
// instead of made, over a scratch copy of the status records. With full
// the records of what was applied are dropped, so every key reads AWS.
// The plan's syncer holds no client, store or record store with a write
// method (see writer.go), so it changes nothing by construction, and it
// may run beside the daemon's.
func (s *Syncer) Plan(ctx context.Context, full bool) (Plan, error) {
	records := NewMemStatus()
	err := scanStatus(ctx, s.records, "", func(st Status) error {
		if full {
			st.Applied = ""
		}
		records.m[st.Key] = st
		return nil
	})
	if err != nil {
		return Plan{}, fmt.Errorf("plan: copy the sync records: %w", err)
	}
	warnings := &warnCollector{sink: &warnSink{}}
	o := s.o
	o.Logger, o.Metrics = slog.New(warnings), NewMetrics(nil)
	dry := newSyncer(o, s.iam, s.sm, s.store, records)
	rec := &planWriter{records: records, partition: s.aws.Partition, account: s.aws.AccountID}
	dry.w = rec
	if err := dry.restore(ctx); err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	if err := dry.markMissing(ctx); err != nil {
		dry.log.WarnContext(ctx, "listing AWS for drift failed", "err", err)
	}
	keys, err := dry.resyncKeys(ctx)
	if err != nil {
		return Plan{}, fmt.Errorf("plan: %w", err)
	}
	planOrder(records, keys)
	p := Plan{At: s.o.Now().UTC(), Full: full, Keys: len(keys)}
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return Plan{}, fmt.Errorf("plan: %w", err)
		}
		_, err := dry.Reconcile(ctx, key)
		kp := KeyPlan{Key: key, Actions: rec.take()}
		if err != nil {
			kp.Error = err.Error()
		}
		if len(kp.Actions) > 0 || kp.Error != "" {
			p.Changes = append(p.Changes, kp)
		}
	}
	p.Warnings = warnings.sink.take()
	return p, nil
}

// planOrder orders keys as dependencies need: the SAML provider, then the
// teams (whose roles the users' profiles name), then the users, those
// with a bound profile name first, oldest binding first, as the syncer
// restores its identity claims, so a plan reports the same collisions.
func planOrder(records *MemStatus, keys []string) {
	rank := func(k string) int {
		switch Kind(k) {
		case kindSAML:
			return 0
		case kindTeam:
			return 1
		case kindUser:
			if records.m[k].Profile != "" {
				return 2
			}
			return 3
		}
		return 4
	}
	slices.SortStableFunc(keys, func(a, b string) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), records.m[a].Bound.Compare(records.m[b].Bound), cmp.Compare(a, b))
	})
}

// planWriter records the writes of the key being planned. Status records
// go to the plan's scratch copy, so a team planned before its users hands
// them the role ARNs it would create; enqueues go nowhere, since the plan
// visits every key once in dependency order.
type planWriter struct {
	records            *MemStatus
	partition, account string

	mu   gosync.Mutex
	acts []Action
}

func (w *planWriter) add(act Action) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.acts = append(w.acts, act)
}

// take returns the writes recorded since the last take.
func (w *planWriter) take() []Action {
	w.mu.Lock()
	defer w.mu.Unlock()
	acts := w.acts
	w.acts = nil
	return acts
}

func (w *planWriter) applySAML(_ context.Context, _ samlSpec, act Action) (bool, error) {
	w.add(act)
	return true, nil
}

// applyRole answers a CreateRole with the ARN IAM would return.
func (w *planWriter) applyRole(_ context.Context, d roleSpec, act Action) (string, bool, error) {
	w.add(act)
	if act.Op == "CreateRole" {
		return config.RoleARN(w.partition, w.account, d.Path, d.Name), true, nil
	}
	return "", true, nil
}

func (w *planWriter) applyProfile(_ context.Context, _ profileSpec, _ ProfileState, act Action) (bool, error) {
	w.add(act)
	return true, nil
}

func (w *planWriter) deleteApp(_ context.Context, in *sagemaker.DeleteAppInput) error {
	owner := "user profile " + sdkaws.ToString(in.UserProfileName)
	if in.SpaceName != nil {
		owner = "space " + *in.SpaceName
	}
	w.add(Action{Op: "DeleteApp", Resource: sdkaws.ToString(in.AppName), Detail: owner})
	return nil
}

func (w *planWriter) deleteSpace(_ context.Context, name string) error {
	w.add(Action{Op: "DeleteSpace", Resource: name})
	return nil
}

func (w *planWriter) deleteUserProfile(_ context.Context, name string) error {
	w.add(Action{Op: "DeleteUserProfile", Resource: name})
	return nil
}

func (w *planWriter) enqueue(context.Context, ...string) error { return nil }

func (w *planWriter) putStatus(ctx context.Context, st Status) error {
	return w.records.PutStatus(ctx, st)
}

func (w *planWriter) deleteStatus(ctx context.Context, key string) error {
	return w.records.DeleteStatus(ctx, key)
}

// warnCollector keeps the warnings a plan's reconcilers log (such as a
// failed listing of AWS for drift), for the plan to report: a plan that
// could not look must not pass for a plan that found nothing.
type warnCollector struct {
	sink  *warnSink
	attrs []slog.Attr
}

type warnSink struct {
	mu   gosync.Mutex
	msgs []string
}

func (s *warnSink) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	msgs := s.msgs
	s.msgs = nil
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

var _ writer = (*planWriter)(nil)
