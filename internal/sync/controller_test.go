package sync

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// step is one scripted reconcile outcome.
type step struct {
	res   Result
	err   error
	panic bool
}

// scripted is a fake reconciler that plays a script per key (the last step
// repeats) and records when each key ran.
type scripted struct {
	mu     gosync.Mutex
	script map[string][]step
	runs   map[string][]time.Time
}

func newScripted(script map[string][]step) *scripted {
	return &scripted{script: script, runs: map[string][]time.Time{}}
}

func (s *scripted) Reconcile(_ context.Context, key string) (Result, error) {
	s.mu.Lock()
	n := len(s.runs[key])
	s.runs[key] = append(s.runs[key], time.Now())
	steps := s.script[key]
	s.mu.Unlock()
	if len(steps) == 0 {
		return Result{}, nil
	}
	st := steps[min(n, len(steps)-1)]
	if st.panic {
		panic("scripted panic")
	}
	return st.res, st.err
}

func (s *scripted) ranAt(key string) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Duration
	for _, t := range s.runs[key] {
		out = append(out, t.Sub(testStart))
	}
	return out
}

// testStart is the fake clock's start inside every synctest bubble.
var testStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// startController runs a controller in the bubble and stops it at the end.
func startController(t *testing.T, q *memQueue, r Reconciler, mod func(*ControllerOptions)) *Metrics {
	t.Helper()
	m := NewMetrics(prometheus.NewRegistry())
	o := ControllerOptions{Queue: q, Reconciler: r, Workers: 2, Metrics: m,
		Backoff: Backoff{Base: time.Second, Max: 8 * time.Second, Jitter: -1}}
	if mod != nil {
		mod(&o)
	}
	c, err := NewController(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		if err := c.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-stopped
	})
	return m
}

var throttle = &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}

func TestControllerOutcomes(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name      string
		steps     []step
		wait      time.Duration
		wantRuns  []time.Duration // offsets from the start
		wantQueue bool            // still queued at the end
		wantAtt   int
		wantLast  string
		results   map[string]float64
		terminal  bool
	}{
		{name: "success completes", steps: []step{{}}, wait: time.Minute,
			wantRuns: []time.Duration{0}, results: map[string]float64{"success": 1}},
		{name: "requeue keeps attempts", steps: []step{{res: Result{RequeueAfter: 10 * time.Second}}, {res: Result{RequeueAfter: 5 * time.Second}}, {}},
			wait: time.Minute, wantRuns: []time.Duration{0, 10 * time.Second, 15 * time.Second},
			results: map[string]float64{"requeue": 2, "success": 1}},
		{name: "errors back off exponentially", steps: []step{{err: boom}, {err: boom}, {err: boom}, {}},
			wait: time.Minute, wantRuns: []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second},
			results: map[string]float64{"error": 3, "success": 1}},
		{name: "backoff is capped", steps: []step{{err: boom}},
			wait: 40 * time.Second, wantRuns: []time.Duration{0, 1 * time.Second, 3 * time.Second, 7 * time.Second, 15 * time.Second, 23 * time.Second, 31 * time.Second, 39 * time.Second},
			wantQueue: true, wantAtt: 8, wantLast: "boom", results: map[string]float64{"error": 8}},
		{name: "throttles back off and are labelled apart", steps: []step{{err: fmt.Errorf("describe: %w", throttle)}, {}},
			wait: time.Minute, wantRuns: []time.Duration{0, time.Second},
			results: map[string]float64{"throttled": 1, "success": 1}},
		{name: "terminal is recorded and not retried", steps: []step{{err: Terminal(boom)}, {}},
			wait: time.Hour, wantRuns: []time.Duration{0}, terminal: true,
			results: map[string]float64{"terminal": 1}},
		{name: "error wins over requeue", steps: []step{{res: Result{RequeueAfter: time.Hour}, err: boom}, {}},
			wait: time.Minute, wantRuns: []time.Duration{0, time.Second},
			results: map[string]float64{"error": 1, "success": 1}},
		{name: "panics are recovered and retried", steps: []step{{panic: true}, {}},
			wait: time.Minute, wantRuns: []time.Duration{0, time.Second},
			results: map[string]float64{"panic": 1, "success": 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				time.Sleep(time.Until(testStart))
				q := newMemQueue(time.Now)
				r := newScripted(map[string][]step{"user/a": tt.steps})
				var recorded []string
				m := startController(t, q, r, func(o *ControllerOptions) {
					o.OnTerminal = func(_ context.Context, key string, err error) error {
						recorded = append(recorded, key+": "+err.Error())
						return nil
					}
				})
				q.Enqueue(context.Background(), "user/a")
				time.Sleep(tt.wait)
				synctest.Wait()

				if got := r.ranAt("user/a"); fmt.Sprint(got) != fmt.Sprint(tt.wantRuns) {
					t.Errorf("runs at %v, want %v", got, tt.wantRuns)
				}
				it, queued := q.get("user/a")
				if queued != tt.wantQueue || it.Attempts != tt.wantAtt || it.LastError != tt.wantLast {
					t.Errorf("queue entry %+v (queued %v), want queued %v attempts %d lastErr %q", it, queued, tt.wantQueue, tt.wantAtt, tt.wantLast)
				}
				for result, want := range tt.results {
					if got := testutil.ToFloat64(m.Reconciles.WithLabelValues("user", result)); got != want {
						t.Errorf("reconciles{result=%s} = %v, want %v", result, got, want)
					}
				}
				if tt.terminal != (len(recorded) == 1) {
					t.Errorf("terminal errors recorded: %q", recorded)
				}
				if tt.name == "panics are recovered and retried" && testutil.ToFloat64(m.Panics.WithLabelValues("user")) != 1 {
					t.Error("panic not counted")
				}
			})
		})
	}
}

