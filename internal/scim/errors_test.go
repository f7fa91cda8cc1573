package scim_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sagebridge/sagebridge/internal/scim"
	"github.com/sagebridge/sagebridge/internal/store"
)

func TestETags(t *testing.T) {
	e := newEnv(t)
	r := e.post("/Users", map[string]any{"userName": "etag@corp.example"}).want(t, http.StatusCreated)
	id := str(r.JSON["id"])
	v1 := r.Header.Get("ETag")
	if v1 == "" || v1 != path(r.JSON, "meta", "version") {
		t.Fatalf("POST ETag %q, meta.version %v", v1, path(r.JSON, "meta", "version"))
	}
	if got := e.get("/Users/"+id).want(t, http.StatusOK).Header.Get("ETag"); got != v1 {
		t.Errorf("GET ETag %q, want %q", got, v1)
	}

	r = e.put("/Users/"+id, map[string]any{"userName": "etag@corp.example", "title": "a"}, hdr{"If-Match", v1}).want(t, http.StatusOK)
	v2 := r.Header.Get("ETag")
	if v2 == "" || v2 == v1 || v2 != path(r.JSON, "meta", "version") {
		t.Fatalf("PUT ETag %q (before %q), meta.version %v", v2, v1, path(r.JSON, "meta", "version"))
	}

	t.Run("If-Match mismatch", func(t *testing.T) {
		e.put("/Users/"+id, map[string]any{"userName": "etag@corp.example"}, hdr{"If-Match", v1}).
			wantError(t, http.StatusPreconditionFailed, "")
		e.patch("/Users/"+id, ops("replace", "title", "b"), hdr{"If-Match", v1}).wantError(t, http.StatusPreconditionFailed, "")
		e.del("/Users/"+id, hdr{"If-Match", v1}).wantError(t, http.StatusPreconditionFailed, "")
		e.patch("/Users/"+id, ops("replace", "title", "b"), hdr{"If-Match", `"nonsense", W/"0"`}).
			wantError(t, http.StatusPreconditionFailed, "")
		if u := e.get("/Users/"+id).want(t, http.StatusOK).JSON; u["title"] != "a" {
			t.Errorf("a failed precondition changed the user: %v", u)
		}
	})
	t.Run("If-Match match", func(t *testing.T) {
		r := e.patch("/Users/"+id, ops("replace", "title", "b"), hdr{"If-Match", v2}).want(t, http.StatusOK)
		v3 := r.Header.Get("ETag")
		if v3 == v2 || v3 != path(r.JSON, "meta", "version") {
			t.Errorf("PATCH ETag %q (before %q), meta.version %v", v3, v2, path(r.JSON, "meta", "version"))
		}
		// A strong form of the weak tag, a list, and "*" all match.
		strong := strings.TrimPrefix(v3, "W/")
		r = e.patch("/Users/"+id, ops("replace", "title", "c"), hdr{"If-Match", `W/"0", ` + strong}).want(t, http.StatusOK)
		e.patch("/Users/"+id, ops("replace", "title", "d"), hdr{"If-Match", "*"}).want(t, http.StatusOK)
	})
	t.Run("If-None-Match", func(t *testing.T) {
		cur := e.get("/Users/"+id).want(t, http.StatusOK).Header.Get("ETag")
		r := e.get("/Users/"+id, hdr{"If-None-Match", cur})
		r.want(t, http.StatusNotModified)
		if len(r.Raw) != 0 || r.Header.Get("ETag") != cur {
			t.Errorf("304: ETag %q, body %q", r.Header.Get("ETag"), r.Raw)
		}
		e.get("/Users/"+id, hdr{"If-None-Match", v1}).want(t, http.StatusOK)
	})
	t.Run("groups", func(t *testing.T) {
		r := e.post("/Groups", map[string]any{"displayName": "etag group"}).want(t, http.StatusCreated)
		gid, g1 := str(r.JSON["id"]), r.Header.Get("ETag")
		if g1 == "" || g1 != path(r.JSON, "meta", "version") {
			t.Fatalf("group POST ETag %q, meta %v", g1, r.JSON["meta"])
		}
		r = e.patch("/Groups/"+gid, ops("add", "members", memberList(id)), hdr{"If-Match", g1}).want(t, http.StatusNoContent)
		g2 := r.Header.Get("ETag")
		if g2 == "" || g2 == g1 {
			t.Errorf("membership change: ETag %q -> %q, want a new version", g1, g2)
		}
		if got := e.get("/Groups/"+gid).want(t, http.StatusOK).Header.Get("ETag"); got != g2 {
			t.Errorf("GET ETag %q, PATCH said %q", got, g2)
		}
		e.patch("/Groups/"+gid, ops("replace", "displayName", "x"), hdr{"If-Match", g1}).wantError(t, http.StatusPreconditionFailed, "")
		e.put("/Groups/"+gid, map[string]any{"displayName": "x"}, hdr{"If-Match", g1}).wantError(t, http.StatusPreconditionFailed, "")
		e.get("/Groups/"+gid, hdr{"If-None-Match", g2}).want(t, http.StatusNotModified)
		r = e.put("/Groups/"+gid, map[string]any{"displayName": "etag group"}, hdr{"If-Match", g2}).want(t, http.StatusOK)
		if r.Header.Get("ETag") == g2 {
			t.Errorf("PUT that drops a member kept ETag %q", g2)
		}
		e.del("/Groups/"+gid, hdr{"If-Match", g2}).wantError(t, http.StatusPreconditionFailed, "")
		e.del("/Groups/"+gid, hdr{"If-Match", r.Header.Get("ETag")}).want(t, http.StatusNoContent)
	})
	cur := e.get("/Users/"+id).want(t, http.StatusOK).Header.Get("ETag")
	e.del("/Users/"+id, hdr{"If-Match", cur}).want(t, http.StatusNoContent)
}

