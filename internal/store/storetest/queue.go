package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/requestid"
	"github.com/sagebridge/sagebridge/internal/store"
)

func testQueueOnEveryWrite(t *testing.T, s store.Store) {
	ctx := t.Context()
	ids := createUsers(t, s, "member", "joiner")
	member, joiner := ids[0], ids[1]
	var target store.User
	var group store.Group

	// Each step is a write; the keys must be queued when it returns, which
	// only a same-transaction enqueue guarantees across a crash.
	steps := []struct {
		name  string
		write func() error
		want  func() []string
	}{
		{"create user", func() (err error) {
			target, err = s.CreateUser(ctx, newUser("target"))
			return err
		}, func() []string { return []string{store.UserKey(target.ID)} }},
		{"update user", func() error {
			_, err := s.UpdateUser(ctx, target.ID, func(cur store.User) (store.User, error) {
				cur.Active = !cur.Active
				return cur, nil
			})
			return err
		}, func() []string { return []string{store.UserKey(target.ID)} }},
		{"create group", func() (err error) {
			group, err = s.CreateGroup(ctx, newGroup("G"), []string{member, target.ID})
			return err
		}, func() []string {
			return []string{store.GroupKey(group.ID), store.UserKey(member), store.UserKey(target.ID)}
		}},
		{"update group attributes", func() error {
			_, err := s.UpdateGroup(ctx, group.ID, func(cur store.Group) (store.GroupChange, error) {
				cur.DisplayName = "G2"
				return store.GroupChange{Group: &cur}, nil
			})
			return err
		}, func() []string { return []string{store.GroupKey(group.ID)} }},
		{"add member", func() error {
			_, err := s.UpdateGroup(ctx, group.ID, func(store.Group) (store.GroupChange, error) {
				return store.GroupChange{Add: []string{joiner}}, nil
			})
			return err
		}, func() []string { return []string{store.UserKey(joiner)} }},
		{"remove member", func() error {
			_, err := s.UpdateGroup(ctx, group.ID, func(store.Group) (store.GroupChange, error) {
				return store.GroupChange{Remove: []string{member}}, nil
			})
			return err
		}, func() []string { return []string{store.UserKey(member)} }},
		{"replace members", func() error {
			_, err := s.UpdateGroup(ctx, group.ID, func(store.Group) (store.GroupChange, error) {
				return store.GroupChange{ReplaceMembers: true, Add: []string{member}}, nil
			})
			return err
		}, func() []string {
			return []string{store.UserKey(member), store.UserKey(joiner), store.UserKey(target.ID)}
		}},
		{"delete user", func() error {
			return s.DeleteUser(ctx, member, 0)
		}, func() []string { return []string{store.UserKey(member)} }},
		{"delete group", func() error {
			return s.DeleteGroup(ctx, group.ID, 0)
		}, func() []string { return []string{store.GroupKey(group.ID)} }},
		{"enqueue", func() error {
			return s.Enqueue(ctx, "custom/1", "custom/2")
		}, func() []string { return []string{"custom/1", "custom/2"} }},
	}
	for _, st := range steps {
		clearQueue(t, s)
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		q := queue(t, s)
		wantQueued(t, st.name, q, st.want()...)
		if got := stats(t, s).QueueDepth; got != len(q) {
			t.Fatalf("%s: Stats.QueueDepth = %d, %d items queued", st.name, got, len(q))
		}
	}
}

func testQueueDedupe(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	first := queue(t, s)["k"]
	if first.Attempts != 0 || first.LastError != "" {
		t.Fatalf("fresh item = %+v", first)
	}
	if err := s.Enqueue(ctx, "k", "k"); err != nil {
		t.Fatalf("Enqueue again: %v", err)
	}
	q := queue(t, s)
	second := q["k"]
	if len(q) != 1 || stats(t, s).QueueDepth != 1 {
		t.Fatalf("queue after enqueueing one key twice: %v (depth %d)", q, stats(t, s).QueueDepth)
	}
	if second.Gen == first.Gen {
		t.Fatalf("Gen stayed %d across an enqueue", second.Gen)
	}
	if !second.Due.Equal(first.Due) {
		t.Fatalf("Due moved from %v to %v: the earlier due must be kept", first.Due, second.Due)
	}

	// A key waiting for a retry that is changed again is due now, with its
	// attempts starting over.
	later := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if err := s.Reschedule(ctx, "k", second.Gen, later, 3, "throttled"); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue after Reschedule: %v", err)
	}
	third := queue(t, s)["k"]
	if !third.Due.Before(later) || third.Attempts != 0 || third.Gen == second.Gen {
		t.Fatalf("after re-enqueue of a rescheduled key: %+v, want due before %v, attempts 0, new gen", third, later)
	}
}