// A Terminal key runs again once it is enqueued again (the input changed).
func TestControllerTerminalRunsAgainWhenEnqueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		r := newScripted(map[string][]step{"user/a": {{err: Terminal(errors.New("bad name"))}, {}}})
		startController(t, q, r, nil)
		q.Enqueue(context.Background(), "user/a")
		time.Sleep(time.Hour)
		q.Enqueue(context.Background(), "user/a")
		synctest.Wait()
		if n := len(r.ranAt("user/a")); n != 2 || q.len() != 0 {
			t.Errorf("runs %d, queue %d; want 2 runs and an empty queue", n, q.len())
		}
	})
}

// A failing OnTerminal must not lose the error: the key is retried.
func TestControllerTerminalRecordFailureRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		r := newScripted(map[string][]step{"user/a": {{err: Terminal(errors.New("bad"))}}})
		startController(t, q, r, func(o *ControllerOptions) {
			o.OnTerminal = func(context.Context, string, error) error { return errors.New("disk full") }
		})
		q.Enqueue(context.Background(), "user/a")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		it, ok := q.get("user/a")
		if !ok || it.Attempts != 2 || !strings.Contains(it.LastError, "disk full") {
			t.Errorf("queue entry %+v, %v", it, ok)
		}
	})
}

// gate is a reconciler that blocks every run until released, and records
// how many runs of each key overlapped.
type gate struct {
	mu          gosync.Mutex
	release     chan struct{}
	active      map[string]int
	maxPerKey   int
	total       int
	maxTotal    int
	runs        map[string]int
	onFirstWait func(key string)
}

func newGate() *gate {
	return &gate{release: make(chan struct{}), active: map[string]int{}, runs: map[string]int{}}
}

func (g *gate) Reconcile(ctx context.Context, key string) (Result, error) {
	g.mu.Lock()
	g.active[key]++
	g.total++
	g.runs[key]++
	g.maxPerKey = max(g.maxPerKey, g.active[key])
	g.maxTotal = max(g.maxTotal, g.total)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.active[key]--
		g.total--
		g.mu.Unlock()
	}()
	select {
	case <-g.release:
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
	return Result{}, nil
}

