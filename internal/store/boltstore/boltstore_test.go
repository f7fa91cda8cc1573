package boltstore

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/storetest"
)

// newTestStore opens a store in a fresh file and, when the test ends,
// closes it and checks the file.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	return newCheckedStore(t, Options{})
}

func newCheckedStore(t testing.TB, opts Options) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	// Before openAt's Close: cleanups run last first, and the check
	// needs the file closed.
	t.Cleanup(func() { checkFile(t, path) })
	return openAt(t, path, opts)
}

// openAt opens the store at path and closes it when the test ends.
func openAt(t testing.TB, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil && !errors.Is(err, store.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store { return newTestStore(t) })
}

func TestReopenKeepsDataAndCounters(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	u, err := s.CreateUser(ctx, store.User{ID: "u1", UserName: "Ada", Emails: []string{"ada@example.com"}})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	if _, err := s.CreateGroup(ctx, store.Group{ID: "g1", DisplayName: "G"}, []string{"u1"}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if err := s.CreateToken(ctx, store.Token{Name: "t", Hash: []byte{1}}); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	if err := s.PutStatus(ctx, store.UserKey("u1"), []byte(`{"profile":"ada"}`)); err != nil {
		t.Fatalf("PutStatus: %v", err)
	}
	want, err := s.Stats(ctx)
	if err != nil {
		t.Fatalf("Stats: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkFile(t, path)

	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	got, err := s.GetUser(ctx, "u1")
	if err != nil || got.UserName != u.UserName || got.Version != 1 || !got.Created.Equal(u.Created) {
		t.Fatalf("user after reopen = %+v, %v; want %+v", got, err, u)
	}
	if st, err := s.Stats(ctx); err != nil || st != want {
		t.Fatalf("Stats after reopen = %+v, %v; want %+v", st, err, want)
	}
	if ok, err := s.IsMember(ctx, "g1", "u1"); err != nil || !ok {
		t.Fatalf("membership lost on reopen: %v, %v", ok, err)
	}
	if ids, err := s.LookupUsers(ctx, store.Lookup{Index: store.IndexUserEmail, Value: "ADA@example.com"}); err != nil || len(ids) != 1 {
		t.Fatalf("email index after reopen = %v, %v", ids, err)
	}
	if data, err := s.GetStatus(ctx, store.UserKey("u1")); err != nil || string(data) != `{"profile":"ada"}` {
		t.Fatalf("status after reopen = %s, %v", data, err)
	}
}

func TestClosed(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	calls := map[string]error{
		"GetUser":    func() error { _, err := s.GetUser(ctx, "x"); return err }(),
		"CreateUser": func() error { _, err := s.CreateUser(ctx, store.User{ID: "x", UserName: "x"}); return err }(),
		"Enqueue":    s.Enqueue(ctx, "k"),
		"QueueItem":  func() error { _, err := s.QueueItem(ctx, "k"); return err }(),
		"PutStatus":  s.PutStatus(ctx, "k", nil),
		"GetStatus":  func() error { _, err := s.GetStatus(ctx, "k"); return err }(),
		"ScanStatus": func() error { _, err := s.ScanStatus(ctx, "", 1); return err }(),
		"Stats":      func() error { _, err := s.Stats(ctx); return err }(),
		"Backup":     func() error { _, err := s.Backup(ctx, new(strings.Builder)); return err }(),
		"Close":      s.Close(),
	}
	for name, err := range calls {
		if !errors.Is(err, store.ErrClosed) {
			t.Errorf("%s after Close: %v, want %v", name, err, store.ErrClosed)
		}
	}
}

// TestCloseDrainsWrites closes while writers run: each write either
// committed (and is in the file) or was refused with ErrClosed.
func TestCloseDrainsWrites(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var ok sync.Map
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("u-%d-%d", w, i)
				_, err := s.CreateUser(ctx, store.User{ID: id, UserName: id})
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("CreateUser: %v", err)
					return
				}
				ok.Store(id, true)
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	checkFile(t, path)
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	ok.Range(func(k, _ any) bool {
		if _, err := s.GetUser(ctx, k.(string)); err != nil {
			t.Errorf("acknowledged write lost: %v", err)
		}
		return true
	})
}

func TestSecondOpenIsLocked(t *testing.T) {
	s := newTestStore(t)
	start := time.Now()
	_, err := Open(s.Path(), Options{OpenTimeout: 100 * time.Millisecond})
	if !errors.Is(err, ErrLocked) || !errors.Is(err, berrors.ErrTimeout) {
		t.Fatalf("second Open: %v, want %v wrapping %v", err, ErrLocked, berrors.ErrTimeout)
	}
	if !strings.Contains(err.Error(), s.Path()) || !strings.Contains(err.Error(), "daemon") {
		t.Fatalf("error %q should name the file and hint at the daemon", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second Open took %v with a 100ms timeout", d)
	}
}

func TestBackupWhileWriting(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	stop := make(chan struct{})
	var written atomic.Int64
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("u-%d-%d", w, i)
				if _, err := s.CreateUser(ctx, store.User{ID: id, UserName: id, Emails: []string{id + "@example.com"}}); err != nil {
					t.Errorf("CreateUser: %v", err)
					return
				}
				written.Add(1)
			}
		})
	}
	for written.Load() < 50 {
		time.Sleep(time.Millisecond)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	n, err := s.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	close(stop)
	wg.Wait()
	if err != nil || n == 0 {
		t.Fatalf("Backup = %d, %v", n, err)
	}
	checkFile(t, backup)
	b, err := Open(backup, Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer b.Close()
	st, err := b.Stats(ctx)
	if err != nil || st.Users == 0 || int64(st.Users) > written.Load() {
		t.Fatalf("backup Stats = %+v, %v; %d users were written", st, err, written.Load())
	}
}

// TestBackupKeepsStatus restores a backup and finds the sync's records:
// losing them would lose every profile-name binding with the restore.
func TestBackupKeepsStatus(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if err := s.PutStatus(ctx, "user/u1", []byte(`{"profile":"ada"}`)); err != nil {
		t.Fatalf("PutStatus: %v", err)
	}
	backup := filepath.Join(t.TempDir(), "backup.db")
	f, err := os.Create(backup)
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Backup(ctx, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	checkFile(t, backup)
	b, err := Open(backup, Options{})
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer b.Close()
	if data, err := b.GetStatus(ctx, "user/u1"); err != nil || string(data) != `{"profile":"ada"}` {
		t.Fatalf("status in the backup = %s, %v", data, err)
	}
}

// TestFailedWriteDoesNotFailItsBatch submits many writes at once, some of
// which fail: the others must commit, the failing ones must leave nothing.
func TestFailedWriteDoesNotFailItsBatch(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	boom := errors.New("boom")
	const n = 200
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs[i] = s.submit(ctx, func(w *wtx) error {
				if err := bucketTokens.in(w.Tx).Put(fmt.Appendf(nil, "t%03d", i), []byte("{}")); err != nil {
					return err
				}
				if i%7 == 0 {
					return boom
				}
				return nil
			})
		})
	}
	wg.Wait()
	err := s.view(ctx, func(tx *bolt.Tx) error {
		for i := range n {
			present := bucketTokens.in(tx).Get(fmt.Appendf(nil, "t%03d", i)) != nil
			switch {
			case i%7 == 0 && (!errors.Is(errs[i], boom) || present):
				return fmt.Errorf("write %d: err %v, present %v; want boom and absent", i, errs[i], present)
			case i%7 != 0 && (errs[i] != nil || !present):
				return fmt.Errorf("write %d: err %v, present %v; want committed", i, errs[i], present)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCancelledWriteIsNotApplied cancels a write while it waits behind a
// stalled commit: it must report the cancellation and never be applied.
func TestCancelledWriteIsNotApplied(t *testing.T) {
	s := newTestStore(t)
	release := make(chan struct{})
	stalled := make(chan struct{})
	go func() {
		_ = s.submit(t.Context(), func(*wtx) error {
			select {
			case <-stalled:
			default:
				close(stalled)
			}
			<-release
			return nil
		})
	}()
	<-stalled
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error)
	go func() { done <- s.Enqueue(ctx, "k") }()
	time.Sleep(20 * time.Millisecond) // let it queue behind the stall
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Enqueue: %v", err)
	}
	close(release)
	if err := s.Enqueue(t.Context(), "other"); err != nil {
		t.Fatalf("Enqueue after the stall: %v", err)
	}
	items, err := s.DueItems(t.Context(), time.Now().Add(time.Hour), 10)
	if err != nil || len(items) != 1 || items[0].Key != "other" {
		t.Fatalf("queue = %+v, %v; want only other", items, err)
	}
}

func TestUndecodableRecord(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if _, err := s.CreateUser(ctx, store.User{ID: "good", UserName: "good"}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	err := s.submit(ctx, func(w *wtx) error {
		return bucketUsers.in(w.Tx).Put([]byte("bad"), []byte("{not json"))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetUser(ctx, "bad"); err == nil || !strings.Contains(err.Error(), "decode user bad") {
		t.Fatalf("GetUser of a damaged record: %v", err)
	}
	if _, err := s.ScanUsers(ctx, "", 10); err == nil {
		t.Fatal("ScanUsers over a damaged record: no error")
	}
	if _, err := s.GetUser(ctx, "good"); err != nil {
		t.Fatalf("GetUser of a sound record: %v", err)
	}
	// Repair the file so the cleanup check passes.
	err = s.submit(ctx, func(w *wtx) error { return bucketUsers.in(w.Tx).Delete([]byte("bad")) })
	if err != nil {
		t.Fatal(err)
	}
}

func TestInvalidInput(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"empty id", func() error { _, err := s.CreateUser(ctx, store.User{UserName: "x"}); return err }},
		{"NUL in id", func() error { _, err := s.CreateUser(ctx, store.User{ID: "a\x00b", UserName: "x"}); return err }},
		{"empty userName", func() error { _, err := s.CreateUser(ctx, store.User{ID: "a"}); return err }},
		{"invalid data", func() error {
			_, err := s.CreateUser(ctx, store.User{ID: "a", UserName: "x", Data: []byte("{")})
			return err
		}},
		{"empty displayName", func() error { _, err := s.CreateGroup(ctx, store.Group{ID: "g"}, nil); return err }},
		{"empty queue key", func() error { return s.Enqueue(ctx, "") }},
		{"empty token name", func() error { return s.CreateToken(ctx, store.Token{}) }},
		{"empty status key", func() error { return s.PutStatus(ctx, "", []byte("{}")) }},
	}
	for _, tt := range tests {
		if err := tt.call(); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
	if st, err := s.Stats(ctx); err != nil || st != (store.Stats{}) {
		t.Fatalf("Stats after refused writes = %+v, %v", st, err)
	}
}

// TestMembersPagesThroughLargeGroups crosses the chunk boundary of Members
// and checks that no id is lost or repeated between read transactions.
func TestMembersPagesThroughLargeGroups(t *testing.T) {
	s := newTestStore(t)
	users := make([]store.User, 2*membersChunk+500)
	for i := range users {
		users[i] = store.User{ID: uuid(), UserName: fmt.Sprintf("u%d", i)}
	}
	users, err := bulkCreateUsers(s, users)
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.ID
	}
	g, err := bulkCreateGroup(s, store.Group{ID: "g", DisplayName: "big"}, ids)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	err = s.Members(t.Context(), g.ID, func(id string) error {
		got = append(got, id)
		return nil
	})
	if err != nil {
		t.Fatalf("Members: %v", err)
	}
	if want := sortedSet(ids); !slices.Equal(got, want) {
		t.Fatalf("Members returned %d ids, want the %d members in id order", len(got), len(want))
	}
}
