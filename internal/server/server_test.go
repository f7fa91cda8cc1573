package server

import (
	"context"
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

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestAdminEndpointsAndGracefulShutdown(t *testing.T) {
	var ready atomic.Bool
	release := make(chan struct{})
	inFlight := make(chan struct{})
	reg := prometheus.NewRegistry()
	reg.MustRegister(prometheus.NewCounter(prometheus.CounterOpts{Name: "test_total", Help: "t"}))
	addrs := make(chan [2]net.Addr, 1)
	s := &Server{
		Listen: "127.0.0.1:0", AdminListen: "127.0.0.1:0",
		Public: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			close(inFlight)
			<-release
			io.WriteString(w, "done")
		}),
		Registry: reg,
		Ready: func(context.Context) error {
			if !ready.Load() {
				return errors.New("store closed")
			}
			return nil
		},
		Logger:          slog.New(slog.DiscardHandler),
		ShutdownTimeout: 10 * time.Second,
		Started:         func(p, a net.Addr) { addrs <- [2]net.Addr{p, a} },
	}
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()
	a := <-addrs
	public, admin := "http://"+a[0].String(), "http://"+a[1].String()

	if code, body := get(t, admin+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("healthz: %d %q", code, body)
	}
	if code, _ := get(t, admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz while not ready: %d", code)
	}
	ready.Store(true)
	if code, _ := get(t, admin+"/readyz"); code != 200 {
		t.Fatalf("readyz: %d", code)
	}
	if code, body := get(t, admin+"/metrics"); code != 200 || !strings.Contains(body, "test_total 0") {
		t.Fatalf("metrics: %d %q", code, body)
	}

	// A request in flight when shutdown starts still gets its answer.
	answer := make(chan string, 1)
	go func() {
		_, body := get(t, public+"/x")
		answer <- body
	}()
	<-inFlight
	cancel()
	close(release)
	if got := <-answer; got != "done" {
		t.Fatalf("in-flight request got %q", got)
	}
	if err := <-runErr; err != nil {
		t.Fatalf("Run: %v", err)
	}
	if _, err := http.Get(public + "/x"); err == nil {
		t.Fatal("public listener still accepting after shutdown")
	}
}
