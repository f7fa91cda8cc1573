package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/store"
)

// The replay log makes MarkSeen durable with one append and one fdatasync,
// shared by the ids that arrive while a sync runs, instead of a bbolt
// commit (a dozen page writes and two fdatasyncs). Sign-in records one id
// per request, so this is on its critical path.
//
// An id is first checked and claimed in memory: pending (and flushing,
// during a flush) holds the ids the log has and bbolt has not yet, so that
// pending, flushing and the replay bucket together are every id seen, and
// two concurrent calls for one id cannot both win. Then its record is
// appended to the live segment and MarkSeen returns once a sync that
// started after the append has finished.
//
// A flush (PruneSeen, Backup, Close, or a live segment half full) opens a
// new live segment, commits the ids of the older segments to the replay
// buckets in one transaction and deletes those segments. Open replays the
// segments a crash left behind the same way, before anything is served.
//
// A segment is the magic line and then records: the id's length (4 bytes),
// the expiry (8 bytes, unix nanos), the id, and a CRC-32C of the three.
// Records are appended under the log's lock, so a record that was
// acknowledged was synced with every record before it: reading stops at
// the first record that does not check, which can only be one whose sync
// never finished.

const (
	segmentMagic = "sagebridge replay log 1\n"
	segmentExt   = ".log"
	recordHeader = 4 + 8
	recordCRC    = 4
	// maxSeenID keeps an id and its expiry-prefixed copy under bbolt's
	// key limit.
	maxSeenID = bolt.MaxKeySize - 8
	// segmentSize is the length a segment is created with (sparse), so
	// that an append changes no file size and its fdatasync needs no
	// journal commit: on ext4 that is a third less CPU and latency.
	segmentSize = 1 << 20
	// flushAt is how full the live segment gets before a flush starts
	// without waiting for the next PruneSeen, so that a burst neither
	// grows memory unbounded nor outgrows the segment's length.
	flushAt = segmentSize / 2
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// asyncSyncer syncs without a goroutine blocking in fdatasync: Linux AIO
// (replayaio_linux.go).
type asyncSyncer interface {
	// start begins an fdatasync of f and calls done with its outcome
	// once, later, from poll or from a goroutine watch started.
	start(f *os.File, done func(error)) error
	// poll delivers the outcomes of the syncs that have finished,
	// without waiting.
	poll()
	// watch makes sure that outcomes are delivered while a caller blocks
	// waiting for one.
	watch()
	// close releases the syncer once no sync is running.
	close() error
}

// segment is one file of the log.
type segment struct {
	f    *os.File
	path string
	size int64 // where the next record goes
	// inflight is the sync running on f; next gathers the records
	// appended since it started, for the sync after it.
	inflight, next *cohort
	// err is the first write or sync failure. Nothing is acknowledged
	// from the segment after it: once writeback failed, a later
	// fdatasync can succeed without the lost pages (Linux reports the
	// error to one caller only).
	err error
	// drop marks a segment whose ids are in bbolt: it is closed and
	// deleted once no sync runs on it.
	drop bool
}

// cohort is the records one sync covers.
type cohort struct {
	seg  *segment
	done chan struct{}
	err  error // set before done is closed
}

type replayLog struct {
	dir string
	aio asyncSyncer // nil where unavailable
	// fsync is what a sync goroutine calls: fdatasync, or a failure in
	// tests.
	fsync func(*os.File) error
	log   *slog.Logger
	// working counts the callers between record and wait: busy with
	// something else meanwhile, competing for the CPU.
	working atomic.Int32

	flushMu sync.Mutex     // one flush at a time
	flushes sync.WaitGroup // background flushes

	mu       sync.Mutex
	pending  map[string]uint64 // id -> expiry: in the log, not yet in bbolt
	flushing map[string]uint64 // being committed to bbolt
	live     *segment
	segs     []*segment // every segment still open, live last
	seq      uint64     // the highest segment number used
	// flushStarted is set while a flush started by a half-full segment
	// has not begun.
	flushStarted bool
	closed       bool
}

// openReplayLog replays the segments a previous run left in dir into db,
// deletes them and starts a fresh segment.
func openReplayLog(db *bolt.DB, dir string, useAIO bool, log *slog.Logger) (*replayLog, error) {
	if err := makeDir(dir); err != nil {
		return nil, err
	}
	names, err := segmentNames(dir)
	if err != nil {
		return nil, err
	}
	l := &replayLog{dir: dir, log: log, fsync: fdatasync, pending: map[string]uint64{}}
	if len(names) > 0 {
		if err := l.recover(db, names); err != nil {
			return nil, err
		}
		l.seq = segmentSeq(names[len(names)-1])
	}
	l.seq++
	seg, err := l.createSegment(l.seq)
	if err != nil {
		return nil, err
	}
	l.live, l.segs = seg, []*segment{seg}
	if useAIO {
		if l.aio, err = openAIO(seg.f); err != nil {
			log.Info("replay log: asynchronous fdatasync unavailable, syncing from goroutines only", "err", err)
		}
	}
	return l, nil
}

// makeDir creates dir, and syncs its parent when it had to: the segments
// in it must survive a crash with the directory entry that leads to them.
func makeDir(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		return fmt.Errorf("replay log: %w", err)
	}
	return syncDir(filepath.Dir(dir))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("replay log: %w", err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("replay log: sync directory %s: %w", dir, err)
	}
	return nil
}

