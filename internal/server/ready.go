package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// A Check is one named condition of readiness. Check returns nil when the
// condition holds, and should return soon after ctx is done.
type Check struct {
	Name  string
	Check func(ctx context.Context) error
}

// DefaultReadyTimeout bounds a /readyz answer when Server.ReadyTimeout is 0.
const DefaultReadyTimeout = 2 * time.Second

func validateChecks(checks []Check) error {
	seen := map[string]bool{}
	for _, c := range checks {
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, " \n:"):
			return fmt.Errorf("readiness check %q: a name is one word", c.Name)
		case c.Check == nil:
			return fmt.Errorf("readiness check %s: no function", c.Name)
		case seen[c.Name]:
			return fmt.Errorf("readiness check %s: registered twice", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// readiness serves /readyz: every check at once, each bounded by one
// timeout, one line per check ("ok NAME" or "fail NAME: reason"), 200 when
// all pass and 503 otherwise. ?exclude=NAME (repeatable) leaves a check
// out, so that a load balancer in front of SCIM can ignore AWS, which SCIM
// writes do not need. Changes of state are logged, not every probe.
type readiness struct {
	checks  []Check
	timeout time.Duration
	log     *slog.Logger

	mu      sync.Mutex
	failing string // the failing checks of the last answer, to log changes
}

func (rd *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	exclude := r.URL.Query()["exclude"]
	checks := slices.DeleteFunc(slices.Clone(rd.checks), func(c Check) bool {
		return slices.Contains(exclude, c.Name)
	})
	ctx, cancel := context.WithTimeout(r.Context(), rd.timeout)
	defer cancel()
	errs := runChecks(ctx, checks, rd.timeout)

	var body strings.Builder
	var failing []string
	for i, c := range checks {
		if errs[i] != nil {
			failing = append(failing, c.Name)
			fmt.Fprintf(&body, "fail %s: %s\n", c.Name, oneLine(errs[i]))
			continue
		}
		fmt.Fprintf(&body, "ok %s\n", c.Name)
	}
	if len(exclude) == 0 {
		rd.logChange(r.Context(), failing, errs)
	}
	status := http.StatusOK
	if len(failing) > 0 {
		status = http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprint(w, body.String())
}

// logChange logs when the set of failing checks differs from the last
// full probe's: a load balancer probing every second would otherwise
// fill the log during an outage.
func (rd *readiness) logChange(ctx context.Context, failing []string, errs []error) {
	now := strings.Join(failing, ",")
	rd.mu.Lock()
	changed := now != rd.failing
	rd.failing = now
	rd.mu.Unlock()
	switch {
	case !changed:
	case now == "":
		rd.log.InfoContext(ctx, "ready")
	default:
		rd.log.WarnContext(ctx, "not ready", "failing", failing, "err", errors.Join(errs...))
	}
}

// runChecks runs every check concurrently and returns their errors in
// order. A check still running when ctx ends is reported as timed out and
// left to finish on its own.
func runChecks(ctx context.Context, checks []Check, timeout time.Duration) []error {
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(checks)) // buffered: late checks never block
	for i, c := range checks {
		go func() {
			defer func() {
				if p := recover(); p != nil {
					results <- result{i, fmt.Errorf("check panicked: %v", p)}
				}
			}()
			results <- result{i, c.Check(ctx)}
		}()
	}
	errs := make([]error, len(checks))
	done := make([]bool, len(checks))
	for range checks {
		select {
		case r := <-results:
			errs[r.i], done[r.i] = r.err, true
		case <-ctx.Done():
			for i := range errs {
				if !done[i] {
					errs[i] = fmt.Errorf("no answer within %s", timeout)
				}
			}
			return errs
		}
	}
	return errs
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

// Cached returns check with its result kept for ttl, so that probes more
// frequent than ttl cost one call per ttl: a load balancer probing /readyz
// must not become a stream of AWS calls. Probes that arrive while a call
// runs wait for it rather than start another. A call whose caller went
// away is not kept; one that ran out of time is (the dependency is slow,
// and asking again at once would not help it). now is the clock; nil
// means time.Now.
func Cached(check func(context.Context) error, ttl time.Duration, now func() time.Time) func(context.Context) error {
	if now == nil {
		now = time.Now
	}
	c := &cachedCheck{check: check, ttl: ttl, now: now}
	return c.get
}

type cachedCheck struct {
	check func(context.Context) error
	ttl   time.Duration
	now   func() time.Time

	mu      sync.Mutex
	err     error
	at      time.Time
	valid   bool
	running chan struct{} // non-nil while a call runs; closed when it ends
}

func (c *cachedCheck) get(ctx context.Context) error {
	c.mu.Lock()
	for {
		if c.valid && c.now().Sub(c.at) < c.ttl {
			err := c.err
			c.mu.Unlock()
			return err
		}
		if c.running == nil {
			break
		}
		running := c.running
		c.mu.Unlock()
		select {
		case <-running:
		case <-ctx.Done():
			return ctx.Err()
		}
		c.mu.Lock()
	}
	running := make(chan struct{})
	c.running = running
	c.mu.Unlock()

	err := c.check(ctx)

	c.mu.Lock()
	if !errors.Is(ctx.Err(), context.Canceled) {
		c.err, c.at, c.valid = err, c.now(), true
	}
	c.running = nil
	close(running)
	c.mu.Unlock()
	return err
}

// Recent returns a check that fails until last reports a time, and when
// that time is more than maxAge before now: for example the last full
// resync, which a stuck sync stops renewing. now is the clock; nil means
// time.Now.
func Recent(what string, last func() time.Time, maxAge time.Duration, now func() time.Time) func(context.Context) error {
	if now == nil {
		now = time.Now
	}
	return func(context.Context) error {
		t := last()
		if t.IsZero() {
			return fmt.Errorf("no %s yet", what)
		}
		if age := now().Sub(t); age > maxAge {
			return fmt.Errorf("last %s %s ago, more than %s", what, age.Round(time.Second), maxAge)
		}
		return nil
	}
}
