package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func okCheck(context.Context) error { return nil }

func TestReadyz(t *testing.T) {
	hang := func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }
	tests := []struct {
		name     string
		checks   []Check
		query    string
		wantCode int
		wantBody string
	}{
		{
			name:     "all pass",
			checks:   []Check{{"store", okCheck}, {"resync", okCheck}},
			wantCode: http.StatusOK, wantBody: "ok store\nok resync\n",
		},
		{
			name: "one fails, in registration order",
			checks: []Check{{"store", okCheck}, {"aws", func(context.Context) error {
				return errors.New("dial tcp: connection refused\nretry later")
			}}, {"resync", okCheck}},
			wantCode: http.StatusServiceUnavailable,
			wantBody: "ok store\nfail aws: dial tcp: connection refused; retry later\nok resync\n",
		},
		{
			name:     "a hanging check times out",
			checks:   []Check{{"store", okCheck}, {"aws", hang}},
			wantCode: http.StatusServiceUnavailable, wantBody: "ok store\nfail aws: no answer within 2s\n",
		},
		{
			name:     "a panicking check fails",
			checks:   []Check{{"store", func(context.Context) error { panic("boom") }}},
			wantCode: http.StatusServiceUnavailable, wantBody: "fail store: check panicked: boom\n",
		},
		{
			name:     "excluded checks are not run",
			checks:   []Check{{"store", okCheck}, {"aws", hang}, {"resync", hang}},
			query:    "?exclude=aws&exclude=resync",
			wantCode: http.StatusOK, wantBody: "ok store\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				code, body := probeReadyz(t, &Server{Checks: tt.checks}, tt.query)
				if code != tt.wantCode || body != tt.wantBody {
					t.Errorf("got %d %q, want %d %q", code, body, tt.wantCode, tt.wantBody)
				}
			})
		})
	}
}

func probeReadyz(t *testing.T, s *Server, query string) (int, string) {
	t.Helper()
	if err := validateChecks(s.Checks); err != nil {
		t.Fatal(err)
	}
	s.Registry = prometheus.NewRegistry()
	rec := httptest.NewRecorder()
	s.adminMux(slog.New(slog.DiscardHandler)).ServeHTTP(rec, httptest.NewRequest("GET", "/readyz"+query, nil))
	return rec.Code, rec.Body.String()
}

// a and b each wait for the other to have started: they pass only if the
// checks run concurrently (one at a time, the first would time out).
func TestReadyzRunsChecksConcurrently(t *testing.T) {
	aStarted, bStarted := make(chan struct{}), make(chan struct{})
	meet := func(mine, theirs chan struct{}) func(context.Context) error {
		return func(ctx context.Context) error {
			close(mine)
			select {
			case <-theirs:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	s := &Server{Checks: []Check{{"a", meet(aStarted, bStarted)}, {"b", meet(bStarted, aStarted)}}}
	if code, body := probeReadyz(t, s, ""); code != http.StatusOK || body != "ok a\nok b\n" {
		t.Errorf("got %d %q", code, body)
	}
}

func TestValidateChecks(t *testing.T) {
	tests := []struct {
		name   string
		checks []Check
		ok     bool
	}{
		{"distinct names", []Check{{"store", okCheck}, {"aws", okCheck}}, true},
		{"empty name", []Check{{"", okCheck}}, false},
		{"name with a space", []Check{{"last resync", okCheck}}, false},
		{"no function", []Check{{"store", nil}}, false},
		{"twice", []Check{{"store", okCheck}, {"store", okCheck}}, false},
	}
	for _, tt := range tests {
		if err := validateChecks(tt.checks); (err == nil) != tt.ok {
			t.Errorf("%s: err = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}

type fakeClock struct{ t atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.t.Store(time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.t.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.t.Add(int64(d)) }

func TestCachedKeepsResultForTTL(t *testing.T) {
	clock := newFakeClock()
	var calls atomic.Int32
	fail := errors.New("throttled")
	check := Cached(func(context.Context) error {
		if calls.Add(1) == 1 {
			return fail
		}
		return nil
	}, 5*time.Second, clock.Now)
	ctx := context.Background()
	steps := []struct {
		advance   time.Duration
		wantErr   error
		wantCalls int32
	}{
		{0, fail, 1},
		{4 * time.Second, fail, 1}, // cached, failure included
		{time.Second, nil, 2},      // ttl passed: asked again
		{time.Second, nil, 2},
	}
	for i, st := range steps {
		clock.Advance(st.advance)
		if err := check(ctx); !errors.Is(err, st.wantErr) || calls.Load() != st.wantCalls {
			t.Fatalf("step %d: err %v, calls %d; want %v, %d", i, err, calls.Load(), st.wantErr, st.wantCalls)
		}
	}
}

func TestCachedOneCallForConcurrentProbes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var calls atomic.Int32
		release := make(chan struct{})
		check := Cached(func(context.Context) error {
			calls.Add(1)
			<-release
			return nil
		}, 5*time.Second, nil)
		errs := make(chan error, 2)
		for range 2 {
			go func() { errs <- check(context.Background()) }()
			synctest.Wait() // the first is in the call, the second waiting for it
		}
		close(release)
		for range 2 {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if n := calls.Load(); n != 1 {
			t.Fatalf("%d calls, want 1", n)
		}
	})
}

func TestCachedForgetsACallWhoseCallerLeft(t *testing.T) {
	var calls atomic.Int32
	check := Cached(func(ctx context.Context) error {
		calls.Add(1)
		return ctx.Err()
	}, time.Minute, newFakeClock().Now)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if err := check(context.Background()); err != nil || calls.Load() != 2 {
		t.Fatalf("after a canceled call: err %v, calls %d; want nil, 2", err, calls.Load())
	}
}

func TestRecent(t *testing.T) {
	clock := newFakeClock()
	tests := []struct {
		name    string
		last    time.Time
		wantErr string
	}{
		{"never", time.Time{}, "no full resync yet"},
		{"within the limit", clock.Now().Add(-time.Hour), ""},
		{"too old", clock.Now().Add(-3*time.Hour - 400*time.Millisecond), "last full resync 3h0m0s ago, more than 2h0m0s"},
	}
	for _, tt := range tests {
		err := Recent("full resync", func() time.Time { return tt.last }, 2*time.Hour, clock.Now)(context.Background())
		if got := errString(err); got != tt.wantErr {
			t.Errorf("%s: err %q, want %q", tt.name, got, tt.wantErr)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The state changes of readiness are logged, not every probe.
func TestReadyzLogsChangesOnly(t *testing.T) {
	var failing atomic.Bool
	var lines atomic.Int32
	log := slog.New(slog.NewTextHandler(writerFunc(func(p []byte) (int, error) {
		lines.Add(1)
		return len(p), nil
	}), nil))
	rd := &readiness{checks: []Check{{"aws", func(context.Context) error {
		if failing.Load() {
			return errors.New("down")
		}
		return nil
	}}}, timeout: time.Second, log: log}
	probe := func() {
		rd.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/readyz", nil))
	}
	steps := []struct {
		fail      bool
		wantLines int32
	}{{false, 0}, {true, 1}, {true, 1}, {false, 2}, {false, 2}}
	for i, st := range steps {
		failing.Store(st.fail)
		probe()
		if n := lines.Load(); n != st.wantLines {
			t.Fatalf("probe %d: %d log lines, want %d", i, n, st.wantLines)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

var _ io.Writer = writerFunc(nil)