// segmentNames lists the segment files of dir in the order they were
// written.
func segmentNames(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("replay log: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), segmentExt) && segmentSeq(e.Name()) > 0 {
			names = append(names, e.Name())
		}
	}
	slices.SortFunc(names, func(a, b string) int { return cmpSeq(segmentSeq(a), segmentSeq(b)) })
	return names, nil
}

func cmpSeq(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func segmentName(seq uint64) string { return fmt.Sprintf("%016x%s", seq, segmentExt) }

// segmentSeq is the number in a segment's name, 0 for any other name.
func segmentSeq(name string) uint64 {
	var seq uint64
	if n, err := fmt.Sscanf(name, "%016x"+segmentExt, &seq); err != nil || n != 1 || segmentName(seq) != name {
		return 0
	}
	return seq
}

// createSegment creates a segment file with its magic line and syncs the
// directory, so that its records are found after a crash once synced.
func (l *replayLog) createSegment(seq uint64) (*segment, error) {
	path := filepath.Join(l.dir, segmentName(seq))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("replay log: %w", err)
	}
	if err := f.Truncate(segmentSize); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("replay log: size %s: %w", path, err)
	}
	if _, err := f.WriteString(segmentMagic); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("replay log: write %s: %w", path, err)
	}
	if err := syncDir(l.dir); err != nil {
		_ = f.Close()
		return nil, err
	}
	return &segment{f: f, path: path, size: int64(len(segmentMagic))}, nil
}

// recover commits the ids of the named segments to db and deletes the
// segments.
func (l *replayLog) recover(db *bolt.DB, names []string) error {
	seen := map[string]uint64{}
	for _, name := range names {
		path := filepath.Join(l.dir, name)
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("replay log: %w", err)
		}
		n, torn := readSegment(data, seen)
		if torn {
			// A write the crash cut short, never acknowledged.
			l.log.Warn("replay log: ignored the end of a segment after an unfinished record", "file", path)
		}
		l.log.Info("replay log: recovered ids", "file", path, "ids", n)
	}
	if err := db.Update(func(tx *bolt.Tx) error { return putSeen(tx, seen) }); err != nil {
		return fmt.Errorf("replay log: commit recovered ids: %w", err)
	}
	for _, name := range names {
		if err := os.Remove(filepath.Join(l.dir, name)); err != nil {
			return fmt.Errorf("replay log: %w", err)
		}
	}
	return nil
}

// readSegment adds the records of a segment to seen, up to the first one
// that does not check, and returns how many it read and whether it
// stopped at a damaged record rather than at the zeros after the last.
func readSegment(data []byte, seen map[string]uint64) (n int, torn bool) {
	if !bytes.HasPrefix(data, []byte(segmentMagic)) {
		// Cut short before the magic line was synced: nothing in it was.
		return 0, len(data) > 0
	}
	rest := data[len(segmentMagic):]
	for ; len(rest) >= recordHeader+recordCRC; n++ {
		size := binary.BigEndian.Uint32(rest)
		if size == 0 || size > maxSeenID || len(rest) < recordHeader+int(size)+recordCRC {
			break
		}
		body := rest[:recordHeader+int(size)]
		if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(rest[len(body):]) {
			break
		}
		seen[string(body[recordHeader:])] = binary.BigEndian.Uint64(body[4:])
		rest = rest[len(body)+recordCRC:]
	}
	return n, slices.ContainsFunc(rest, func(b byte) bool { return b != 0 })
}

