package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
	"github.com/sagebridge/sagebridge/internal/store/storetest"
)

var expiry = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// syncModes are the two ways the replay log syncs; on Linux "aio" uses AIO
// where a caller has no spare P, elsewhere both sync from goroutines.
var syncModes = []struct {
	name string
	opts Options
}{
	{"aio", Options{}},
	{"goroutines", Options{syncFromGoroutines: true}},
}

func TestConformanceSyncFromGoroutines(t *testing.T) {
	storetest.RunTests(t, func(t *testing.T) store.Store {
		return newCheckedStore(t, Options{syncFromGoroutines: true})
	})
}

// wantSeen checks that each id is refused as seen.
func wantSeen(t *testing.T, s *Store, when string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if err := s.MarkSeen(t.Context(), id, expiry); !errors.Is(err, store.ErrAlreadySeen) {
			t.Errorf("%s: MarkSeen(%.30s) = %v, want ErrAlreadySeen", when, id, err)
		}
	}
}

func inBolt(t *testing.T, s *Store, id string) bool {
	t.Helper()
	var found bool
	if err := s.db.View(func(tx *bolt.Tx) error {
		found = bucketReplay.in(tx).Get([]byte(id)) != nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

func segmentFiles(t *testing.T, path string) []string {
	t.Helper()
	names, err := segmentNames(replayDir(path))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

// copyStore copies a store's file and replay log as a crash would leave
// them: what was synced is there, nothing was flushed at exit.
func copyStore(t *testing.T, from, to string) {
	t.Helper()
	cp := func(src, dst string) {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cp(from, to)
	if err := os.Mkdir(replayDir(to), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, name := range segmentFiles(t, from) {
		cp(filepath.Join(replayDir(from), name), filepath.Join(replayDir(to), name))
	}
}

// An acknowledged id is refused after a crash, although it was only in
// the log: Open replays the log into the file.
func TestMarkSeenSurvivesCrash(t *testing.T) {
	for _, mode := range syncModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := t.Context()
			dir := t.TempDir()
			path, crashed := filepath.Join(dir, "a.db"), filepath.Join(dir, "b.db")
			s := openAt(t, path, mode.opts)
			if err := s.MarkSeen(ctx, "assertion/1", expiry); err != nil {
				t.Fatalf("MarkSeen: %v", err)
			}
			if inBolt(t, s, "assertion/1") {
				t.Fatal("the id is in bbolt already: the test would not exercise the log")
			}
			copyStore(t, path, crashed)

			r := openAt(t, crashed, mode.opts)
			wantSeen(t, r, "the acknowledged id after the crash", "assertion/1")
			if !inBolt(t, r, "assertion/1") {
				t.Error("Open did not move the recovered id into bbolt")
			}
			if err := r.MarkSeen(ctx, "assertion/2", expiry); err != nil {
				t.Fatalf("MarkSeen of a new id after the crash: %v", err)
			}
			if got := segmentFiles(t, crashed); len(got) != 1 {
				t.Errorf("segments after recovery: %v, want only the new live one", got)
			}
		})
	}
}

// Close moves the log into the file and deletes it.
func TestMarkSeenAfterReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s := openAt(t, path, Options{})
	if err := s.MarkSeen(ctx, "assertion/1", expiry); err != nil {
		t.Fatalf("MarkSeen: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := segmentFiles(t, path); len(got) != 0 {
		t.Errorf("segments after Close: %v", got)
	}
	checkFile(t, path)
	r := openAt(t, path, Options{})
	if !inBolt(t, r, "assertion/1") {
		t.Error("Close did not move the id into bbolt")
	}
	wantSeen(t, r, "after reopen", "assertion/1")
}

// Each id raced by several callers, while flushes move ids from the log
// into bbolt: exactly one caller wins each id.
func TestConcurrentMarkSeenDuringFlushes(t *testing.T) {
	for _, mode := range syncModes {
		t.Run(mode.name, func(t *testing.T) {
			ctx := t.Context()
			s := openAt(t, filepath.Join(t.TempDir(), "sagebridge.db"), mode.opts)
			const ids, racers = 50, 4
			var wins [ids]int
			var mu sync.Mutex
			var wg sync.WaitGroup
			done := make(chan struct{})
			flusher := make(chan error, 1)
			go func() {
				for {
					select {
					case <-done:
						flusher <- nil
						return
					default:
					}
					if err := s.flushSeen(); err != nil {
						flusher <- err
						return
					}
				}
			}()
			for i := range ids {
				for range racers {
					wg.Go(func() {
						err := s.MarkSeen(ctx, fmt.Sprintf("assertion/%d", i), expiry)
						switch {
						case err == nil:
							mu.Lock()
							wins[i]++
							mu.Unlock()
						case !errors.Is(err, store.ErrAlreadySeen):
							t.Errorf("MarkSeen: %v", err)
						}
					})
				}
			}
			wg.Wait()
			close(done)
			if err := <-flusher; err != nil {
				t.Fatalf("flush: %v", err)
			}
			for i, n := range wins {
				if n != 1 {
					t.Errorf("assertion/%d won %d times, want once", i, n)
				}
			}
		})
	}
}

// Close while callers mark ids: every acknowledged id is refused after a
// reopen, every other call was refused with ErrClosed.
func TestCloseDrainsMarkSeen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s := openAt(t, path, Options{})
	var acked sync.Map
	var n atomic.Int32
	some := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				id := fmt.Sprintf("assertion/%d-%d", w, i)
				err := s.MarkSeen(ctx, id, expiry)
				if errors.Is(err, store.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("MarkSeen: %v", err)
					return
				}
				acked.Store(id, true)
				if n.Add(1) == 20 {
					close(some)
				}
			}
		})
	}
	<-some
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	r := openAt(t, path, Options{})
	acked.Range(func(id, _ any) bool {
		wantSeen(t, r, "acknowledged before Close, after reopen", id.(string))
		return true
	})
}

