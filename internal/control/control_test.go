package control

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

// fakeSync answers from fixed values and records what it was asked.
type fakeSync struct {
	full     bool
	resynced bool
	ref      string
	keys     []string
}

func (f *fakeSync) Plan(_ context.Context, full bool) (Plan, error) {
	f.full = full
	return Plan{Keys: 3, Changes: []KeyPlan{{Key: "team/ml", Actions: []Action{{Op: "CreateRole", Resource: "sagebridge-ml"}}}}}, nil
}

func (f *fakeSync) Resync(context.Context) error { f.resynced = true; return nil }

func (f *fakeSync) Summary(context.Context) (Summary, error) {
	return Summary{Users: 2, States: map[string]map[string]int{"user": {"converged": 2}}, Converged: true}, nil
}

func (f *fakeSync) User(_ context.Context, ref string) (UserStatus, error) {
	f.ref = ref
	if ref != "alice@example.com" {
		return UserStatus{}, errors.New("no user " + ref + ": " + store.ErrNotFound.Error())
	}
	return UserStatus{Key: "user/u1", UserName: ref, AWS: &Profile{Exists: true, Name: "alice", Tags: map[string]string{"team": "ml"}}}, nil
}

func (f *fakeSync) Approve(_ context.Context, keys []string) (Approval, error) {
	f.keys = keys
	return Approval{Approved: []string{"user/u1"}, NotHeld: []string{"user/u2"}}, nil
}

// errUser wraps the sentinel as the real engine does.
type errUser struct{ fakeSync }

func (errUser) User(_ context.Context, ref string) (UserStatus, error) {
	return UserStatus{}, fmt.Errorf("no user %q: %w", ref, store.ErrNotFound)
}

type noAdmin struct{ Admin }

func serveSocket(t *testing.T, s Sync) *Client { return serveSocketKeys(t, s, nil) }

func serveSocketKeys(t *testing.T, s Sync, k Keys) *Client {
	t.Helper()
	path := filepath.Join(t.TempDir(), SocketName)
	ln, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: Handler(noAdmin{}, s, k), ReadHeaderTimeout: time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	c, ok := Dial(path)
	if !ok {
		t.Fatal("no answer on the socket")
	}
	return c
}

func TestSyncOverTheSocket(t *testing.T) {
	f := &fakeSync{}
	c := serveSocket(t, f)
	ctx := t.Context()

	p, err := c.Plan(ctx, true)
	if err != nil || !f.full || p.Keys != 3 || len(p.Changes) != 1 || p.Changes[0].Actions[0].String() != "CreateRole sagebridge-ml" {
		t.Fatalf("plan: %v %+v (full %v)", err, p, f.full)
	}
	if err := c.Resync(ctx); err != nil || !f.resynced {
		t.Fatalf("resync: %v", err)
	}
	if s, err := c.Summary(ctx); err != nil || !s.Converged || s.States["user"]["converged"] != 2 {
		t.Fatalf("summary: %v %+v", err, s)
	}
	// A userName with characters a path treats specially reaches the
	// engine as typed.
	if _, err := c.User(ctx, "a/b@example.com"); err == nil || f.ref != "a/b@example.com" {
		t.Fatalf("user ref: %v, engine got %q", err, f.ref)
	}
	if u, err := c.User(ctx, "alice@example.com"); err != nil || u.AWS.Tags["team"] != "ml" {
		t.Fatalf("user: %v %+v", err, u)
	}
	a, err := c.Approve(ctx, []string{"user/u1", "user/u2"})
	if err != nil || !slices.Equal(f.keys, []string{"user/u1", "user/u2"}) || !slices.Equal(a.Approved, []string{"user/u1"}) {
		t.Fatalf("approve: %v %+v, engine got %v", err, a, f.keys)
	}
}

// Errors keep their kind across the socket, so the CLI can tell "sync is
// disabled" and "no such user" from a failure.
func TestSyncErrorsKeepTheirKind(t *testing.T) {
	c := serveSocket(t, SyncDisabled("bridge.yaml has no aws section"))
	_, err := c.Summary(t.Context())
	if !errors.Is(err, ErrSyncDisabled) || !strings.Contains(err.Error(), "bridge.yaml has no aws section") {
		t.Fatalf("disabled: %v", err)
	}
	if _, err := c.Approve(t.Context(), nil); !errors.Is(err, ErrSyncDisabled) {
		t.Fatalf("disabled approve: %v", err)
	}

	c = serveSocket(t, &errUser{})
	if _, err := c.User(t.Context(), "nobody"); !errors.Is(err, store.ErrNotFound) || err.Error() != `no user "nobody": not found` {
		t.Fatalf("unknown user: %v", err)
	}
}

// A request body that is not JSON is refused as such.
func TestApproveRefusesABadBody(t *testing.T) {
	c := serveSocket(t, &fakeSync{})
	req, _ := http.NewRequest(http.MethodPost, "http://bridge/sync/approve", strings.NewReader("{"))
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "bad_request") {
		t.Fatalf("status %d: %s", resp.StatusCode, b)
	}
}

type fakeKeys struct{ rotated bool }

func (f *fakeKeys) SigningKeys(context.Context) ([]KeyInfo, error) {
	return []KeyInfo{{ID: "1", State: "signing"}}, nil
}

func (f *fakeKeys) RotateKey(context.Context) (KeyRotation, error) {
	f.rotated = true
	return KeyRotation{KeyID: "2", SignFrom: time.Date(2030, 1, 2, 0, 0, 0, 0, time.UTC)}, nil
}

func TestKeysOverTheSocket(t *testing.T) {
	f := &fakeKeys{}
	c := serveSocketKeys(t, &fakeSync{}, f)
	if keys, err := c.SigningKeys(t.Context()); err != nil || len(keys) != 1 || keys[0].State != "signing" {
		t.Fatalf("keys: %v %+v", err, keys)
	}
	if rot, err := c.RotateKey(t.Context()); err != nil || !f.rotated || rot.KeyID != "2" || rot.SignFrom.Year() != 2030 {
		t.Fatalf("rotate: %v %+v", err, rot)
	}
	c = serveSocket(t, &fakeSync{})
	if _, err := c.RotateKey(t.Context()); !errors.Is(err, ErrSignInDisabled) {
		t.Fatalf("rotate on a daemon without sign-in: %v", err)
	}
}