// A key enqueued again while it runs is not run concurrently, is not
// completed away by the older run, and runs once more afterwards.
func TestControllerRerunsKeyEnqueuedWhileRunning(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		g := newGate()
		startController(t, q, g, func(o *ControllerOptions) { o.Workers = 4 })
		ctx := context.Background()
		q.Enqueue(ctx, "user/a")
		synctest.Wait()
		q.Enqueue(ctx, "user/a") // new gen while the first run blocks
		q.Enqueue(ctx, "user/a")
		synctest.Wait()
		if g.runs["user/a"] != 1 {
			t.Fatalf("runs while the first is blocked = %d, want 1", g.runs["user/a"])
		}
		close(g.release)
		synctest.Wait()
		if g.runs["user/a"] != 2 || g.maxPerKey != 1 || q.len() != 0 {
			t.Errorf("runs %d, max concurrent per key %d, queue %d; want 2, 1, 0", g.runs["user/a"], g.maxPerKey, q.len())
		}
	})
}

func TestControllerBoundsWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		g := newGate()
		startController(t, q, g, func(o *ControllerOptions) { o.Workers = 3 })
		for i := range 10 {
			q.Enqueue(context.Background(), fmt.Sprintf("user/%d", i))
		}
		synctest.Wait()
		if g.total != 3 {
			t.Errorf("running = %d, want 3", g.total)
		}
		close(g.release)
		synctest.Wait()
		if g.maxTotal != 3 || q.len() != 0 {
			t.Errorf("max running %d, queue %d; want 3 and 0", g.maxTotal, q.len())
		}
	})
}

// A key due later than one that is running long still runs on time: the
// pump looks past running keys for the next due time.
func TestControllerWakesForLaterKeyWhileOneRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		blocked := newGate()
		r := ReconcilerFunc(func(ctx context.Context, key string) (Result, error) {
			if key == "user/slow" {
				return blocked.Reconcile(ctx, key)
			}
			return Result{}, nil
		})
		startController(t, q, r, nil)
		ctx := context.Background()
		q.Enqueue(ctx, "user/slow", "user/b")
		synctest.Wait()
		it, _ := q.get("user/b")
		if _, ok := q.get("user/b"); ok {
			t.Fatalf("user/b should have completed: %+v", it)
		}
		// Put b back, due in 30 s, by failing it once.
		q.Enqueue(ctx, "user/b")
		it, _ = q.get("user/b")
		q.Reschedule(ctx, "user/b", it.Gen, time.Now().Add(30*time.Second), 1, "x")
		time.Sleep(31 * time.Second)
		synctest.Wait()
		if _, ok := q.get("user/b"); ok {
			t.Error("user/b did not run when due while user/slow was running")
		}
		close(blocked.release)
	})
}

// At shutdown a running reconcile sees its context cancelled, and its key
// stays queued without an attempt being counted.
func TestControllerShutdownLeavesKeyQueued(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newMemQueue(time.Now)
		g := newGate()
		c, err := NewController(ControllerOptions{Queue: q, Reconciler: g})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		q.Enqueue(context.Background(), "user/a")
		synctest.Wait()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		it, ok := q.get("user/a")
		if !ok || it.Attempts != 0 {
			t.Errorf("after shutdown the key is %+v (queued %v), want queued with 0 attempts", it, ok)
		}
	})
}