// A failed sync fails the callers it covers and every later one on that
// segment, even if a later sync succeeds (after a writeback error a later
// fdatasync proves nothing); the log goes on in a new segment, and the
// failed ids stay claimed.
func TestMarkSeenSyncFailure(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s := openAt(t, path, Options{syncFromGoroutines: true})
	injected := errors.New("injected EIO")
	entered, release := make(chan struct{}), make(chan error)
	s.replay.fsync = func(*os.File) error {
		entered <- struct{}{}
		return <-release
	}
	first := s.StartMarkSeen(ctx, "assertion/1", expiry)
	<-entered // the first sync runs: the next record waits for the one after
	second := s.StartMarkSeen(ctx, "assertion/2", expiry)
	failed := s.replay.live
	release <- injected
	for i, wait := range []func() error{first, second} {
		if err := wait(); !errors.Is(err, injected) {
			t.Errorf("record %d: %v, want the sync's error", i+1, err)
		}
	}
	wantSeen(t, s, "retry of a failed id", "assertion/1")

	s.replay.fsync = fdatasync
	if err := s.MarkSeen(ctx, "assertion/3", expiry); err != nil {
		t.Fatalf("MarkSeen after the failure: %v", err)
	}
	if s.replay.live == failed {
		t.Error("the log went on in the failed segment")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	r := openAt(t, path, Options{})
	wantSeen(t, r, "after reopen", "assertion/1", "assertion/2", "assertion/3")
}

// A segment half full starts a flush: the ids it has move to bbolt and it
// is deleted.
func TestFlushWhenSegmentHalfFull(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	s := openAt(t, path, Options{})
	first := s.replay.live
	long := strings.Repeat("x", 16<<10)
	var ids []string
	for i := range flushAt/len(long) + 1 {
		id := fmt.Sprintf("assertion/%d/%s", i, long)
		if err := s.MarkSeen(ctx, id, expiry); err != nil {
			t.Fatalf("MarkSeen: %v", err)
		}
		ids = append(ids, id)
	}
	s.replay.flushes.Wait()
	if s.replay.live == first {
		t.Fatalf("no flush after %d ids of %d bytes", len(ids), len(long))
	}
	// The last ids may have come after the flush took its ids: they are
	// in the new segment.
	for _, id := range ids[:len(ids)-2] {
		if !inBolt(t, s, id) {
			t.Fatalf("%.20s... not in bbolt after the flush", id)
		}
	}
	wantSeen(t, s, "after the flush", ids...)
	if got := segmentFiles(t, path); len(got) != 1 || got[0] != filepath.Base(s.replay.live.path) {
		t.Errorf("segments after the flush: %v, want only the live one", got)
	}
}

// A backup has the ids marked before it.
func TestBackupHasSeenIDs(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	s := openAt(t, filepath.Join(dir, "sagebridge.db"), Options{})
	if err := s.MarkSeen(ctx, "assertion/1", expiry); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := s.Backup(ctx, &buf); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	restored := filepath.Join(dir, "restored.db")
	if err := os.WriteFile(restored, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r := openAt(t, restored, Options{})
	wantSeen(t, r, "in the restored backup", "assertion/1")
}

func TestMarkSeenIDTooLong(t *testing.T) {
	s := openAt(t, filepath.Join(t.TempDir(), "sagebridge.db"), Options{})
	if err := s.MarkSeen(t.Context(), strings.Repeat("x", maxSeenID+1), expiry); err == nil || errors.Is(err, store.ErrAlreadySeen) {
		t.Fatalf("MarkSeen of an id over %d bytes: %v", maxSeenID, err)
	}
	if err := s.MarkSeen(t.Context(), strings.Repeat("x", maxSeenID), expiry); err != nil {
		t.Fatalf("MarkSeen of an id of %d bytes: %v", maxSeenID, err)
	}
}

// Cut anywhere, a segment yields exactly the records wholly before the
// cut, and says it was cut unless the cut falls between records.
func TestReadSegmentCutAnywhere(t *testing.T) {
	ids := []string{"a", "assertion/_0123456789abcdef", strings.Repeat("é", 300), "z"}
	data := []byte(segmentMagic)
	ends := []int{len(data)}
	for i, id := range ids {
		data = appendRecord(data, id, uint64(i+1))
		ends = append(ends, len(data))
	}
	for cut := 0; cut <= len(data); cut++ {
		// The rest of the file, as a crash leaves it: the sparse zeros,
		// or what a later write had put there.
		for _, tail := range [][]byte{make([]byte, 64), bytes.Repeat([]byte{0xff}, 64)} {
			seen := map[string]uint64{}
			file := append(bytes.Clone(data[:cut]), tail...)
			n, torn := readSegment(file, seen)
			whole := 0
			for whole+1 < len(ends) && ends[whole+1] <= cut {
				whole++
			}
			if cut < len(segmentMagic) {
				whole = 0
			}
			if n != whole || len(seen) != whole {
				t.Fatalf("cut at %d: read %d records (%d ids), want %d", cut, n, len(seen), whole)
			}
			for i := range whole {
				if seen[ids[i]] != uint64(i+1) {
					t.Fatalf("cut at %d: %q has expiry %d", cut, ids[i], seen[ids[i]])
				}
			}
			// Torn unless only zeros follow the last whole record: a cut
			// in the zero bytes of a length looks like the end, rightly,
			// as nothing is lost there.
			wantTorn := true
			if cut >= len(segmentMagic) {
				wantTorn = slices.ContainsFunc(file[ends[whole]:], func(b byte) bool { return b != 0 })
			}
			if torn != wantTorn {
				t.Fatalf("cut at %d, tail %x: torn = %v", cut, tail[0], torn)
			}
		}
	}
}

// A segment a crash cut short: the records before the damage count, the
// damaged one and anything after it never were acknowledged.
func TestRecoverTornSegment(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "sagebridge.db")
	if err := os.Mkdir(replayDir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	data := appendRecord([]byte(segmentMagic), "assertion/kept", uint64(expiry.UnixNano()))
	torn := appendRecord(nil, "assertion/torn", uint64(expiry.UnixNano()))
	data = append(data, torn[:len(torn)-2]...)
	if err := os.WriteFile(filepath.Join(replayDir(path), segmentName(7)), data, 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	s := openAt(t, path, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	wantSeen(t, s, "the whole record", "assertion/kept")
	if err := s.MarkSeen(ctx, "assertion/torn", expiry); err != nil {
		t.Errorf("the torn record: MarkSeen = %v", err)
	}
	if !strings.Contains(logs.String(), "unfinished record") {
		t.Errorf("no warning about the torn record in:\n%s", logs.String())
	}
	if got := segmentFiles(t, path); len(got) != 1 || segmentSeq(got[0]) != 8 {
		t.Errorf("segments after recovery: %v, want the new live one numbered after the old", got)
	}
}

func TestSegmentNames(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{segmentName(10), segmentName(9), "0000000000000009.log.tmp", "notes.log", segmentName(0)} {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	got, err := segmentNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{segmentName(9), segmentName(10)}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("segmentNames = %v, want %v", got, want)
	}
}

// BenchmarkMarkSeen is a durable MarkSeen of a new id: one caller at a
// time, and 16 callers per core (sharing syncs).
func BenchmarkMarkSeen(b *testing.B) {
	var n atomic.Int64
	mark := func(b *testing.B, s *Store) {
		if err := s.MarkSeen(b.Context(), fmt.Sprintf("assertion/_%032x", n.Add(1)), expiry); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("serial", func(b *testing.B) {
		s := newCheckedStore(b, Options{})
		for b.Loop() {
			mark(b, s)
		}
	})
	b.Run("parallel", func(b *testing.B) {
		s := newCheckedStore(b, Options{})
		b.SetParallelism(16)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mark(b, s)
			}
		})
	})
}
