package sync

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sagebridge/sagebridge/internal/requestid"
	"github.com/sagebridge/sagebridge/internal/store"
)

// Queue is the part of the store the controller drives. store.Store
// satisfies it.
type Queue interface {
	DueItems(ctx context.Context, now time.Time, limit int) ([]store.QueueItem, error)
	Complete(ctx context.Context, key string, gen uint64) error
	Reschedule(ctx context.Context, key string, gen uint64, due time.Time, attempts int, lastErr string) error
	QueueChanged() <-chan struct{}
	// QueueItem returns the queued item of key, store.ErrNotFound when
	// the key is not queued.
	QueueItem(ctx context.Context, key string) (store.QueueItem, error)
}

// ControllerOptions configure a Controller. Queue and Reconciler are
// required.
type ControllerOptions struct {
	Queue      Queue
	Reconciler Reconciler
	// Workers is how many keys are reconciled at once. Default 4.
	Workers int
	// Timeout bounds one reconcile, so that a hung call cannot hold a
	// worker forever. Default 5m.
	Timeout time.Duration
	Backoff Backoff
	// Lane holds the keys that run ahead of the due order. Default an
	// empty one, which leaves the due order alone.
	Lane *Lane
	// OnTerminal records a Terminal error where `bridge status` finds it.
	// It is called before the key is completed; if it fails the key is
	// retried instead, so the error is never lost.
	OnTerminal func(ctx context.Context, key string, err error) error
	Metrics    *Metrics
	Logger     *slog.Logger
	// Now and NewTimer are the clock. Defaults time.Now and time.NewTimer,
	// which testing/synctest fakes.
	Now      func() time.Time
	NewTimer func(time.Duration) Timer
}

// Controller pumps due keys from the durable queue to a bounded number of
// workers. The queue entry of a key is removed only after a successful
// reconcile (Complete with the generation that was run), so a crash at any
// point re-runs the key after a restart, and a key enqueued again while it
// runs (a new generation) is not completed away: it runs again afterwards.
type Controller struct {
	o   ControllerOptions
	log *slog.Logger
}

// NewController checks the options and fills in the defaults.
func NewController(o ControllerOptions) (*Controller, error) {
	if o.Queue == nil || o.Reconciler == nil {
		return nil, errors.New("new controller: Queue and Reconciler are required")
	}
	if o.Workers <= 0 {
		o.Workers = 4
	}
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	o.Backoff = o.Backoff.withDefaults()
	if o.Lane == nil {
		o.Lane = NewLane()
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
	return &Controller{o: o, log: o.Logger}, nil
}

// horizon is how far ahead the pump looks for the next due item. The queue
// is ordered by due time, so looking far ahead costs nothing and lets one
// read give both the items to run now and the time to wake up next.
const horizon = 100 * 365 * 24 * time.Hour

// errorPause is how long the pump waits after the store failed to answer.
const errorPause = time.Second

// Run pumps until ctx is done, then waits for the running reconciles to
// return (they see ctx cancelled) and returns nil. Keys still running at
// shutdown stay queued and run again at the next start.
func (c *Controller) Run(ctx context.Context) error {
	running := map[string]bool{}
	done := make(chan string)
	defer func() {
		for len(running) > 0 {
			delete(running, <-done)
		}
	}()
	for {
		wake, err := c.dispatch(ctx, running, done)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			c.log.ErrorContext(ctx, "sync queue read failed", "err", err)
			wake = c.o.Now().Add(errorPause)
		}
		var timer Timer
		var timerC <-chan time.Time
		if !wake.IsZero() {
			timer = c.o.NewTimer(max(wake.Sub(c.o.Now()), 0))
			timerC = timer.C()
		}
		stop := false
		select {
		case <-ctx.Done():
			stop = true
		case key := <-done:
			delete(running, key)
		case <-c.o.Queue.QueueChanged():
		case <-timerC:
		}
		if timer != nil {
			timer.Stop()
		}
		if stop {
			return nil
		}
	}
}

// dispatch starts every due key that is not running, while workers are
// free, the lane's first, and returns when the pump should look again
// without being woken: the earliest due time of what it could not start,
// or zero.
func (c *Controller) dispatch(ctx context.Context, running map[string]bool, done chan<- string) (time.Time, error) {
	free := c.o.Workers - len(running)
	if free <= 0 {
		// A worker finishing wakes the pump.
		return time.Time{}, nil
	}
	now := c.o.Now()
	start := func(it store.QueueItem) {
		running[it.Key] = true
		free--
		go func() {
			c.process(ctx, it)
			done <- it.Key
		}()
	}
	keys, next := c.o.Lane.candidates(now, running)
	for _, k := range keys {
		if free == 0 {
			return time.Time{}, nil
		}
		it, err := c.o.Queue.QueueItem(ctx, k)
		switch {
		case errors.Is(err, store.ErrNotFound):
			c.o.Lane.drop(k)
		case err != nil:
			return time.Time{}, fmt.Errorf("lane: %w", err)
		case it.Due.After(now):
			c.o.Lane.set(k, it.Due)
			next = earliest(next, it.Due)
		default:
			start(it)
		}
	}
	if free == 0 {
		return time.Time{}, nil
	}
	// Running keys are still queued (they are removed on success) and may
	// be due; asking for that many more than the free workers guarantees
	// the read holds every startable item plus the next one to wait for.
	items, err := c.o.Queue.DueItems(ctx, now.Add(horizon), len(running)+free+1)
	if err != nil {
		return time.Time{}, fmt.Errorf("due items: %w", err)
	}
	for _, it := range items {
		if running[it.Key] {
			// Never two workers on one key: a newer generation of a
			// running key waits until the current run ends.
			continue
		}
		if it.Due.After(now) {
			return earliest(next, it.Due), nil
		}
		if free == 0 {
			return time.Time{}, nil
		}
		start(it)
	}
	return next, nil
}

