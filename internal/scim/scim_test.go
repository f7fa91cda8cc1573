package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sagebridge/sagebridge/internal/metrics"
	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/scim/schema"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

const (
	token     = "secret"
	patchURN  = schema.PatchOpURN
	searchURN = schema.SearchURN
	errorURN  = schema.ErrorURN
	entURN    = schema.EnterpriseURN
	userURN   = schema.UserURN
	groupURN  = schema.GroupURN
)

// env is a running SCIM API over a fresh boltstore.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	db    *boltstore.Store // the store itself, for checks behind the API
	h     *scim.Handler
	reg   *prometheus.Registry
	m     *metrics.Metrics
	token string
}

// envConfig adjusts an env before its server starts.
type envConfig struct {
	wrap    func(store.Store) store.Store
	handler func(*scim.Handler)
}

type option func(*envConfig)

// withStore puts a wrapper between the handler and the boltstore.
func withStore(wrap func(store.Store) store.Store) option {
	return func(c *envConfig) { c.wrap = wrap }
}

// withHandler changes the handler's fields before it is mounted.
func withHandler(fn func(*scim.Handler)) option {
	return func(c *envConfig) { c.handler = fn }
}

func newEnv(t *testing.T, opts ...option) *env {
	t.Helper()
	var cfg envConfig
	for _, o := range opts {
		o(&cfg)
	}
	db, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.CreateToken(context.Background(), store.Token{Name: "test", Hash: scim.HashToken(token)}); err != nil {
		t.Fatalf("create token: %v", err)
	}
	var st store.Store = db
	if cfg.wrap != nil {
		st = cfg.wrap(db)
	}
	reg := prometheus.NewRegistry()
	m := metrics.New(reg, st)
	h := &scim.Handler{
		Store:   st,
		Users:   schema.NewUserType(),
		Groups:  schema.NewGroupType(),
		Metrics: m,
		Logger:  slog.New(slog.DiscardHandler),
	}
	if cfg.handler != nil {
		cfg.handler(h)
	}
	mux := http.NewServeMux()
	h.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, db: db, h: h, reg: reg, m: m, token: token}
}

// resp is a response with its body decoded when it is a JSON object.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	JSON   map[string]any
}

// hdr is a request header; an empty Value removes a default header.
type hdr struct{ Key, Value string }

// do sends a request. body is nil (no body), a string or []byte (sent as
// is) or anything else (sent as JSON). Every request carries the test token
// and, with a body, Content-Type application/scim+json unless hdrs say
// otherwise. Every response is checked for what no response may ever be:
// a 5xx, a non-SCIM content type, or an error detail leaking Go internals.
// do never stops the test, so it may run on any goroutine; a request that
// could not be made has Status 0, which every status check rejects.
func (e *env) do(method, path string, body any, hdrs ...hdr) *resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		buf, err := json.Marshal(b)
		if err != nil {
			e.t.Errorf("encode request body: %v", err)
			return &resp{}
		}
		rd = bytes.NewReader(buf)
	}
	req, err := http.NewRequest(method, e.srv.URL+scim.Prefix+path, rd)
	if err != nil {
		e.t.Errorf("new request: %v", err)
		return &resp{}
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	for _, h := range hdrs {
		if h.Value == "" {
			req.Header.Del(h.Key)
		} else {
			req.Header.Set(h.Key, h.Value)
		}
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Errorf("%s %s: %v", method, path, err)
		return &resp{}
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Errorf("%s %s: read body: %v", method, path, err)
		return &resp{}
	}
	r := &resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.JSON); err != nil {
			e.t.Errorf("%s %s: %d: body is not a JSON object: %v\n%s", method, path, res.StatusCode, err, raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != "application/scim+json" {
			e.t.Errorf("%s %s: Content-Type %q, want application/scim+json", method, path, ct)
		}
	}
	checkSane(e.t, method+" "+path, r)
	return r
}

// goInternals are fragments that show a Go error or value was passed
// through to the client instead of a SCIM message.
var goInternals = []string{
	"json: ", "interface {}", "map[string]", "runtime error", "%!", "panic", "goroutine",
	"bolt", "<nil>", "invalid reference", "create group", "update group", "create user",
	"update user", "get user", "get group", "context canceled", "unexpected EOF", "0x",
}

func checkSane(t *testing.T, what string, r *resp) {
	t.Helper()
	if r.Status >= 500 {
		t.Errorf("%s: status %d: %s", what, r.Status, r.Raw)
	}
	if r.Status < 400 || r.Status == http.StatusNotModified {
		return
	}
	if got := str(r.JSON["status"]); got != fmt.Sprint(r.Status) {
		t.Errorf("%s: error body status %q (%T), want the string %q: %s", what, got, r.JSON["status"], fmt.Sprint(r.Status), r.Raw)
	}
	if !slices.Equal(strs(r.JSON["schemas"]), []string{errorURN}) {
		t.Errorf("%s: error body schemas %v, want [%s]", what, r.JSON["schemas"], errorURN)
	}
	detail := str(r.JSON["detail"])
	if detail == "" {
		t.Errorf("%s: error without detail: %s", what, r.Raw)
	}
	for _, bad := range goInternals {
		if strings.Contains(detail, bad) {
			t.Errorf("%s: detail %q contains %q, a Go internal", what, detail, bad)
		}
	}
}

