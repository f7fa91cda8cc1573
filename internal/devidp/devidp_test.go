package devidp

import (
	"bytes"
	"compress/flate"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/configs"
	"github.com/sagebridge/sagebridge/internal/config"
	"github.com/sagebridge/sagebridge/internal/mapping"
	bridgesaml "github.com/sagebridge/sagebridge/internal/saml"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

// env is dev mode's sign-in in one process: the test IdP, a bridge on
// dev.yaml and the AWS stand-in on one loopback server.
type env struct {
	base string
	// audience is the bridge's SP entity ID.
	audience string
	st       store.Store
	aws      *AWSSignIn
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	srv := httptest.NewUnstartedServer(nil)
	e := &env{base: "http://" + srv.Listener.Addr().String(), st: st}
	cfg := mustDevConfig(t)
	cfg.SAML.BaseURL, cfg.SAML.SP.UpstreamMetadata.URL = e.base, e.base+MetadataPath
	e.audience = cfg.SAML.SPEntityID()
	m, err := mapping.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bridgesaml.New(t.Context(), bridgesaml.Options{Store: st, Config: cfg, Mapping: m,
		Registry: prometheus.NewRegistry(), Destination: e.base + AWSSignInPath})
	if err != nil {
		t.Fatal(err)
	}
	idp, err := New(t.Context(), Options{Store: st, Mapping: m, BaseURL: e.base,
		ACSURL: e.base + "/saml/sp/acs", Audience: e.audience})
	if err != nil {
		t.Fatal(err)
	}
	e.aws = &AWSSignIn{URL: b.SignInURL(), Metadata: b.Metadata}
	mux := http.NewServeMux()
	mux.Handle(UsersPath, idp.Handler())
	mux.Handle("/saml/", b.Handler())
	mux.Handle("POST "+AWSSignInPath, e.aws)
	srv.Config.Handler = mux
	srv.Start()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return e
}

func (e *env) provision(t *testing.T, userName string, active bool, group string) {
	t.Helper()
	ctx := t.Context()
	u, err := e.st.CreateUser(ctx, store.User{ID: "id-" + userName, UserName: userName, Active: active, Data: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.CreateGroup(ctx, store.Group{ID: "g-" + userName, DisplayName: group, Data: []byte(`{}`)}, []string{u.ID}); err != nil {
		t.Fatal(err)
	}
}

var samlResponseRe = regexp.MustCompile(`name="SAMLResponse" value="([^"]*)"`)

func post(t *testing.T, target string, form url.Values) (int, string) {
	t.Helper()
	status, _, body := send(t, http.MethodPost, target, form)
	return status, body
}

// send makes a request, with form as its body, and reads the answer.
func send(t *testing.T, method, target string, form url.Values) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// bridgeResponse signs userName in at the test IdP and returns the
// bridge's SAMLResponse for AWS. The bridge loads the IdP's metadata in
// the background, so a 503 before it has is retried.
func (e *env) bridgeResponse(t *testing.T, userName string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, page := post(t, e.base+SignInPath, url.Values{"userName": {userName}})
		status, page := post(t, e.base+"/saml/sp/acs", url.Values{"SAMLResponse": {formValue(t, page)}})
		if status == http.StatusOK {
			return formValue(t, page)
		}
		if status != http.StatusServiceUnavailable || time.Now().After(deadline) {
			t.Fatalf("the bridge answered %d:\n%s", status, page)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func formValue(t *testing.T, page string) string {
	t.Helper()
	m := samlResponseRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no SAMLResponse in:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

func TestDevAWSSignInVerifiesAndDecodes(t *testing.T) {
	e := newEnv(t)
	e.provision(t, "alice@example.com", true, "team-ml")
	good := e.bridgeResponse(t, "alice@example.com")
	raw, err := base64.StdEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	tampered := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), ">ml<", ">admin<", 1)))
	for _, tt := range []struct {
		name     string
		response string
		setup    func(*AWSSignIn)
		status   int
		want     string
	}{
		{"valid", good, nil, http.StatusOK, `"principalTags":{"team":"ml","userId":"alice"}`},
		{"tampered tag", tampered, nil, http.StatusBadRequest, "Assertion signature"},
		{"no response", "", nil, http.StatusBadRequest, "no SAMLResponse"},
		{"expired", good, func(a *AWSSignIn) {
			a.Now = func() time.Time { return time.Now().Add(10 * time.Minute) }
		}, http.StatusBadRequest, "valid from"},
		{"another destination", good, func(a *AWSSignIn) { a.URL = "https://signin.aws.amazon.com/saml" }, http.StatusBadRequest, "Destination"},
		{"another key", good, func(a *AWSSignIn) {
			a.Metadata = func() ([]byte, error) { return e.otherMetadata(t), nil }
		}, http.StatusBadRequest, "signature"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := *e.aws
			if tt.setup != nil {
				tt.setup(&a)
			}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, AWSSignInPath+"?format=json", strings.NewReader(url.Values{"SAMLResponse": {tt.response}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			a.ServeHTTP(rec, req)
			if rec.Code != tt.status || !strings.Contains(rec.Body.String(), tt.want) {
				t.Errorf("%d %s, want %d with %q", rec.Code, rec.Body, tt.status, tt.want)
			}
			if !json.Valid(rec.Body.Bytes()) {
				t.Errorf("not JSON: %s", rec.Body)
			}
		})
	}
	status, page := post(t, e.base+AWSSignInPath, url.Values{"SAMLResponse": {good}})
	if status != http.StatusOK || !strings.Contains(page, "<tr><th>PrincipalTag:team</th><td>ml</td></tr>") {
		t.Errorf("HTML page: %d\n%s", status, page)
	}
}

// otherMetadata is IdP metadata with a key the bridge never had: the test
// IdP's own.
func (e *env) otherMetadata(t *testing.T) []byte {
	t.Helper()
	_, _, body := send(t, http.MethodGet, e.base+MetadataPath, nil)
	return []byte(body)
}

func TestDevIdPPages(t *testing.T) {
	e := newEnv(t)
	sp := e.audience
	e.provision(t, "alice@example.com", true, "team-ml")
	e.provision(t, `<b>eve</b>@example.com`, false, "staff")
	for _, tt := range []struct {
		name, method, path string
		form               url.Values
		status             int
		want               []string
	}{
		{"users", http.MethodGet, UsersPath, nil, http.StatusOK, []string{
			"<tr><td>alice@example.com</td><td>yes</td><td>ml</td>",
			"<tr><td>&lt;b&gt;eve&lt;/b&gt;@example.com</td><td>no</td><td>none: ",
		}},
		{"sign-in form", http.MethodPost, SignInPath, url.Values{"userName": {"alice@example.com"}}, http.StatusOK, []string{
			`<form method="post" action="` + e.base + `/saml/sp/acs">`, "<script>" + postScript + "</script>", "<noscript>",
		}},
		{"no userName", http.MethodPost, SignInPath, url.Values{}, http.StatusBadRequest, nil},
		{"metadata", http.MethodGet, MetadataPath, nil, http.StatusOK, []string{`entityID="` + e.base + MetadataPath + `"`, `use="signing"`,
			`<SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="` + e.base + SSOPath + `">`}},
		{"SP-initiated users", http.MethodGet, SSOPath + "?" + authnRequest(t, sp, e.base+"/saml/sp/acs", "_req1") + "&RelayState=h1", nil, http.StatusOK, []string{
			`<code>_req1</code>`,
			`<input type="hidden" name="userName" value="alice@example.com"><input type="hidden" name="InResponseTo" value="_req1"><input type="hidden" name="RelayState" value="h1"><button`,
		}},
		{"SP-initiated post", http.MethodPost, SignInPath, url.Values{"userName": {"alice@example.com"}, "InResponseTo": {"_req1"}, "RelayState": {"h1"}}, http.StatusOK, []string{
			`<input type="hidden" name="RelayState" value="h1">`,
		}},
		{"no SAMLRequest", http.MethodGet, SSOPath, nil, http.StatusBadRequest, []string{"start the sign-in at the bridge's /saml/login"}},
		{"SAMLRequest not deflated", http.MethodGet, SSOPath + "?SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString([]byte("<x/>"))), nil, http.StatusBadRequest, []string{"does not inflate"}},
		{"another SP", http.MethodGet, SSOPath + "?" + authnRequest(t, "https://other.example.com", e.base+"/saml/sp/acs", "_req2"), nil, http.StatusBadRequest, []string{"is not from the bridge"}},
		{"another ACS", http.MethodGet, SSOPath + "?" + authnRequest(t, sp, "https://evil.example.com/acs", "_req3"), nil, http.StatusBadRequest, []string{"not the bridge's ACS"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, h, b := send(t, tt.method, e.base+tt.path, tt.form)
			if status != tt.status {
				t.Fatalf("%d, want %d:\n%s", status, tt.status, b)
			}
			for _, w := range tt.want {
				if !strings.Contains(b, w) {
					t.Errorf("missing %q in:\n%s", w, b)
				}
			}
			if strings.HasPrefix(h.Get("Content-Type"), "text/html") && !strings.HasPrefix(h.Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("CSP %q", h.Get("Content-Security-Policy"))
			}
		})
	}
}

// authnRequest is the query of a Redirect binding AuthnRequest from
// issuer asking for the response at acs.
func authnRequest(t *testing.T, issuer, acs, id string) string {
	t.Helper()
	var buf bytes.Buffer
	w, err := flate.NewWriter(&buf, flate.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(w, `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID=%q Version="2.0" IssueInstant="2026-01-01T00:00:00Z" AssertionConsumerServiceURL=%q><saml:Issuer>%s</saml:Issuer></samlp:AuthnRequest>`, id, acs, issuer)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return "SAMLRequest=" + url.QueryEscape(base64.StdEncoding.EncodeToString(buf.Bytes()))
}

// A restart keeps the IdP's key: the bridge's cached metadata stays good.
func TestDevIdPKeepsItsKey(t *testing.T) {
	e := newEnv(t)
	m, err := mapping.New(mustDevConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	var docs [2][]byte
	for i := range docs {
		idp, err := New(t.Context(), Options{Store: e.st, Mapping: m, BaseURL: e.base, ACSURL: "x", Audience: "y"})
		if err != nil {
			t.Fatal(err)
		}
		if docs[i], err = idp.Metadata(); err != nil {
			t.Fatal(err)
		}
	}
	if string(docs[0]) != string(docs[1]) || string(docs[0]) != string(e.otherMetadata(t)) {
		t.Errorf("the metadata changed across restarts:\n%s\n%s", docs[0], docs[1])
	}
}

func mustDevConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.ParseFS(configs.FS, configs.DevPath)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