// process runs one reconcile and applies its outcome to the queue. The
// reconcile runs under the id of the request that queued the key, so what
// it logs (its AWS calls) ties back to that request.
func (c *Controller) process(ctx context.Context, it store.QueueItem) {
	ctx = requestid.With(ctx, it.RequestID)
	kind := Kind(it.Key)
	start := c.o.Now()
	res, err := c.reconcile(ctx, it.Key)
	c.o.Metrics.Duration.WithLabelValues(kind).Observe(c.o.Now().Sub(start).Seconds())
	if ctx.Err() != nil {
		// Shutting down: the entry stays as it was and runs after the
		// restart; recording a cancellation as a failure would only
		// lengthen its backoff.
		c.o.Metrics.Reconciles.WithLabelValues(kind, "canceled").Inc()
		return
	}
	result := c.outcome(ctx, it, res, err)
	c.o.Lane.recheck(it.Key)
	c.o.Metrics.Reconciles.WithLabelValues(kind, result).Inc()
}

// outcome is controller-runtime's reconcileHandler switch over the durable
// queue. It returns the result label.
func (c *Controller) outcome(ctx context.Context, it store.QueueItem, res Result, err error) string {
	log := c.log.With("key", it.Key, "gen", it.Gen)
	now := c.o.Now()
	var qerr error
	var result string
	switch {
	case err == nil && res.RequeueAfter > 0:
		result = "requeue"
		qerr = c.o.Queue.Reschedule(ctx, it.Key, it.Gen, now.Add(res.RequeueAfter), it.Attempts, "")
		log.DebugContext(ctx, "reconcile requeued", "after", res.RequeueAfter)
	case err == nil:
		result = "success"
		qerr = c.o.Queue.Complete(ctx, it.Key, it.Gen)
	case IsTerminal(err):
		result = "terminal"
		log.WarnContext(ctx, "reconcile failed terminally; not retried until the key changes", "err", err)
		if c.o.OnTerminal != nil {
			if rerr := c.o.OnTerminal(ctx, it.Key, err); rerr != nil {
				return c.retry(ctx, log, it, fmt.Errorf("record terminal error %v: %w", err, rerr), "error")
			}
		}
		qerr = c.o.Queue.Complete(ctx, it.Key, it.Gen)
	case isPanic(err):
		result = c.retry(ctx, log, it, err, "panic")
	default:
		result = "error"
		if isThrottle(err) {
			// A throttle is AWS asking for patience, not a failure of
			// the user: it backs off like any error but is labelled
			// apart and logged quietly.
			result = "throttled"
		}
		result = c.retry(ctx, log, it, err, result)
	}
	if qerr != nil {
		log.ErrorContext(ctx, "sync queue update failed; the key will run again", "result", result, "err", qerr)
	}
	return result
}

// retry reschedules the key with per-key exponential backoff.
func (c *Controller) retry(ctx context.Context, log *slog.Logger, it store.QueueItem, err error, result string) string {
	attempts := min(it.Attempts+1, maxAttempts)
	delay := c.o.Backoff.Delay(attempts)
	level := slog.LevelWarn
	if result == "throttled" {
		level = slog.LevelDebug
	}
	log.Log(ctx, level, "reconcile failed; retrying", "result", result, "attempts", attempts, "after", delay, "err", err)
	if qerr := c.o.Queue.Reschedule(ctx, it.Key, it.Gen, c.o.Now().Add(delay), attempts, err.Error()); qerr != nil {
		log.ErrorContext(ctx, "sync queue update failed; the key will run again", "err", qerr)
	}
	return result
}

// reconcile calls the reconciler with a timeout and turns a panic into an
// error, so one bad key cannot take the daemon down.
func (c *Controller) reconcile(ctx context.Context, key string) (res Result, err error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			c.o.Metrics.Panics.WithLabelValues(Kind(key)).Inc()
			c.log.ErrorContext(ctx, "reconcile panicked", "key", key, "panic", fmt.Sprint(p))
			res, err = Result{}, &panicError{value: p}
		}
	}()
	return c.o.Reconciler.Reconcile(ctx, key)
}

type panicError struct{ value any }

func (e *panicError) Error() string { return fmt.Sprintf("reconcile panicked: %v", e.value) }

func isPanic(err error) bool {
	var pe *panicError
	return errors.As(err, &pe)
}
