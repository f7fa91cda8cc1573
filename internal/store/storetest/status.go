package storetest

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

func getStatus(t *testing.T, s store.Store, key string) []byte {
	t.Helper()
	data, err := s.GetStatus(t.Context(), key)
	if err != nil {
		t.Fatalf("GetStatus(%s): %v", key, err)
	}
	return data
}

func putStatus(t *testing.T, s store.Store, key string, data []byte) {
	t.Helper()
	if err := s.PutStatus(t.Context(), key, data); err != nil {
		t.Fatalf("PutStatus(%s): %v", key, err)
	}
}

func testStatusRecords(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetStatus(ctx, "user/x")
	wantErr(t, "GetStatus of an absent key", err, store.ErrNotFound)
	wantErr(t, "DeleteStatus of an absent key", s.DeleteStatus(ctx, "user/x"), store.ErrNotFound)

	// The records are opaque: any bytes, not only JSON, come back as given.
	first := []byte{0, 1, '{', 0xff}
	putStatus(t, s, "user/x", first)
	got := getStatus(t, s, "user/x")
	if !bytes.Equal(got, first) {
		t.Fatalf("GetStatus = %q, want %q", got, first)
	}
	// The caller owns what GetStatus returns.
	got[0] = 'X'
	if again := getStatus(t, s, "user/x"); !bytes.Equal(again, first) {
		t.Fatalf("changing the returned bytes changed the record: %q", again)
	}

	second := []byte(`{"profile":"ada"}`)
	putStatus(t, s, "user/x", second)
	if got := getStatus(t, s, "user/x"); !bytes.Equal(got, second) {
		t.Fatalf("GetStatus after overwrite = %q, want %q", got, second)
	}
	putStatus(t, s, "user/empty", nil)
	if got := getStatus(t, s, "user/empty"); len(got) != 0 {
		t.Fatalf("GetStatus of an empty record = %q", got)
	}

	if err := s.DeleteStatus(ctx, "user/x"); err != nil {
		t.Fatalf("DeleteStatus: %v", err)
	}
	_, err = s.GetStatus(ctx, "user/x")
	wantErr(t, "GetStatus after DeleteStatus", err, store.ErrNotFound)
	if got := getStatus(t, s, "user/empty"); len(got) != 0 {
		t.Fatalf("deleting one record touched another: %q", got)
	}
	// Status records are not sync work and do not count as records.
	if st := stats(t, s); st != (store.Stats{}) {
		t.Fatalf("Stats after status writes = %+v, want zero", st)
	}
}

func testStatusScan(t *testing.T, s store.Store) {
	ctx := t.Context()
	if p, err := s.ScanStatus(ctx, "", 10); err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("ScanStatus of an empty store = %+v, %v", p, err)
	}
	var keys []string
	keys = append(keys, "saml", "team/a", "team/b")
	for i := range 10 {
		keys = append(keys, fmt.Sprintf("user/%02d", i), fmt.Sprintf("group/%02d", i))
	}
	// Written out of order: the scan must sort, not replay.
	for _, i := range rand.Perm(len(keys)) {
		putStatus(t, s, keys[i], []byte("data of "+keys[i]))
	}
	slices.Sort(keys)

	scan := func(after string, limit int) (store.Page[store.StatusRecord], error) {
		p, err := s.ScanStatus(ctx, after, limit)
		for _, r := range p.Items {
			if string(r.Data) != "data of "+r.Key {
				t.Fatalf("record %s holds %q", r.Key, r.Data)
			}
		}
		return p, err
	}
	key := func(r store.StatusRecord) string { return r.Key }
	for _, tt := range []struct{ limit, wantPages int }{{5, 5}, {10, 3}, {23, 1}, {50, 1}} {
		got, pages := collect(t, scan, key, tt.limit)
		wantIDs(t, fmt.Sprintf("scanned keys, limit %d", tt.limit), got, keys...)
		if pages != tt.wantPages {
			t.Fatalf("limit %d took %d pages, want %d", tt.limit, pages, tt.wantPages)
		}
	}
	// after need not be a stored key: the scan starts at the next one.
	p, err := scan("user/", 3)
	if err != nil {
		t.Fatalf("ScanStatus after user/: %v", err)
	}
	var got []string
	for _, r := range p.Items {
		got = append(got, r.Key)
	}
	wantIDs(t, "keys after user/", got, "user/00", "user/01", "user/02")
	if p, err := scan("user/09", 3); err != nil || len(p.Items) != 0 || p.Next != "" {
		t.Fatalf("ScanStatus after the last key = %+v, %v", p, err)
	}
}