func testQueueGen(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	old := queue(t, s)["k"]
	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	cur := queue(t, s)["k"]

	if err := s.Complete(ctx, "k", old.Gen); err != nil {
		t.Fatalf("Complete(stale gen): %v", err)
	}
	if err := s.Reschedule(ctx, "k", old.Gen, time.Now().Add(time.Hour), 5, "stale"); err != nil {
		t.Fatalf("Reschedule(stale gen): %v", err)
	}
	if got := queue(t, s)["k"]; got.Gen != cur.Gen || got.Attempts != 0 || !got.Due.Equal(cur.Due) {
		t.Fatalf("stale Complete/Reschedule changed the item: %+v, was %+v", got, cur)
	}
	if err := s.Complete(ctx, "k", cur.Gen); err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if q := queue(t, s); len(q) != 0 {
		t.Fatalf("queue after Complete: %v", q)
	}
	if err := s.Complete(ctx, "k", cur.Gen); err != nil {
		t.Fatalf("Complete of a key no longer queued: %v", err)
	}
	if _, ok, err := s.NextDue(ctx); err != nil || ok {
		t.Fatalf("NextDue of an empty queue = %v, %v", ok, err)
	}
}

func testQueueOrder(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.Enqueue(ctx, "a", "b", "c"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	base := time.Now().Truncate(time.Millisecond)
	dues := map[string]time.Time{
		"a": base.Add(3 * time.Minute),
		"b": base.Add(1 * time.Minute),
		"c": base.Add(2 * time.Minute),
	}
	for k, it := range queue(t, s) {
		if err := s.Reschedule(ctx, k, it.Gen, dues[k], 2, "retry "+k); err != nil {
			t.Fatalf("Reschedule(%s): %v", k, err)
		}
	}
	keys := func(now time.Time, limit int) []string {
		t.Helper()
		items, err := s.DueItems(ctx, now, limit)
		if err != nil {
			t.Fatalf("DueItems: %v", err)
		}
		var ks []string
		for i, it := range items {
			ks = append(ks, it.Key)
			if !it.Due.Equal(dues[it.Key]) || it.Attempts != 2 || it.LastError != "retry "+it.Key {
				t.Fatalf("item %d = %+v, want due %v, 2 attempts, its error", i, it, dues[it.Key])
			}
		}
		return ks
	}
	wantIDs(t, "due now", keys(base, 10))
	wantIDs(t, "due in 90s", keys(base.Add(90*time.Second), 10), "b")
	wantIDs(t, "due at c's time", keys(dues["c"], 10), "b", "c")
	wantIDs(t, "all due", keys(base.Add(time.Hour), 10), "b", "c", "a")
	wantIDs(t, "limit 2", keys(base.Add(time.Hour), 2), "b", "c")

	next, ok, err := s.NextDue(ctx)
	if err != nil || !ok || !next.Equal(dues["b"]) {
		t.Fatalf("NextDue = %v, %v, %v; want %v", next, ok, err, dues["b"])
	}
	// Moving b later makes c the next due.
	if err := s.Reschedule(ctx, "b", queue(t, s)["b"].Gen, base.Add(4*time.Minute), 3, "again"); err != nil {
		t.Fatalf("Reschedule(b): %v", err)
	}
	dues["b"] = base.Add(4 * time.Minute)
	if next, _, _ := s.NextDue(ctx); !next.Equal(dues["c"]) {
		t.Fatalf("NextDue after moving b = %v, want %v", next, dues["c"])
	}
}

func testQueueChanged(t *testing.T, s store.Store) {
	ctx := t.Context()
	ch := s.QueueChanged()
	drain := func() {
		for {
			select {
			case <-ch:
			default:
				return
			}
		}
	}
	wantSignal := func(what string) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: QueueChanged not signalled", what)
		}
	}
	drain()
	u := createUser(t, s, newUser("x"))
	wantSignal("CreateUser")
	drain()
	if err := s.Enqueue(ctx, "k"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	wantSignal("Enqueue")
	drain()
	createGroup(t, s, newGroup("G"), u.ID)
	wantSignal("CreateGroup")
	drain()
	if err := s.DeleteUser(ctx, u.ID, 0); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	wantSignal("DeleteUser")
}

