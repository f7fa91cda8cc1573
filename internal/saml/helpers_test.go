package saml

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// testKey is an RSA key with a self-signed certificate. Keys are made once
// per test binary: RSA key generation would otherwise dominate the run.
type testKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	keysOnce sync.Once
	keyPool  [3]testKey // 0: upstream IdP, 1: bridge IdP, 2: an attacker
)

func keys(t testing.TB) [3]testKey {
	t.Helper()
	keysOnce.Do(func() {
		for i := range keyPool {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(i + 1)),
				Subject:      pkix.Name{CommonName: fmt.Sprintf("test key %d", i)},
				NotBefore:    time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
				NotAfter:     time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
			if err != nil {
				panic(err)
			}
			cert, _ := x509.ParseCertificate(der)
			keyPool[i] = testKey{key: k, cert: cert}
		}
	})
	return keyPool
}

// writePEM writes k as PKCS #8 key and certificate files in dir.
func writePEM(t testing.TB, dir, name string, k testKey) (keyFile, certFile string) {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile, certFile = filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return keyFile, certFile
}

// The fixed world of most tests.
var (
	t0        = time.Date(2030, 6, 1, 12, 0, 0, 0, time.UTC)
	idpEntity = "https://idp.example.test/metadata"
	idpSSO    = "https://idp.example.test/sso"
)

// envOptions vary the test environment.
type envOptions struct {
	multiTeam   string // first (default) or choose
	idpInit     bool   // allow IdP-initiated sign-in
	signResp    bool
	storedKeys  bool // generate the bridge key in the store instead of files
	now         func() time.Time
	lookup      string // extra saml.sp.userLookup YAML
	upstreamURL string // metadata URL instead of a file
	// golden: the committed test key, a seeded Rand and a fixed IdP
	// entity ID, so that the bridge's output is the same every run.
	golden bool
}

// env is a bridge over a real boltstore in a temp dir, served by an
// httptest server on loopback.
type env struct {
	t     testing.TB
	b     *Bridge
	st    *boltstore.Store
	srv   *httptest.Server
	base  string
	reg   *prometheus.Registry
	logs  *logBuffer
	idp   testKey
	cfg   *config.Config
	clock *clock
	dir   string
}