// testStatusSurvivesDelete: deleting a user or a group keeps its status
// record, which the sync needs to remove the user's profile, and writes to
// records never create one.
func testStatusSurvivesDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	u := createUser(t, s, newUser("ada"))
	g := createGroup(t, s, newGroup("G"), u.ID)
	if p, err := s.ScanStatus(ctx, "", 10); err != nil || len(p.Items) != 0 {
		t.Fatalf("status records after creating records = %+v, %v; want none", p, err)
	}
	putStatus(t, s, store.UserKey(u.ID), []byte(`{"profile":"ada"}`))
	putStatus(t, s, store.GroupKey(g.ID), []byte(`{"team":"t"}`))
	if err := s.DeleteUser(ctx, u.ID, 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	if err := s.DeleteGroup(ctx, g.ID, 0); err != nil {
		t.Fatalf("DeleteGroup: %v", err)
	}
	if got := getStatus(t, s, store.UserKey(u.ID)); string(got) != `{"profile":"ada"}` {
		t.Fatalf("user status after DeleteUser = %q", got)
	}
	if got := getStatus(t, s, store.GroupKey(g.ID)); string(got) != `{"team":"t"}` {
		t.Fatalf("group status after DeleteGroup = %q", got)
	}
}

func testQueueItem(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.QueueItem(ctx, "k")
	wantErr(t, "QueueItem of a key never queued", err, store.ErrNotFound)

	u := createUser(t, s, newUser("ada"))
	wantItem := func(what, key string) store.QueueItem {
		t.Helper()
		got, err := s.QueueItem(ctx, key)
		if err != nil {
			t.Fatalf("%s: QueueItem(%s): %v", what, key, err)
		}
		want := queue(t, s)[key]
		if got.Key != want.Key || got.Gen != want.Gen || !got.Due.Equal(want.Due) ||
			got.Attempts != want.Attempts || got.LastError != want.LastError {
			t.Fatalf("%s: QueueItem(%s) = %+v, DueItems has %+v", what, key, got, want)
		}
		return got
	}
	wantItem("after CreateUser", store.UserKey(u.ID))

	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	it := wantItem("after Enqueue", "k")
	due := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.Reschedule(ctx, "k", it.Gen, due, 2, "throttled"); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	it = wantItem("after Reschedule", "k")
	if it.Attempts != 2 || it.LastError != "throttled" || !it.Due.Equal(due) {
		t.Fatalf("QueueItem after Reschedule = %+v, want 2 attempts, its error, due %v", it, due)
	}
	if err := s.Complete(ctx, "k", it.Gen); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	_, err = s.QueueItem(ctx, "k")
	wantErr(t, "QueueItem after Complete", err, store.ErrNotFound)
	wantItem("a key not completed", store.UserKey(u.ID))
}

// testConcurrentStatus: concurrent writes to distinct keys, which a
// backend may batch, all land.
func testConcurrentStatus(t *testing.T, s store.Store) {
	const n = 50
	errs := run(n, func(i int) error {
		return s.PutStatus(t.Context(), fmt.Sprintf("user/%02d", i), fmt.Appendf(nil, "%d", i))
	})
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PutStatus %d: %v", i, err)
		}
	}
	p, err := s.ScanStatus(t.Context(), "", n)
	if err != nil || len(p.Items) != n {
		t.Fatalf("ScanStatus = %d records, %v; want %d", len(p.Items), err, n)
	}
	for i, r := range p.Items {
		if r.Key != fmt.Sprintf("user/%02d", i) || string(r.Data) != fmt.Sprint(i) {
			t.Fatalf("record %d = %s %q", i, r.Key, r.Data)
		}
	}
}
