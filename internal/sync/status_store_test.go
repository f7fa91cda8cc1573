package sync

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/mapping"
	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/boltstore"
)

func openBolt(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fullStatus sets every field, so a field the encoding drops shows.
func fullStatus(key string) Status {
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 6, time.UTC)
	return Status{
		Key: key, State: StateHeld, Applied: "h1", AppliedAt: t0, Changed: t0.Add(time.Second),
		Profile: "ada-lovelace", Bound: t0.Add(2 * time.Second), UserID: "ada", Team: "math",
		FederationRoleARN: "arn:aws:iam::1:role/f", ExecutionRoleARN: "arn:aws:iam::1:role/e",
		InactiveSince: t0.Add(3 * time.Second), Approved: t0.Add(5 * time.Second), LastError: "held: 3 deletions", ErrorAt: t0.Add(4 * time.Second),
	}
}

// TestStatusStores runs the StatusStore contract against every
// implementation, so the tests' MemStatus cannot drift from the daemon's.
func TestStatusStores(t *testing.T) {
	impls := []struct {
		name string
		new  func(t *testing.T) StatusStore
	}{
		{"MemStatus", func(*testing.T) StatusStore { return NewMemStatus() }},
		{"StoreStatus", func(t *testing.T) StatusStore {
			return NewStoreStatus(openBolt(t, filepath.Join(t.TempDir(), "bridge.db")))
		}},
	}
	checks := []struct {
		name string
		run  func(t *testing.T, ss StatusStore)
	}{
		{"RoundTrip", checkStatusRoundTrip},
		{"Scan", checkStatusScan},
		{"Concurrent", checkStatusConcurrent},
	}
	for _, impl := range impls {
		for _, c := range checks {
			t.Run(impl.name+"/"+c.name, func(t *testing.T) { c.run(t, impl.new(t)) })
		}
	}
}

func checkStatusRoundTrip(t *testing.T, ss StatusStore) {
	ctx := t.Context()
	if st, ok, err := ss.GetStatus(ctx, "user/u1"); err != nil || ok || st != (Status{}) {
		t.Fatalf("GetStatus of an absent key = %+v, %v, %v", st, ok, err)
	}
	want := fullStatus("user/u1")
	if err := ss.PutStatus(ctx, want); err != nil {
		t.Fatalf("PutStatus: %v", err)
	}
	if got, ok, err := ss.GetStatus(ctx, "user/u1"); err != nil || !ok || got != want {
		t.Fatalf("GetStatus = %+v, %v, %v;\nwant %+v", got, ok, err, want)
	}
	want = Status{Key: "user/u1", State: StateConverged, Profile: "ada-lovelace"}
	if err := ss.PutStatus(ctx, want); err != nil {
		t.Fatalf("PutStatus over a record: %v", err)
	}
	if got, _, err := ss.GetStatus(ctx, "user/u1"); err != nil || got != want {
		t.Fatalf("GetStatus after overwrite = %+v, %v; want %+v", got, err, want)
	}
	if err := ss.DeleteStatus(ctx, "user/u1"); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	if _, ok, err := ss.GetStatus(ctx, "user/u1"); err != nil || ok {
		t.Fatalf("GetStatus after DeleteStatus = %v, %v", ok, err)
	}
	if err := ss.DeleteStatus(ctx, "user/u1"); err != nil {
		t.Fatalf("DeleteStatus of a record already gone: %v", err)
	}
}

func checkStatusScan(t *testing.T, ss StatusStore) {
	ctx := t.Context()
	keys := []string{"user/3", "group/1", "user/1", "team/a", "saml", "user/2"}
	for _, k := range keys {
		if err := ss.PutStatus(ctx, Status{Key: k, State: StateConverged}); err != nil {
			t.Fatalf("PutStatus(%s): %v", k, err)
		}
	}
	scan := func(after string, limit int) string {
		t.Helper()
		page, err := ss.ScanStatus(ctx, after, limit)
		if err != nil {
			t.Fatalf("ScanStatus(%q, %d): %v", after, limit, err)
		}
		var got []string
		for _, st := range page {
			got = append(got, st.Key)
		}
		return fmt.Sprint(got)
	}
	for _, tt := range []struct {
		after string
		limit int
		want  string
	}{
		{"", 10, "[group/1 saml team/a user/1 user/2 user/3]"},
		{"", 2, "[group/1 saml]"},
		{"saml", 2, "[team/a user/1]"},
		{"team/b", 10, "[user/1 user/2 user/3]"},
		{"user/3", 10, "[]"},
	} {
		if got := scan(tt.after, tt.limit); got != tt.want {
			t.Errorf("ScanStatus(%q, %d) = %s, want %s", tt.after, tt.limit, got, tt.want)
		}
	}
	var users []string
	err := scanStatus(ctx, ss, "user/", func(st Status) error { users = append(users, st.Key); return nil })
	if err != nil || fmt.Sprint(users) != "[user/1 user/2 user/3]" {
		t.Errorf("scanStatus(user/) = %v, %v", users, err)
	}
}

