package server

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func get(t *testing.T, client *http.Client, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// start runs s and returns its public and admin addresses, the function
// that stops it, and Run's error once it has stopped.
func start(t *testing.T, s *Server) (public, admin string, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	addrs := make(chan [2]net.Addr, 1)
	s.Listen, s.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	s.Started = func(p, a net.Addr) { addrs <- [2]net.Addr{p, a} }
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	if s.ShutdownTimeout == 0 {
		s.ShutdownTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	select {
	case a := <-addrs:
		return a[0].String(), a[1].String(), cancel, runErr
	case err := <-runErr:
		cancel()
		t.Fatalf("Run: %v", err)
		return "", "", nil, nil
	}
}

func TestAdminEndpointsAndGracefulShutdown(t *testing.T) {
	var ready atomic.Bool
	release := make(chan struct{})
	inFlight := make(chan struct{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "t"}))
	s := &Server{
		Public: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(inFlight)
			<-release
			io.WriteString(w, "done")
		}),
		Registry: reg,
		Admin: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "admin page "+r.URL.Path)
		}),
		Checks: []Check{{Name: "store", Check: func(context.Context) error {
			if !ready.Load() {
				return errors.New("store closed")
			}
			return nil
		}}},
	}
	publicAddr, adminAddr, stop, done := start(t, s)
	public, admin := "http://"+publicAddr, "http://"+adminAddr
	c := http.DefaultClient

	if code, body, _ := get(t, c, admin+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, body, _ := get(t, c, admin+"/readyz"); code != http.StatusServiceUnavailable || body != "fail store: store closed\n" {
		t.Fatalf("readyz while not ready: %d %q", code, body)
	}
	ready.Store(true)
	if code, body, _ := get(t, c, admin+"/readyz"); code != 200 || body != "ok store\n" {
		t.Fatalf("readyz: %d %q", code, body)
	}
	if code, body, _ := get(t, c, admin+"/metrics"); code != 200 || !strings.Contains(body, "test_total 0") {
		t.Fatalf("metrics: %d %q", code, body)
	}
	if code, body, _ := get(t, c, admin+"/status/"); code != 200 || body != "admin page /status/" {
		t.Fatalf("admin page: %d %q", code, body)
	}

	// A request in flight when shutdown starts still gets its answer.
	answer := make(chan string, 1)
	go func() {
		_, body, _ := get(t, c, public+"/x")
		answer <- body
	}()
	<-inFlight
	stop()
	close(release)
	if got := <-answer; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := http.Get(public + "/x"); err == nil {
		t.Fatal("public listener still accepting after shutdown")
	}
}

// The public listener serves TLS from files, picks up a renewed pair on a
// new connection, and answers with a request id.
func TestPublicTLSReloadsAndTagsRequests(t *testing.T) {
	files := newCertFiles(t)
	files.write(t, "one.test")
	clock := newFakeClock()
	s := &Server{
		Public:      http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }),
		TLSCertFile: files.cert, TLSKeyFile: files.key,
		Now: clock.Now,
	}
	public, _, stop, done := start(t, s)
	defer func() {
		stop()
		<-done
	}()

	if cn := dialCN(t, public); cn != "one.test" {
		t.Fatalf("served %s, want one.test", cn)
	}
	files.write(t, "two.test")
	clock.Advance(certCheckInterval)
	if cn := dialCN(t, public); cn != "two.test" {
		t.Fatalf("after renewal served %s, want two.test", cn)
	}

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	code, body, h := get(t, client, "https://"+public+"/x")
	if code != 200 || body != "hi" || !saneRequestID(h.Get(RequestIDHeader)) {
		t.Fatalf("got %d %q, request id %q", code, body, h.Get(RequestIDHeader))
	}
}

func TestRunRefusesBadSetup(t *testing.T) {
	files := newCertFiles(t)
	tests := []struct {
		name string
		s    Server
	}{
		{"a certificate without a key", Server{TLSCertFile: files.cert}},
		{"certificate files that do not exist", Server{TLSCertFile: files.cert, TLSKeyFile: files.key}},
		{"two checks with one name", Server{Checks: []Check{{"store", okCheck}, {"store", okCheck}}}},
	}
	// Already canceled: a Run that wrongly starts returns at once.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tt := range tests {
		tt.s.Logger = slog.New(slog.DiscardHandler)
		tt.s.Listen, tt.s.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
		tt.s.Registry = prometheus.NewRegistry()
		if err := tt.s.Run(ctx); err == nil {
			t.Errorf("%s: Run started", tt.name)
		}
	}
}
