package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/sagebridge/sagebridge/internal/store"
)

var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

func testSeenIDs(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.MarkSeen(ctx, "a1", epoch.Add(time.Minute)); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	wantErr(t, "MarkSeen of a recorded id", s.MarkSeen(ctx, "a1", epoch.Add(time.Hour)), store.ErrAlreadySeen)
	if err := s.MarkSeen(ctx, "A1", epoch.Add(time.Minute)); err != nil {
		t.Fatalf("MarkSeen is case-sensitive, yet A1 after a1: %v", err)
	}
	if err := s.MarkSeen(ctx, "", epoch); err == nil {
		t.Fatal("MarkSeen of an empty id: no error")
	}
	// In two steps: the claim decides, the wait reports it.
	first, second := s.StartMarkSeen(ctx, "b1", epoch.Add(time.Minute)), s.StartMarkSeen(ctx, "b1", epoch.Add(time.Minute))
	if err := first(); err != nil {
		t.Fatalf("StartMarkSeen: %v", err)
	}
	wantErr(t, "StartMarkSeen of a claimed id", second(), store.ErrAlreadySeen)
	wantErr(t, "MarkSeen of an id recorded in two steps", s.MarkSeen(ctx, "b1", epoch.Add(time.Hour)), store.ErrAlreadySeen)
	// Seen ids are not records.
	if st := stats(t, s); st != (store.Stats{}) {
		t.Fatalf("Stats after MarkSeen = %+v, want zero", st)
	}
}

func testPruneSeen(t *testing.T, s store.Store) {
	ctx := t.Context()
	// Recorded out of expiry order, so that pruning has to follow expiry,
	// not insertion or id order.
	for _, e := range []struct {
		id  string
		exp time.Duration
	}{{"z", 1 * time.Minute}, {"y", 3 * time.Minute}, {"x", 2 * time.Minute}, {"w", 10 * time.Minute}} {
		if err := s.MarkSeen(ctx, e.id, epoch.Add(e.exp)); err != nil {
			t.Fatalf("MarkSeen(%s): %v", e.id, err)
		}
	}
	tests := []struct {
		name   string
		before time.Duration
		limit  int
		want   int
		// still seen after the prune, and free again
		seen, free []string
	}{
		{"nothing expired", 0, 10, 0, []string{"z", "y", "x", "w"}, nil},
		{"limit bounds the work", 5 * time.Minute, 2, 2, []string{"y", "w"}, []string{"z", "x"}},
		{"the rest of the expired", 5 * time.Minute, 10, 1, []string{"w"}, []string{"y"}},
		{"expiry is exclusive", 10 * time.Minute, 10, 0, []string{"w"}, nil},
	}
	for _, tt := range tests {
		n, err := s.PruneSeen(ctx, epoch.Add(tt.before), tt.limit)
		if err != nil || n != tt.want {
			t.Fatalf("%s: PruneSeen = %d, %v; want %d", tt.name, n, err, tt.want)
		}
		for _, id := range tt.seen {
			wantErr(t, tt.name+": MarkSeen("+id+")", s.MarkSeen(ctx, id, epoch), store.ErrAlreadySeen)
		}
		for _, id := range tt.free {
			// Recording a pruned id again works, and far in the future so
			// that later rows do not prune it.
			if err := s.MarkSeen(ctx, id, epoch.Add(24*time.Hour)); err != nil {
				t.Fatalf("%s: MarkSeen(%s) after prune: %v", tt.name, id, err)
			}
		}
	}
}

func testConcurrentMarkSeen(t *testing.T, s store.Store) {
	const n = 20
	errs := run(n, func(int) error { return s.MarkSeen(t.Context(), "once", epoch) })
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrAlreadySeen):
			t.Fatalf("MarkSeen: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent MarkSeen calls succeeded, want exactly 1", ok, n)
	}
}

func testSigningKeys(t *testing.T, s store.Store) {
	ctx := t.Context()
	if keys, err := s.SigningKeys(ctx); err != nil || len(keys) != 0 {
		t.Fatalf("SigningKeys of an empty store = %v, %v", keys, err)
	}
	var want []store.SigningKey
	// 10 keys, so that "10" must sort after "9".
	for i := 1; i <= 10; i++ {
		k := store.SigningKey{
			ID: fmt.Sprint(i), PrivateKey: []byte{byte(i), 1}, Certificate: []byte{byte(i), 2},
			Created: epoch.Add(time.Duration(i) * time.Hour), SignFrom: epoch.Add(time.Duration(i) * time.Hour),
		}
		if err := s.CreateSigningKey(ctx, k); err != nil {
			t.Fatalf("CreateSigningKey(%s): %v", k.ID, err)
		}
		want = append(want, k)
	}
	wantErr(t, "CreateSigningKey with a taken id", s.CreateSigningKey(ctx, store.SigningKey{ID: "3"}), store.ErrConflict)
	got, err := s.SigningKeys(ctx)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("SigningKeys = %+v, %v\nwant %+v", got, err, want)
	}
	if err := s.DeleteSigningKey(ctx, "3"); err != nil {
		t.Fatalf("DeleteSigningKey: %v", err)
	}
	wantErr(t, "DeleteSigningKey of an absent key", s.DeleteSigningKey(ctx, "3"), store.ErrNotFound)
	if got, _ := s.SigningKeys(ctx); len(got) != 9 {
		t.Fatalf("%d keys after a delete, want 9", len(got))
	}
}

func testSAMLMeta(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.SAMLMeta(ctx, "upstream")
	wantErr(t, "SAMLMeta of an absent name", err, store.ErrNotFound)
	if err := s.PutSAMLMeta(ctx, "upstream", []byte("<md/>")); err != nil {
		t.Fatalf("PutSAMLMeta: %v", err)
	}
	got, err := s.SAMLMeta(ctx, "upstream")
	if err != nil || string(got) != "<md/>" {
		t.Fatalf("SAMLMeta = %q, %v", got, err)
	}
	got[0] = 'X'
	if again, _ := s.SAMLMeta(ctx, "upstream"); string(again) != "<md/>" {
		t.Fatalf("changing the returned bytes changed the blob: %q", again)
	}

	// InitSAMLMeta: the first caller wins, racers all get its value.
	const n = 10
	results := make([][]byte, n)
	errs := run(n, func(i int) error {
		var err error
		results[i], err = s.InitSAMLMeta(ctx, "secret", []byte{byte(i)})
		return err
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("InitSAMLMeta: %v", errs[i])
		}
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("InitSAMLMeta callers disagree: %v and %v", results[i], results[0])
		}
	}
	stored, err := s.SAMLMeta(ctx, "secret")
	if err != nil || !bytes.Equal(stored, results[0]) {
		t.Fatalf("stored secret %v, %v; callers got %v", stored, err, results[0])
	}
}