// clock is a settable clock, read by the bridge through Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) add(d time.Duration) { c.set(c.now().Add(d)) }

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	ks := keys(t)
	dir := t.TempDir()
	e := &env{t: t, idp: ks[0], reg: prometheus.NewRegistry(), logs: &logBuffer{}, dir: dir, clock: &clock{t: t0}}
	st, err := boltstore.Open(filepath.Join(dir, "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e.st = st
	t.Cleanup(func() { _ = st.Close() })

	e.srv = httptest.NewUnstartedServer(nil)
	e.base = "http://" + e.srv.Listener.Addr().String()
	mdFile := filepath.Join(dir, "idp.xml")
	if err := os.WriteFile(mdFile, idpMetadata(ks[0].cert, idpEntity, idpSSO), 0o600); err != nil {
		t.Fatal(err)
	}
	keyYAML := ""
	switch {
	case o.golden:
		keyYAML = "    keys: {keyFile: testdata/golden-idp.key, certFile: testdata/golden-idp.crt}\n"
	case !o.storedKeys:
		kf, cf := writePEM(t, dir, "bridge", ks[1])
		keyYAML = fmt.Sprintf("    keys: {keyFile: %q, certFile: %q}\n", kf, cf)
	}
	upstream := fmt.Sprintf("file: %q", mdFile)
	if o.upstreamURL != "" {
		upstream = fmt.Sprintf("url: %q", o.upstreamURL)
	}
	// The golden bridge names itself by a fixed public URL; requests still
	// go to the loopback server.
	publicBase := e.base
	if o.golden {
		publicBase = "https://bridge.example.com"
	}
	multi := o.multiTeam
	if multi == "" {
		multi = "first"
	}
	src := fmt.Sprintf(`aws:
  accountId: "111122223333"
  region: eu-west-1
  sagemaker: {domainId: d-abc123}
mapping:
  userId: user.userName.split('@')[0]
  multiTeam: %s
  teams:
    - {name: research, groups: [{displayName: ML Research}], priority: 20, sessionDuration: 8h, maxSessionDuration: 12h}
    - {name: platform, groups: [{displayName: ML Platform}], priority: 10}
  sessionTags:
    userId: userId
    team: team
  transitiveTagKeys: [userId, team]
saml:
  baseURL: %s
  sp:
    upstreamMetadata: {%s}
    allowIdPInitiated: %t
%s  idp:
    signResponse: %t
%s`, multi, publicBase, upstream, o.idpInit, o.lookup, o.signResp, keyYAML)
	cfg, err := config.Parse("bridge.yaml", []byte(src))
	if err != nil {
		t.Fatalf("config:\n%v", err)
	}
	e.cfg = cfg
	m, err := mapping.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.now
	if o.now != nil {
		now = o.now
	}
	var rnd io.Reader
	if o.golden {
		rnd = mrand.NewChaCha8([32]byte{})
	}
	b, err := New(t.Context(), Options{
		Store: st, Config: cfg, Mapping: m, Registry: e.reg, Now: now, Rand: rnd,
		Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.upstreamURL == "" {
		if err := b.upstream.refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	e.b = b
	e.srv.Config.Handler = b.Handler()
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

// idpMetadata is the upstream IdP's metadata document.
func idpMetadata(cert *x509.Certificate, entityID, sso string) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data>
      <ds:X509Certificate>%s</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="%s"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`, entityID, base64.StdEncoding.EncodeToString(cert.Raw), sso)
}

// provision creates a user (active) in the given groups, creating the
// groups as needed, and returns its id.
func (e *env) provision(userName string, groups ...string) string {
	e.t.Helper()
	ctx := context.Background()
	data, _ := json.Marshal(map[string]any{"userName": userName, "emails": []map[string]any{{"value": userName}}})
	u, err := e.st.CreateUser(ctx, store.User{ID: "id-" + userName, UserName: userName, Active: true, Emails: []string{userName}, Data: data})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, g := range groups {
		ids, err := e.st.LookupGroups(ctx, store.Lookup{Index: store.IndexGroupName, Value: g})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ids) == 0 {
			gd, _ := json.Marshal(map[string]any{"displayName": g})
			if _, err := e.st.CreateGroup(ctx, store.Group{ID: "g-" + strings.ReplaceAll(g, " ", "-"), DisplayName: g, Data: gd}, []string{u.ID}); err != nil {
				e.t.Fatal(err)
			}
			continue
		}
		_, err = e.st.UpdateGroup(ctx, ids[0], func(store.Group) (store.GroupChange, error) {
			return store.GroupChange{Add: []string{u.ID}}, nil
		})
		if err != nil {
			e.t.Fatal(err)
		}
	}
	return u.ID
}

// deactivate sets active=false, as an IdP's SCIM deprovisioning does.
func (e *env) deactivate(id string) {
	e.t.Helper()
	_, err := e.st.UpdateUser(context.Background(), id, func(u store.User) (store.User, error) {
		u.Active = false
		return u, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// post sends a form to a bridge path with the given cookies.
func (e *env) post(path string, form url.Values, cookies ...*http.Cookie) *http.Response {
	e.t.Helper()
	return e.postBody(path, form.Encode(), cookies...)
}

func (e *env) postBody(path, body string, cookies ...*http.Cookie) *http.Response {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := noRedirect.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// acsForm is the form body that posts doc to the ACS.
func acsForm(doc []byte) string {
	return url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(doc)}}.Encode()
}

// serveForm runs a form POST to the ACS through h in-process.
func serveForm(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, acsPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// acs posts an upstream response (XML) to the ACS.
func (e *env) acs(xmlDoc []byte, relayState string, cookies ...*http.Cookie) *http.Response {
	e.t.Helper()
	form := url.Values{"SAMLResponse": {base64.StdEncoding.EncodeToString(xmlDoc)}}
	if relayState != "" {
		form.Set("RelayState", relayState)
	}
	return e.post(acsPath, form, cookies...)
}

// signins reads sagebridge_saml_signins_total for one result and reason.
func (e *env) signins(result, reason string) float64 {
	return testutil.ToFloat64(e.b.metrics.signins.WithLabelValues(result, reason))
}

// page reads a response body.
func page(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(body)
}

// formFields returns the hidden inputs and the action of the first form
// of an HTML page.
func formFields(t testing.TB, html string) (action string, fields url.Values) {
	t.Helper()
	doc := etree.NewDocument()
	doc.ReadSettings.Permissive = true
	doc.ReadSettings.AutoClose = []string{"meta", "input", "br"}
	if err := doc.ReadFromString(strings.TrimPrefix(html, "<!DOCTYPE html>")); err != nil {
		t.Fatalf("parse page: %v\n%s", err, html)
	}
	f := doc.FindElement("//form")
	if f == nil {
		t.Fatalf("no form in page:\n%s", html)
	}
	fields = url.Values{}
	for _, in := range f.FindElements(".//input") {
		fields.Add(in.SelectAttrValue("name", ""), in.SelectAttrValue("value", ""))
	}
	return f.SelectAttrValue("action", ""), fields
}

// logBuffer collects the JSON log records.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// audits returns the audit records logged so far.
func (l *logBuffer) audits(t testing.TB) []map[string]any {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.buf.String()), "\n") {
		var rec map[string]any
		if line == "" {
			continue
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if rec["msg"] == "audit" {
			out = append(out, rec)
		}
	}
	return out
}