func TestErrors(t *testing.T) {
	e := newEnv(t, withHandler(func(h *scim.Handler) { h.MaxBodyBytes = 4096 }))
	uid := e.createUser("err@corp.example")
	gid := e.createGroup("errors")
	big := `{"userName":"big","title":"` + strings.Repeat("x", 5000) + `"}`

	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		scimType           string
	}{
		{"filter incomplete", "GET", "/Users" + query("filter", `userName eq`), nil, 400, "invalidFilter"},
		{"filter bad operator", "GET", "/Users" + query("filter", `userName xx "a"`), nil, 400, "invalidFilter"},
		{"filter unbalanced", "GET", "/Users" + query("filter", `(userName eq "a"`), nil, 400, "invalidFilter"},
		{"filter unknown attribute", "GET", "/Groups" + query("filter", `shoeSize eq "a"`), nil, 400, "invalidFilter"},
		{"filter trailing", "GET", "/Users" + query("filter", `userName eq "a" "b"`), nil, 400, "invalidFilter"},
		{"search filter", "POST", "/Groups/.search", map[string]any{"schemas": []string{searchURN}, "filter": "displayName eq"}, 400, "invalidFilter"},
		{"malformed POST", "POST", "/Users", `{"userName":`, 400, "invalidSyntax"},
		{"malformed PUT", "PUT", "/Users/" + uid, `{"userName" "x"}`, 400, "invalidSyntax"},
		{"malformed PATCH", "PATCH", "/Users/" + uid, `{"Operations":[`, 400, "invalidSyntax"},
		{"malformed group POST", "POST", "/Groups", `not json`, 400, "invalidSyntax"},
		{"malformed group PATCH", "PATCH", "/Groups/" + gid, `{`, 400, "invalidSyntax"},
		{"malformed search", "POST", "/Users/.search", `{"schemas":`, 400, "invalidSyntax"},
		{"array body", "POST", "/Users", `[{"userName":"x"}]`, 400, "invalidSyntax"},
		{"empty body", "POST", "/Users", ``, 400, "invalidSyntax"},
		{"null body", "POST", "/Users", `null`, 400, "invalidSyntax"},
		{"trailing data", "POST", "/Users", `{"userName":"x"} {}`, 400, "invalidSyntax"},
		{"search without schemas", "POST", "/Users/.search", map[string]any{"filter": `userName eq "x"`}, 400, "invalidSyntax"},
		{"search sortBy", "POST", "/Users/.search", map[string]any{"schemas": []string{searchURN}, "sortBy": "userName"}, 400, "invalidValue"},
		{"unknown attribute", "POST", "/Users", map[string]any{"userName": "x", "shoeSize": 44}, 400, "invalidValue"},
		{"unknown sub-attribute", "POST", "/Users", map[string]any{"userName": "x", "name": map[string]any{"nick": "y"}}, 400, "invalidValue"},
		{"unknown extension attribute", "POST", "/Users", map[string]any{"userName": "x", entURN: map[string]any{"shoeSize": "1"}}, 400, "invalidValue"},
		{"unknown group attribute", "PUT", "/Groups/" + gid, map[string]any{"displayName": "x", "owner": "y"}, 400, "invalidValue"},
		{"userName required", "POST", "/Users", map[string]any{"title": "x"}, 400, "invalidValue"},
		{"displayName required", "POST", "/Groups", map[string]any{"externalId": "x"}, 400, "invalidValue"},
		{"wrong type userName", "POST", "/Users", map[string]any{"userName": 5}, 400, "invalidValue"},
		{"wrong type emails", "POST", "/Users", map[string]any{"userName": "x", "emails": "x@y"}, 400, "invalidValue"},
		{"wrong type name", "POST", "/Users", map[string]any{"userName": "x", "name": "Bo"}, 400, "invalidValue"},
		{"wrong type active", "POST", "/Users", map[string]any{"userName": "x", "active": 1}, 400, "invalidValue"},
		{"wrong type extension", "POST", "/Users", map[string]any{"userName": "x", entURN: "x"}, 400, "invalidValue"},
		{"patch wrong type", "PATCH", "/Users/" + uid, ops("replace", "active", "maybe"), 400, "invalidValue"},
		{"patch wrong type complex", "PATCH", "/Users/" + uid, ops("replace", "name", 7), 400, "invalidValue"},
		{"patch invalid path", "PATCH", "/Users/" + uid, ops("replace", `emails[type eq`, "x"), 400, "invalidPath"},
		{"patch unknown path", "PATCH", "/Users/" + uid, ops("replace", "shoeSize", "x"), 400, "invalidPath"},
		{"patch unknown sub-attribute", "PATCH", "/Users/" + uid, ops("add", "name.nick", "x"), 400, "invalidPath"},
		{"patch unknown pathless key", "PATCH", "/Users/" + uid, ops("replace", "", map[string]any{"shoeSize": 1}), 400, "invalidPath"},
		{"patch group invalid path", "PATCH", "/Groups/" + gid, ops("remove", "members[value eq", nil), 400, "invalidPath"},
		{"patch remove without path", "PATCH", "/Users/" + uid, ops("remove", "", nil), 400, "noTarget"},
		{"patch group remove without path", "PATCH", "/Groups/" + gid, ops("remove", "", nil), 400, "noTarget"},
		{"patch read-only id", "PATCH", "/Users/" + uid, ops("replace", "id", "other"), 400, "mutability"},
		{"patch read-only meta", "PATCH", "/Users/" + uid, ops("replace", "meta.created", "2020-01-01T00:00:00Z"), 400, "mutability"},
		{"patch read-only groups", "PATCH", "/Users/" + uid, ops("add", "groups", memberList(gid)), 400, "mutability"},
		{"patch unknown op", "PATCH", "/Users/" + uid, ops("merge", "title", "x"), 400, "invalidSyntax"},
		{"patch required removed", "PATCH", "/Users/" + uid, ops("remove", "userName", nil), 400, "invalidValue"},
		{"patch group required removed", "PATCH", "/Groups/" + gid, ops("remove", "displayName", nil), 400, "invalidValue"},
		{"bad projection", "GET", "/Users?attributes=shoeSize", nil, 400, "invalidPath"},
		{"both projections", "GET", "/Users/" + uid + "?attributes=userName&excludedAttributes=title", nil, 400, "invalidSyntax"},
		{"POST too large", "POST", "/Users", big, 413, "invalidSyntax"},
		{"PUT too large", "PUT", "/Users/" + uid, big, 413, "invalidSyntax"},
		{"PATCH too large", "PATCH", "/Users/" + uid, `{"schemas":["` + patchURN + `"],"Operations":[{"op":"add","path":"title","value":"` + strings.Repeat("x", 5000) + `"}]}`, 413, "invalidSyntax"},
		{"group PATCH too large", "PATCH", "/Groups/" + gid, `{"x":"` + strings.Repeat("x", 5000) + `"}`, 413, "invalidSyntax"},
		{"search too large", "POST", "/Users/.search", `{"filter":"` + strings.Repeat("x", 5000) + `"}`, 413, "invalidSyntax"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.do(tc.method, tc.path, tc.body).wantError(t, tc.status, tc.scimType)
		})
	}
	if got := testutil.ToFloat64(e.m.SCIMRejected.WithLabelValues("too_large")); got != 5 {
		t.Errorf("rejected{too_large} = %v, want 5", got)
	}
	// Nothing above changed the resources.
	u := e.get("/Users/"+uid).want(t, http.StatusOK).JSON
	if u["userName"] != "err@corp.example" || u["active"] != true || u["title"] != nil {
		t.Errorf("user after failed requests: %v", u)
	}
	if r := e.get("/Users"); total(t, r) != 1 {
		t.Errorf("%d users after failed creates", total(t, r))
	}
}