func appendRecord(b []byte, id string, expires uint64) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(len(id)))
	b = binary.BigEndian.AppendUint64(b, expires)
	b = append(b, id...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// putSeen adds ids to the replay buckets. An id already there keeps its
// entry: recovery can meet ids that a flush committed before the crash.
func putSeen(tx *bolt.Tx, seen map[string]uint64) error {
	ids, byExp := bucketReplay.in(tx), bucketReplayExpiry.in(tx)
	for id, exp := range seen {
		if ids.Get([]byte(id)) != nil {
			continue
		}
		e := u64(exp)
		if err := ids.Put([]byte(id), e); err != nil {
			return err
		}
		if err := byExp.Put(append(slices.Clone(e), id...), nil); err != nil {
			return err
		}
	}
	return nil
}

// record claims id, appends its record and returns the cohort whose sync
// makes it durable. It fails with store.ErrAlreadySeen when id was seen.
func (l *replayLog) record(db *bolt.DB, id string, expires uint64) (*cohort, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil, store.ErrClosed
	}
	if _, ok := l.pending[id]; ok {
		return nil, store.ErrAlreadySeen
	}
	if _, ok := l.flushing[id]; ok {
		return nil, store.ErrAlreadySeen
	}
	var inBolt bool
	if err := db.View(func(tx *bolt.Tx) error {
		inBolt = bucketReplay.in(tx).Get([]byte(id)) != nil
		return nil
	}); err != nil {
		return nil, err
	}
	if inBolt {
		return nil, store.ErrAlreadySeen
	}
	if l.live.err != nil {
		if err := l.replaceLiveLocked(); err != nil {
			return nil, err
		}
	}
	seg := l.live
	var buf [128]byte
	rec := appendRecord(buf[:0], id, expires)
	if _, err := seg.f.WriteAt(rec, seg.size); err != nil {
		seg.err = fmt.Errorf("replay log: write %s: %w", seg.path, err)
		return nil, seg.err
	}
	seg.size += int64(len(rec))
	// Claimed even if its sync fails: a retry is refused, never
	// acknowledged on a record that may be lost.
	l.pending[id] = expires
	l.working.Add(1)
	c := seg.next
	switch {
	case seg.inflight == nil:
		c = &cohort{seg: seg, done: make(chan struct{})}
		l.startLocked(c)
	case c == nil:
		c = &cohort{seg: seg, done: make(chan struct{})}
		seg.next = c
	}
	if seg.size >= flushAt && !l.flushStarted {
		l.flushStarted = true
		l.flushes.Go(func() {
			if err := l.flush(db); err != nil {
				l.log.Error("replay log: flush", "err", err)
			}
		})
	}
	return c, nil
}

// startLocked starts the sync of c.
//
// A goroutine's fdatasync runs on a spare P when there is one, and the
// kernel's share of the sync on that P's CPU: nothing of it delays the
// callers. Without a spare P the goroutine would hold a busy P for the
// whole sync, so AIO does it instead, its kernel work interleaved with
// the callers'. A P counts as spare when there are several and at most
// one caller is working: callers busy before they record are not
// counted, so more would be a guess.
func (l *replayLog) startLocked(c *cohort) {
	seg := c.seg
	seg.inflight = c
	done := func(err error) { l.finish(c, err) }
	if l.aio == nil || l.working.Load() <= 1 && runtime.GOMAXPROCS(0) > 1 {
		go func() { done(l.fsync(seg.f)) }()
		return
	}
	if err := l.aio.start(seg.f, done); err != nil {
		seg.inflight = nil
		seg.err = fmt.Errorf("replay log: sync %s: %w", seg.path, err)
		c.err = seg.err
		close(c.done)
	}
}

// finish answers the records of c and starts the sync of the records
// appended meanwhile.
func (l *replayLog) finish(c *cohort, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	seg := c.seg
	if err != nil && seg.err == nil {
		seg.err = fmt.Errorf("replay log: sync %s: %w", seg.path, err)
	}
	c.err = seg.err
	close(c.done)
	seg.inflight = nil
	if n := seg.next; n != nil {
		seg.next = nil
		if seg.err != nil {
			n.err = seg.err
			close(n.done)
		} else {
			l.startLocked(n)
		}
	}
	l.dropIdleLocked(seg)
}