// Keys others wait for run as soon as they are due, ahead of keys due
// earlier, the SAML provider before the teams, and keep that place after
// a failure; enqueued without the lane they wait their turn.
func TestControllerLaneRunsDependenciesFirst(t *testing.T) {
	users := []string{"user/0", "user/1", "user/2", "user/3"}
	for _, tt := range []struct {
		name    string
		deps    []string
		viaLane bool
		fails   map[string]int // failures before a key succeeds
		want    []string
	}{
		{name: "the SAML provider, then teams, then users", deps: []string{"team/a", "saml"}, viaLane: true,
			want: []string{"saml", "team/a", "user/0", "user/1", "user/2", "user/3"}},
		{name: "a failed team keeps its place when due again", deps: []string{"team/a"}, viaLane: true, fails: map[string]int{"team/a": 1},
			want: []string{"team/a", "user/0", "team/a", "user/1", "user/2", "user/3"}},
		{name: "without the lane, the due order", deps: []string{"team/a"},
			want: []string{"user/0", "user/1", "user/2", "user/3", "team/a"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu gosync.Mutex
				var order []string
				fails := maps.Clone(tt.fails)
				r := ReconcilerFunc(func(_ context.Context, key string) (Result, error) {
					mu.Lock()
					order = append(order, key)
					failed := fails[key] > 0
					if failed {
						fails[key]--
					}
					mu.Unlock()
					if failed {
						return Result{}, errors.New("not yet")
					}
					if Kind(key) == kindUser {
						time.Sleep(time.Second) // a user's AWS calls take a while
					}
					return Result{}, nil
				})
				ctx := context.Background()
				q := newMemQueue(time.Now)
				q.Enqueue(ctx, users...)
				time.Sleep(time.Second) // the dependencies are enqueued after the users
				q.Enqueue(ctx, tt.deps...)
				lane := NewLane()
				if tt.viaLane {
					lane.Add(tt.deps...)
				}
				startController(t, q, r, func(o *ControllerOptions) { o.Workers, o.Lane = 1, lane })
				time.Sleep(time.Minute)
				synctest.Wait()
				mu.Lock()
				got := fmt.Sprint(order)
				mu.Unlock()
				if got != fmt.Sprint(tt.want) {
					t.Errorf("ran %s, want %v", got, tt.want)
				}
				if keys, next := lane.candidates(time.Now(), nil); q.len() != 0 || len(keys) != 0 || !next.IsZero() {
					t.Errorf("queue %d, lane %v %v; want both empty", q.len(), keys, next)
				}
			})
		})
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: time.Minute, Jitter: -1}.withDefaults()
	for attempts, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 6: 32 * time.Second, 7: time.Minute, 1000: time.Minute} {
		if got := b.Delay(attempts); got != want {
			t.Errorf("Delay(%d) = %v, want %v", attempts, got, want)
		}
	}
	j := Backoff{Base: time.Second, Max: time.Minute, Jitter: 0.5, Rand: func() float64 { return 0 }}.withDefaults()
	if got := j.Delay(2); got != 1500*time.Millisecond {
		t.Errorf("low jitter: %v", got)
	}
	j.Rand = func() float64 { return 0.999999 }
	if got := j.Delay(7); got != time.Minute {
		t.Errorf("jitter must not pass Max: %v", got)
	}
}

func TestKind(t *testing.T) {
	for key, want := range map[string]string{"user/1": "user", "group/x": "group", "team/a": "team", "saml": "saml", "weird/1": "other", "": "other"} {
		if got := Kind(key); got != want {
			t.Errorf("Kind(%q) = %q, want %q", key, got, want)
		}
	}
}

// The same guarantees over the real bbolt queue: a key enqueued again while
// it runs runs once more afterwards and is then gone, and keys never
// overlap.
func TestControllerOverBoltQueue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st, err := boltstore.Open(filepath.Join(t.TempDir(), "q.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		g := newGate()
		ctx, cancel := context.WithCancel(context.Background())
		c, err := NewController(ControllerOptions{Queue: st, Reconciler: g, Workers: 4})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error)
		go func() { done <- c.Run(ctx) }()
		st.Enqueue(ctx, "user/a", "user/b")
		synctest.Wait()
		st.Enqueue(ctx, "user/a")
		synctest.Wait()
		close(g.release)
		synctest.Wait()
		if g.runs["user/a"] != 2 || g.runs["user/b"] != 1 || g.maxPerKey != 1 {
			t.Errorf("runs %v, max per key %d; want a twice, b once, never overlapping", g.runs, g.maxPerKey)
		}
		if _, ok, _ := st.NextDue(ctx); ok {
			t.Error("the queue should be empty")
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}