func checkStatusConcurrent(t *testing.T, ss StatusStore) {
	const n = 20
	var wg gosync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			key := fmt.Sprintf("user/%02d", i)
			if errs[i] = ss.PutStatus(t.Context(), Status{Key: key, Profile: key}); errs[i] == nil {
				_, _, errs[i] = ss.GetStatus(t.Context(), key)
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if page, err := ss.ScanStatus(t.Context(), "", 2*n); err != nil || len(page) != n {
		t.Fatalf("ScanStatus = %d records, %v; want %d", len(page), err, n)
	}
}

// TestStoreStatusSurvivesRestart is why the sync's records are in the
// store: after a restart the binding of a user still holds its profile
// name, and a held deletion is still held.
func TestStoreStatusSurvivesRestart(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "bridge.db")
	st := openBolt(t, path)
	u1 := fullStatus(store.UserKey("u1"))
	if err := NewStoreStatus(st).PutStatus(ctx, u1); err != nil {
		t.Fatalf("PutStatus: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	ss := NewStoreStatus(openBolt(t, path))
	if got, ok, err := ss.GetStatus(ctx, u1.Key); err != nil || !ok || got != u1 {
		t.Fatalf("status after reopen = %+v, %v, %v; want %+v", got, ok, err, u1)
	}
	c := newClaims()
	if err := c.load(ctx, ss); err != nil {
		t.Fatalf("load claims: %v", err)
	}
	err := c.claim(mapping.Claim{Owner: "u2", UserID: "someone", ProfileName: u1.Profile})
	var col *mapping.Collision
	if !errors.As(err, &col) || col.Holder != "u1" {
		t.Fatalf("after a restart, u1 must still hold %q: %v", u1.Profile, err)
	}
}

// cappedStore serves status pages of at most two records, as a backend
// with a small page cap would.
type cappedStore struct{ store.Store }

func (c cappedStore) ScanStatus(ctx context.Context, after string, limit int) (store.Page[store.StatusRecord], error) {
	return c.Store.ScanStatus(ctx, after, min(limit, 2))
}

// TestStoreStatusScanPastPageCap: a short result must mean the end, so
// NewStoreStatus reads on past the backend's page cap.
func TestStoreStatusScanPastPageCap(t *testing.T) {
	ctx := t.Context()
	ss := NewStoreStatus(cappedStore{openBolt(t, filepath.Join(t.TempDir(), "bridge.db"))})
	for i := range 7 {
		if err := ss.PutStatus(ctx, Status{Key: fmt.Sprintf("user/%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if page, err := ss.ScanStatus(ctx, "", 5); err != nil || len(page) != 5 || page[4].Key != "user/4" {
		t.Fatalf("ScanStatus(\"\", 5) = %v, %v; want user/0 to user/4", page, err)
	}
	if page, err := ss.ScanStatus(ctx, "user/4", 5); err != nil || len(page) != 2 {
		t.Fatalf("ScanStatus(user/4, 5) = %v, %v; want the last two", page, err)
	}
}

// TestStoreStatusDamagedRecord: a record that is not a Status is an error
// naming its key, never a zero Status that would drop a binding.
func TestStoreStatusDamagedRecord(t *testing.T) {
	ctx := t.Context()
	st := openBolt(t, filepath.Join(t.TempDir(), "bridge.db"))
	if err := st.PutStatus(ctx, "user/bad", []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	ss := NewStoreStatus(st)
	if _, _, err := ss.GetStatus(ctx, "user/bad"); err == nil || !strings.Contains(err.Error(), "user/bad") {
		t.Fatalf("GetStatus of a damaged record: %v", err)
	}
	if _, err := ss.ScanStatus(ctx, "", 10); err == nil {
		t.Fatal("ScanStatus over a damaged record: no error")
	}
}