// blockingStore blocks GetUser, once armed, until released.
type blockingStore struct {
	store.Store
	armed   atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) GetUser(ctx context.Context, id string) (store.User, error) {
	if s.armed.CompareAndSwap(true, false) {
		close(s.entered)
		<-s.release
	}
	return s.Store.GetUser(ctx, id)
}

func TestOverload(t *testing.T) {
	bs := &blockingStore{entered: make(chan struct{}), release: make(chan struct{})}
	e := newEnv(t,
		withStore(func(s store.Store) store.Store { bs.Store = s; return bs }),
		withHandler(func(h *scim.Handler) { h.MaxInFlight = 1 }))
	id := e.createUser("slow@corp.example")

	bs.armed.Store(true)
	var wg sync.WaitGroup
	var slow *resp
	wg.Go(func() { slow = e.get("/Users/" + id) })
	<-bs.entered

	for _, r := range []*resp{e.get("/Users"), e.post("/Users", map[string]any{"userName": "second"})} {
		r.wantError(t, http.StatusTooManyRequests, "")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("429 without Retry-After")
		}
	}
	close(bs.release)
	wg.Wait()
	slow.want(t, http.StatusOK)
	// The slot is free again.
	e.get("/Users").want(t, http.StatusOK)
	if ids := listIDs(t, e.get("/Users"+query("filter", `userName eq "second"`))); len(ids) != 0 {
		t.Errorf("a shed request created a user: %v", ids)
	}
}

// TestZeroHandler: a Handler with only its required fields works; in
// particular a nil Logger must not turn the first rejected request into a
// panic.
func TestZeroHandler(t *testing.T) {
	e := newEnv(t, withHandler(func(h *scim.Handler) { h.Logger, h.Metrics = nil, nil }))
	e.get("/Users", hdr{"Authorization", ""}).wantError(t, http.StatusUnauthorized, "")
	e.get("/Users/nope").wantError(t, http.StatusNotFound, "")
	id := e.createUser("zero@corp.example")
	e.get("/Users/"+id).want(t, http.StatusOK)
}
