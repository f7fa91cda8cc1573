// Package boltstore is the store.Store backend kept in one bbolt file.
//
// Layout: one bucket per record kind and per index (see schema.go); values
// are JSON; memberships are keys of their own in both directions so that
// changing one member of a large group touches O(1) keys.
//
// Writes go through a group commit (commit.go): one goroutine commits every
// write that is waiting in a single durable transaction, without a timer, so
// a lone writer pays one commit and many writers share one. One-time ids
// (MarkSeen, once per sign-in) are made durable by an append-only log
// beside the file instead (replaylog.go), and reach the file in batches.
//
// Case-insensitive indexes (userName, displayName, email) fold with
// strings.ToLower, which is Unicode lower-casing rather than full case
// folding: "STRASSE" and "straße" are different names.
//
// Updates are optimistic: the update fn runs outside the write transaction
// and the write commits only if the stored record is still, byte for byte,
// the one fn was given (a stricter test than an equal Version).
//
// Choices the store.Store contract leaves open: Data is kept compacted
// (json.Compact), an empty Data becomes {}; a limit <= 0 given to a scan or
// to DueItems means DefaultLimit and a limit above MaxLimit is cut to it;
// GroupsOf of an unknown user and Members of an unknown group return
// store.ErrNotFound, IsMember of unknown ids returns false; Close after
// Close returns store.ErrClosed.
package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/sagebridge/sagebridge/internal/store"
)

var _ store.Store = (*Store)(nil)

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("database is locked by another process")

// DefaultLimit is the page size used when a caller passes a limit <= 0.
const DefaultLimit = 100

// Options tune Open. The zero value is ready to use.
type Options struct {
	// Now stamps Created, Modified and queue due times. Default time.Now.
	Now func() time.Time
	// Logger receives migrations and commit failures. Default: discarded.
	Logger *slog.Logger
	// OpenTimeout bounds the wait for the file lock. Default 1s.
	OpenTimeout time.Duration

	// syncFromGoroutines keeps the replay log from Linux AIO, so that
	// tests cover both ways it syncs.
	syncFromGoroutines bool
}

// Store is a store.Store in a bbolt file.
type Store struct {
	db   *bolt.DB
	path string
	now  func() time.Time
	log  *slog.Logger

	replay *replayLog

	writes       chan *writeReq
	stopped      chan struct{}
	queueChanged chan struct{}

	// mu orders Close after the reads and submissions in flight: they hold
	// it shared, Close takes it exclusively once to flip closed.
	mu     sync.RWMutex
	closed bool
}

// Open opens or creates the store at path, migrating its schema to
// SchemaVersion.
func Open(path string, opts Options) (*Store, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = time.Second
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.OpenTimeout})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, fmt.Errorf("open %s: %w (is the daemon running?) after %s: %w", path, ErrLocked, opts.OpenTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	var from uint64
	err = db.Update(func(tx *bolt.Tx) error {
		from, err = migrate(tx)
		return err
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if from != SchemaVersion {
		opts.Logger.Info("store schema migrated", "path", path, "from", from, "to", SchemaVersion)
	}
	replay, err := openReplayLog(db, replayDir(path), !opts.syncFromGoroutines, opts.Logger)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s := &Store{
		db:           db,
		replay:       replay,
		path:         path,
		now:          opts.Now,
		log:          opts.Logger,
		writes:       make(chan *writeReq, maxBatch),
		stopped:      make(chan struct{}),
		queueChanged: make(chan struct{}, 1),
	}
	go s.commitLoop()
	return s, nil
}

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// replayDir is where the replay log of the store at path lives, beside
// the file and under the same lock.
func replayDir(path string) string { return path + ".replay" }

// Close commits the writes already submitted, moves the replay log into
// the file, then closes it. Every call after the first, Close included,
// returns store.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return store.ErrClosed
	}
	s.closed = true
	s.mu.Unlock()
	// No submitter holds mu any more and none can start, so nothing sends
	// on writes after this close.
	close(s.writes)
	<-s.stopped
	err := s.replay.close(s.db)
	if cerr := s.db.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if err != nil {
		return fmt.Errorf("close %s: %w", s.path, err)
	}
	return nil
}

// view runs fn in a read transaction. Keep fn short: a long read pins the
// pages it sees and makes the file grow under writes.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return store.ErrClosed
	}
	return s.db.View(fn)
}

// stamp returns the store clock in UTC without a monotonic reading, so a
// returned record compares equal to the same record read back.
func (s *Store) stamp() time.Time { return s.now().UTC().Round(0) }

// Stats reads the counters every write maintains.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	var st store.Stats
	err := s.view(ctx, func(tx *bolt.Tx) error {
		meta := bucketMeta.in(tx)
		for _, c := range []struct {
			key []byte
			dst *int
		}{
			{metaUsers, &st.Users},
			{metaGroups, &st.Groups},
			{metaQueueDepth, &st.QueueDepth},
		} {
			n, err := counter(meta, c.key)
			if err != nil {
				return err
			}
			*c.dst = int(n)
		}
		return nil
	})
	if err != nil {
		return store.Stats{}, fmt.Errorf("stats: %w", err)
	}
	return st, nil
}

// Backup copies the file as one read transaction sees it, so writes may go
// on meanwhile. Cancelling ctx stops the copy at the next write to w. The
// replay log is flushed first, so that the copy has every one-time id
// recorded before the call.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.flushSeen(); err != nil {
		return 0, fmt.Errorf("backup %s: %w", s.path, err)
	}
	var n int64
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx: ctx, w: w})
		return err
	})
	if err != nil {
		return n, fmt.Errorf("backup %s: %w", s.path, err)
	}
	return n, nil
}

type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
