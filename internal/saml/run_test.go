package saml

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// memTransport serves the upstream metadata from memory, so that the
// Run loop can live in a synctest bubble with no network.
type memTransport struct {
	body  []byte
	calls atomic.Int32
}

func (m *memTransport) RoundTrip(*http.Request) (*http.Response, error) {
	m.calls.Add(1)
	return &http.Response{StatusCode: http.StatusOK, Status: "200 OK", Body: io.NopCloser(bytes.NewReader(m.body)), Header: http.Header{}}, nil
}

// TestRunLoop drives Run on synctest's fake clock: the metadata is fetched
// at once and again every refreshInterval, expired replay entries are
// pruned every minute, and cancelling the context ends Run.
func TestRunLoop(t *testing.T) {
	ks := keys(t)
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		st, err := boltstore.Open(filepath.Join(dir, "bridge.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		kf, cf := writePEM(t, dir, "bridge", ks[1])
		cfg, err := config.Parse(filepath.Join(dir, "c.yaml"), []byte(`aws: {accountId: "111122223333", region: eu-west-1, sagemaker: {domainId: d-abc123}}
mapping:
  userId: user.userName
  teams: [{name: a, groups: [{displayName: A}]}]
saml:
  baseURL: https://bridge.example.com
  sp: {upstreamMetadata: {url: "https://idp.example.test/md", refreshInterval: 10m}}
  idp: {keys: {keyFile: `+strconv.Quote(kf)+`, certFile: `+strconv.Quote(cf)+`}}
`))
		if err != nil {
			t.Fatal(err)
		}
		m, err := mapping.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		tr := &memTransport{body: idpMetadata(ks[0].cert, idpEntity, idpSSO)}
		b, err := New(t.Context(), Options{Store: st, Config: cfg, Mapping: m, Registry: prometheus.NewRegistry(),
			HTTPClient: &http.Client{Transport: tr}})
		if err != nil {
			t.Fatal(err)
		}
		if err := st.MarkSeen(t.Context(), "assertion/old", time.Now().Add(30*time.Second)); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- b.Run(ctx) }()

		synctest.Wait()
		if b.upstream.get() == nil || tr.calls.Load() != 1 {
			t.Fatalf("after start: metadata loaded %v, %d fetches", b.upstream.get() != nil, tr.calls.Load())
		}
		time.Sleep(pruneEvery)
		synctest.Wait()
		if err := st.MarkSeen(t.Context(), "assertion/old", time.Now()); err != nil {
			t.Errorf("the expired replay entry was not pruned: %v", err)
		}
		time.Sleep(10*time.Minute - pruneEvery)
		synctest.Wait()
		if got := tr.calls.Load(); got != 2 {
			t.Errorf("%d fetches after one refresh interval, want 2", got)
		}
		if got := testutil.ToFloat64(b.metrics.refresh.WithLabelValues("ok")); got != 2 {
			t.Errorf("upstream_metadata_refreshes_total{ok} = %v, want 2", got)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}