// replaceLiveLocked continues the log in a new segment after the live one
// failed. The failed one stays until a flush has its ids in bbolt.
func (l *replayLog) replaceLiveLocked() error {
	l.seq++
	seg, err := l.createSegment(l.seq)
	if err != nil {
		return err
	}
	l.live = seg
	l.segs = append(l.segs, seg)
	return nil
}

// dropIdleLocked closes and deletes a segment marked for dropping once no
// sync runs on it.
func (l *replayLog) dropIdleLocked(seg *segment) {
	if !seg.drop || seg.inflight != nil || seg.next != nil {
		return
	}
	l.segs = slices.DeleteFunc(l.segs, func(s *segment) bool { return s == seg })
	if err := seg.f.Close(); err != nil {
		l.log.Warn("replay log: close segment", "file", seg.path, "err", err)
	}
	// A segment left behind is replayed at the next Open, harmlessly.
	if err := os.Remove(seg.path); err != nil {
		l.log.Warn("replay log: delete flushed segment", "file", seg.path, "err", err)
	}
}

// wait returns the outcome of the sync of c.
func (l *replayLog) wait(ctx context.Context, c *cohort) error {
	l.working.Add(-1)
	if l.aio != nil {
		l.aio.poll()
	}
	select {
	case <-c.done:
		return c.err
	default:
	}
	if l.aio != nil {
		l.aio.watch()
	}
	select {
	case <-c.done:
		return c.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush moves the ids of every segment but a new live one into bbolt and
// deletes those segments.
func (l *replayLog) flush(db *bolt.DB) error {
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	l.mu.Lock()
	l.flushStarted = false
	if len(l.pending) == 0 && len(l.flushing) == 0 {
		l.mu.Unlock()
		return nil
	}
	l.seq++
	seq := l.seq
	l.mu.Unlock()
	// Outside the lock: file creation and a directory sync take a while,
	// and records go on into the old live segment meanwhile.
	seg, err := l.createSegment(seq)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := slices.Clone(l.segs)
	l.live = seg
	l.segs = append(l.segs, seg)
	if l.flushing == nil {
		l.flushing = l.pending
	} else {
		// What a failed flush left, with what came since.
		maps.Copy(l.flushing, l.pending)
	}
	l.pending = map[string]uint64{}
	// Only flushes, which flushMu orders, write flushing: it can be read
	// without mu.
	batch := l.flushing
	l.mu.Unlock()
	if err := db.Update(func(tx *bolt.Tx) error { return putSeen(tx, batch) }); err != nil {
		return fmt.Errorf("replay log: flush %d ids: %w", len(batch), err)
	}
	l.mu.Lock()
	l.flushing = nil
	for _, s := range old {
		s.drop = true
		l.dropIdleLocked(s)
	}
	l.mu.Unlock()
	return nil
}

// close lets the syncs running finish, moves every id into bbolt and
// deletes the segments; when that commit fails they stay for the next
// Open.
func (l *replayLog) close(db *bolt.DB) error {
	l.mu.Lock()
	l.closed = true
	l.mu.Unlock()
	l.flushes.Wait()
	for {
		l.mu.Lock()
		var c *cohort
		for _, s := range l.segs {
			if s.inflight != nil {
				c = s.inflight
				break
			}
		}
		l.mu.Unlock()
		if c == nil {
			break
		}
		if l.aio != nil {
			l.aio.watch()
		}
		<-c.done
	}
	l.flushMu.Lock()
	defer l.flushMu.Unlock()
	// Nothing else runs now: no lock needed.
	batch := l.pending
	maps.Copy(batch, l.flushing)
	var err error
	if len(batch) > 0 {
		if err = db.Update(func(tx *bolt.Tx) error { return putSeen(tx, batch) }); err != nil {
			err = fmt.Errorf("replay log: flush %d ids: %w", len(batch), err)
		}
	}
	for _, s := range l.segs {
		if cerr := s.f.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("replay log: close %s: %w", s.path, cerr))
		}
		if err == nil {
			if rerr := os.Remove(s.path); rerr != nil {
				l.log.Warn("replay log: delete flushed segment", "file", s.path, "err", rerr)
			}
		}
	}
	if l.aio != nil {
		err = errors.Join(err, l.aio.close())
	}
	return err
}