// testQueueRequestID: a write's queue entries carry the id of the request
// that made it, also the members' entries of a group write; a retry keeps
// it, and so does a write without an id; the next request's write
// replaces it.
func testQueueRequestID(t *testing.T, s store.Store) {
	ctx := t.Context()
	u, err := s.CreateUser(requestid.With(ctx, "req-create"), store.User{ID: newID(), UserName: "rid@example.com", Active: true, Data: []byte(`{}`)})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	uk := store.UserKey(u.ID)
	if got := queue(t, s)[uk].RequestID; got != "req-create" {
		t.Fatalf("after CreateUser, %s has request id %q, want req-create", uk, got)
	}
	g, err := s.CreateGroup(requestid.With(ctx, "req-group"), store.Group{ID: newID(), DisplayName: "team-rid", Data: []byte(`{}`)}, []string{u.ID})
	if err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	q := queue(t, s)
	for _, k := range []string{uk, store.GroupKey(g.ID)} {
		if q[k].RequestID != "req-group" {
			t.Errorf("after CreateGroup, %s has request id %q, want req-group", k, q[k].RequestID)
		}
	}
	it := q[uk]
	if err := s.Reschedule(ctx, uk, it.Gen, time.Now().Add(time.Hour), 1, "throttled"); err != nil {
		t.Fatalf("Reschedule: %v", err)
	}
	if got := queue(t, s)[uk]; got.RequestID != "req-group" || got.Attempts != 1 {
		t.Errorf("after Reschedule: %+v, want the request id kept", got)
	}
	if err := s.Enqueue(ctx, uk); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got := queue(t, s)[uk].RequestID; got != "req-group" {
		t.Errorf("after an Enqueue without a request id, %s has %q, want req-group kept", uk, got)
	}
	if err := s.Enqueue(requestid.With(ctx, "req-next"), uk); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got := queue(t, s)[uk].RequestID; got != "req-next" {
		t.Errorf("after the next request's Enqueue, %s has %q, want req-next", uk, got)
	}
	if err := s.Enqueue(ctx, "fresh"); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	if got := queue(t, s)["fresh"].RequestID; got != "" {
		t.Errorf("a key queued without a request id has %q", got)
	}
}

// testCountQueue: exact counts over a queue longer than one page of
// DueItems (MaxLimit is 1,000), with items due later and items retrying.
func testCountQueue(t *testing.T, s store.Store) {
	ctx := t.Context()
	if qc, err := s.CountQueue(ctx, time.Now()); err != nil || qc != (store.QueueCounts{}) {
		t.Fatalf("CountQueue of an empty queue = %+v, %v", qc, err)
	}
	const n = 1500
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user/%05d", i)
	}
	if err := s.Enqueue(ctx, keys...); err != nil {
		t.Fatalf("Enqueue: %v", err)
	}
	later := time.Now().Add(time.Hour)
	for _, k := range keys[:300] {
		it, err := s.QueueItem(ctx, k)
		if err != nil {
			t.Fatalf("QueueItem(%s): %v", k, err)
		}
		if err := s.Reschedule(ctx, k, it.Gen, later, 2, "throttled"); err != nil {
			t.Fatalf("Reschedule(%s): %v", k, err)
		}
	}
	qc, err := s.CountQueue(ctx, time.Now().Add(time.Minute))
	if err != nil {
		t.Fatalf("CountQueue: %v", err)
	}
	if qc.Due != n-300 || qc.Retrying != 300 || qc.Next.IsZero() || qc.Next.After(time.Now()) {
		t.Errorf("CountQueue = %+v, want due %d, retrying 300, next before now", qc, n-300)
	}
	if qc, _ := s.CountQueue(ctx, later); qc.Due != n {
		t.Errorf("CountQueue by %v: due %d, want %d", later, qc.Due, n)
	}
}
