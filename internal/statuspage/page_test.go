package statuspage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/control"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
	bridgesync "github.com/sagebridge/sagebridge/internal/sync"
)

var now = time.Date(2030, 5, 6, 7, 8, 9, 0, time.UTC)

type env struct {
	st      *boltstore.Store
	records bridgesync.StatusStore
	srv     *httptest.Server
	summary control.Summary
	sumErr  error
}

func newEnv(t *testing.T, users int) *env {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "bridge.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	e := &env{st: st, records: bridgesync.NewStoreStatus(st)}
	for i := range users {
		if _, err := st.CreateUser(ctx, store.User{ID: fmt.Sprintf("id-%03d", i), UserName: fmt.Sprintf("user%03d@example.com", i), Active: true, Data: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.CreateToken(ctx, store.Token{Name: "okta", Hash: make([]byte, 32), Created: now.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	e.srv = httptest.NewServer(Handler(Options{
		Store: st, Records: e.records, Now: func() time.Time { return now },
		Summary: func(context.Context) (control.Summary, error) { return e.summary, e.sumErr },
		Credentials: func(context.Context) ([]Credential, error) {
			return []Credential{{Kind: "SAML signing key", Name: "1", Created: now.Add(-time.Hour), Expires: now.Add(24 * time.Hour), Note: "signing"}}, nil
		},
	}))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) get(t *testing.T, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := http.Get(e.srv.URL + path)
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

func TestOverview(t *testing.T) {
	e := newEnv(t, 0)
	ctx := context.Background()
	for _, st := range []bridgesync.Status{
		{Key: "team/ml", State: bridgesync.StateConverged, Team: "ml", FederationRoleARN: "arn:aws:iam::1:role/fed-ml", ExecutionRoleARN: "arn:aws:iam::1:role/exec-ml"},
		{Key: "team/<b>", State: bridgesync.StateConflict, Team: "<b>", LastError: "role exists without the ownership tag"},
	} {
		if err := e.records.PutStatus(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	e.summary = control.Summary{Users: 3, States: map[string]map[string]int{"user": {"converged": 2, "held": 1}},
		Queue: control.QueueSummary{Depth: 1}, Held: []string{"user/u9"},
		Problems: []control.KeyProblem{{Key: "team/<b>", State: "conflict", Error: "<script>alert(1)</script>"}},
		Reasons:  []string{"1 deletions held for `bridge approve`"}}

	code, h, body := e.get(t, "/status/")
	if code != http.StatusOK {
		t.Fatalf("GET /status/ = %d %s", code, body)
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	for _, want := range []string{
		"Not converged", "1 deletions held for `bridge approve`",
		`<tr class="state-held"><td>user</td><td>held</td><td>1</td></tr>`,
		"<code>user/u9</code>",
		"arn:aws:iam::1:role/exec-ml", "role exists without the ownership tag",
		"&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;",
		"<td>SCIM token</td><td>okta</td><td>2030-05-04T07:08:09Z</td><td>never</td>",
		`<tr class="warn"><td>SAML signing key</td><td>1</td>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("overview lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") {
		t.Error("the page must escape what it shows")
	}

	e.summary = control.Summary{Converged: true}
	if _, _, body := e.get(t, "/status/"); !strings.Contains(body, "Converged: AWS is what") {
		t.Errorf("converged summary not shown:\n%s", body)
	}
	e.sumErr = control.ErrSyncDisabled
	if _, _, body := e.get(t, "/status/"); !strings.Contains(body, `id="sync-error">Sync: sync is disabled`) {
		t.Errorf("sync error not shown:\n%s", body)
	}
}

func TestUsersPages(t *testing.T) {
	e := newEnv(t, PageSize+5)
	ctx := context.Background()
	ids, err := e.st.UserIDs(ctx, 0, 2)
	if err != nil {
		t.Fatal(err)
	}
	err = e.records.PutStatus(ctx, bridgesync.Status{Key: store.UserKey(ids[0]), State: bridgesync.StateFailed,
		Team: "ml", Profile: "user000", LastError: "AccessDenied", ErrorAt: now})
	if err != nil {
		t.Fatal(err)
	}

	code, _, body := e.get(t, "/status/users")
	if code != http.StatusOK {
		t.Fatalf("GET /status/users = %d %s", code, body)
	}
	if n := strings.Count(body, "<code>"); n != PageSize {
		t.Errorf("first page lists %d users, want %d", n, PageSize)
	}
	for _, want := range []string{
		`<td class="state-failed">failed</td><td>ml</td><td>user000</td><td>AccessDenied <span class="muted">(2030-05-06T07:08:09Z)</span></td>`,
		"not synced yet", `href="/status/users?offset=100" rel="next"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("first page lacks %q", want)
		}
	}
	if strings.Contains(body, `rel="prev"`) {
		t.Error("the first page has no previous page")
	}

	_, _, body = e.get(t, "/status/users?offset=100")
	if n := strings.Count(body, "<code>"); n != 5 || strings.Contains(body, `rel="next"`) || !strings.Contains(body, `href="/status/users?offset=0" rel="prev"`) {
		t.Errorf("last page: %d users\n%s", n, body)
	}

	for _, bad := range []string{"-1", "x"} {
		if code, _, body := e.get(t, "/status/users?offset="+bad); code != http.StatusBadRequest || !strings.Contains(body, "offset: must be") {
			t.Errorf("offset %s: %d %s", bad, code, body)
		}
	}
}

func TestOnlyReads(t *testing.T) {
	e := newEnv(t, 1)
	for _, path := range []string{"/status/", "/status/users"} {
		resp, err := http.Post(e.srv.URL+path, "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST %s = %d", path, resp.StatusCode)
		}
	}
	if code, h, _ := e.get(t, "/status/style.css"); code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/css") {
		t.Errorf("style.css: %d %s", code, h.Get("Content-Type"))
	}
}