func (e *env) get(path string, hdrs ...hdr) *resp {
	e.t.Helper()
	return e.do("GET", path, nil, hdrs...)
}
func (e *env) post(path string, body any, hdrs ...hdr) *resp {
	e.t.Helper()
	return e.do("POST", path, body, hdrs...)
}
func (e *env) put(path string, body any, hdrs ...hdr) *resp {
	e.t.Helper()
	return e.do("PUT", path, body, hdrs...)
}
func (e *env) patch(path string, body any, hdrs ...hdr) *resp {
	e.t.Helper()
	return e.do("PATCH", path, body, hdrs...)
}
func (e *env) del(path string, hdrs ...hdr) *resp {
	e.t.Helper()
	return e.do("DELETE", path, nil, hdrs...)
}

// want fails the test now unless r has the given status.
func (r *resp) want(t *testing.T, status int) *resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// wantError checks a SCIM error response.
func (r *resp) wantError(t *testing.T, status int, scimType string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d (%s): %s", r.Status, status, scimType, r.Raw)
	}
	if got := str(r.JSON["scimType"]); got != scimType {
		t.Errorf("scimType %q, want %q: %s", got, scimType, r.Raw)
	}
}

// ops builds a PatchOp body from op, path, value triples; a path of ""
// is left out, and so is a value of nil.
func ops(triples ...any) map[string]any {
	var list []any
	for i := 0; i+2 < len(triples); i += 3 {
		op := map[string]any{"op": triples[i]}
		if p := triples[i+1].(string); p != "" {
			op["path"] = p
		}
		if v := triples[i+2]; v != nil {
			op["value"] = v
		}
		list = append(list, op)
	}
	return map[string]any{"schemas": []string{patchURN}, "Operations": list}
}

// query encodes parameters the way Entra does, with "+" for spaces.
func query(kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return "?" + v.Encode()
}

// createUser creates a user from extra attributes and returns its id.
func (e *env) createUser(userName string, attrs ...any) string {
	e.t.Helper()
	body := map[string]any{"schemas": []string{userURN}, "userName": userName}
	for i := 0; i+1 < len(attrs); i += 2 {
		body[attrs[i].(string)] = attrs[i+1]
	}
	r := e.post("/Users", body).want(e.t, http.StatusCreated)
	return str(r.JSON["id"])
}

// createGroup creates a group with the given member ids.
func (e *env) createGroup(name string, members ...string) string {
	e.t.Helper()
	body := map[string]any{"schemas": []string{groupURN}, "displayName": name, "members": memberList(members...)}
	r := e.post("/Groups", body).want(e.t, http.StatusCreated)
	return str(r.JSON["id"])
}

func memberList(ids ...string) []any {
	out := []any{}
	for _, id := range ids {
		out = append(out, map[string]any{"value": id})
	}
	return out
}

// memberIDs is the sorted member ids of a group, read through the API.
func (e *env) memberIDs(gid string) []string {
	e.t.Helper()
	r := e.get("/Groups/"+gid).want(e.t, http.StatusOK)
	return valuesOf(r.JSON["members"])
}

// valuesOf collects the "value" of every element of a multi-valued
// attribute, sorted.
func valuesOf(v any) []string {
	var out []string
	for _, el := range list(v) {
		out = append(out, str(obj(el)["value"]))
	}
	slices.Sort(out)
	return out
}

// list returns the ListResponse's ids after checking its shape.
func listIDs(t *testing.T, r *resp) []string {
	t.Helper()
	r.want(t, http.StatusOK)
	if !slices.Equal(strs(r.JSON["schemas"]), []string{schema.ListURN}) {
		t.Errorf("schemas %v, want ListResponse", r.JSON["schemas"])
	}
	if _, ok := r.JSON["Resources"].([]any); !ok {
		t.Errorf("Resources is %T, want an array: %s", r.JSON["Resources"], r.Raw)
	}
	var ids []string
	for _, res := range list(r.JSON["Resources"]) {
		ids = append(ids, str(obj(res)["id"]))
	}
	return ids
}

func total(t *testing.T, r *resp) int {
	t.Helper()
	n, ok := r.JSON["totalResults"].(float64)
	if !ok {
		t.Fatalf("totalResults is %T, want a JSON number: %s", r.JSON["totalResults"], r.Raw)
	}
	return int(n)
}

// JSON accessors that never panic.
func str(v any) string         { s, _ := v.(string); return s }
func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func list(v any) []any         { l, _ := v.([]any); return l }
func path(v any, keys ...string) any {
	for _, k := range keys {
		v = obj(v)[k]
	}
	return v
}
func strs(v any) []string {
	var out []string
	for _, x := range list(v) {
		out = append(out, str(x))
	}
	return out
}
