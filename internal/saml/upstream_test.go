package saml

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/mapping"
)

// metadataServer serves the upstream metadata on loopback until down is
// set, and reports each request on hits.
type metadataServer struct {
	*httptest.Server
	down atomic.Bool
	hits chan struct{}
}

func newMetadataServer(t *testing.T, body []byte) *metadataServer {
	m := &metadataServer{hits: make(chan struct{}, 16)}
	m.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		defer func() { m.hits <- struct{}{} }()
		if m.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write(body)
	}))
	t.Cleanup(m.Close)
	return m
}

func TestUpstreamURLIsCachedInTheStore(t *testing.T) {
	md := newMetadataServer(t, idpMetadata(keys(t)[0].cert, idpEntity, idpSSO))
	e := newEnv(t, envOptions{upstreamURL: md.URL, idpInit: true})
	if e.b.upstream.get() != nil {
		t.Fatal("metadata loaded before Run: New must not block on the network")
	}
	if next := e.b.refreshUpstream(t.Context()); next != time.Hour {
		t.Errorf("after a refresh the next is in %s, want the configured 1h", next)
	}
	e.provision("alice@example.com", "ML Research")
	readAWSAnswer(t, e.acs(e.validResponse("alice@example.com", t0).xml(t), ""))

	// A restart while the IdP's metadata URL is down signs in from the
	// cache in the store.
	md.down.Store(true)
	m, _ := mapping.New(e.cfg)
	b2, err := New(t.Context(), Options{Store: e.st, Config: e.cfg, Mapping: m, Registry: prometheus.NewRegistry(), Now: e.clock.now, BaseURL: e.base})
	if err != nil {
		t.Fatal(err)
	}
	if next := b2.refreshUpstream(t.Context()); next != refreshRetry {
		t.Errorf("after a failed refresh the next try is in %s, want %s", next, refreshRetry)
	}
	if up := b2.upstream.get(); up == nil || up.entityID != idpEntity {
		t.Fatal("the cached metadata was not used")
	}
	if got := testutil.ToFloat64(b2.metrics.refresh.WithLabelValues("error")); got != 1 {
		t.Errorf("upstream_metadata_refreshes_total{error} = %v", got)
	}
}

func TestNoMetadataRefusesSignIn(t *testing.T) {
	md := newMetadataServer(t, nil)
	md.down.Store(true)
	e := newEnv(t, envOptions{upstreamURL: md.URL, idpInit: true})
	resp := e.acs(e.validResponse("alice@example.com", t0).xml(t), "")
	if page(t, resp); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("ACS without metadata: %s", resp.Status)
	}
	login, err := noRedirect.Get(e.base + loginPath)
	if err != nil {
		t.Fatal(err)
	}
	if page(t, login); login.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("login without metadata: %s", login.Status)
	}
	// The ACS post and the sign-in start are both counted.
	if got := e.signins(resultRefused, reasonNoMetadata); got != 2 {
		t.Errorf("signins_total{refused,no_metadata} = %v, want 2", got)
	}
}

func TestUpstreamMetadataParsing(t *testing.T) {
	cert := keys(t)[0].cert
	one := string(idpMetadata(cert, idpEntity, idpSSO))
	body := one[strings.Index(one, "<md:EntityDescriptor"):]
	tests := []struct {
		name, doc, wantErr string
	}{
		{"entity descriptor", one, ""},
		// Microsoft documents that its federation metadata may start
		// with a UTF-8 byte order mark.
		{"byte order mark", "\ufeff" + one, ""},
		{"entities descriptor with one IdP", `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">` + body + `</md:EntitiesDescriptor>`, ""},
		{"no certificate", strings.Replace(one, "use=\"signing\"", "use=\"encryption\"", 1), "no signing certificate"},
		{"DOCTYPE", `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>` + body, "forbidden XML construct"},
		{"not metadata", `<x/>`, "upstream metadata"},
	}
	u := &upstreamSource{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up, err := u.parse([]byte(tt.doc))
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			case tt.wantErr == "" && (up.entityID != idpEntity || up.ssoURL != idpSSO || len(up.certs) != 1):
				t.Fatalf("parsed %+v", up)
			}
		})
	}
}

func TestPruneReplay(t *testing.T) {
	e := newEnv(t, envOptions{idpInit: true})
	e.provision("alice@example.com", "ML Research")
	doc := e.validResponse("alice@example.com", t0)
	readAWSAnswer(t, e.acs(doc.xml(t), ""))
	e.b.pruneReplay(t.Context())
	if err := e.st.MarkSeen(t.Context(), "assertion/"+doc.assertionID, t0); err == nil {
		t.Fatal("pruned an assertion ID before it expired")
	}
	e.clock.add(5*time.Minute + e.b.cfg.SP.ClockSkew.Duration + time.Second)
	e.b.pruneReplay(t.Context())
	if err := e.st.MarkSeen(t.Context(), "assertion/"+doc.assertionID, t0); err != nil {
		t.Fatalf("the expired assertion ID is still kept: %v", err)
	}
}
