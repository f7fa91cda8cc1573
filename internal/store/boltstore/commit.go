package boltstore

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"

	"github.com/sagebridge/sagebridge/internal/requestid"
	"github.com/sagebridge/sagebridge/internal/store"
)

// The commit path is a timer-less group commit. One committer goroutine
// takes the first waiting write, drains whatever else is queued, and runs all
// of them in one durable db.Update; then it answers every waiter. A lone
// writer therefore pays one commit (no batching delay, unlike db.Batch with
// its 10 ms timer), and N concurrent writers share one pair of fsyncs.
//
// A write is a func over a transaction. It may run several times (a batch is
// rolled back when one of its funcs fails) so it must read everything it
// decides on from the transaction and have no effect outside it.

// maxBatch caps the writes sharing one transaction, so that one commit stays
// short enough for the first waiter in it.
const maxBatch = 1000

// wtx is a write transaction as a write func sees it. enqueued belongs to
// one attempt: a func that is re-run sees a fresh wtx.
type wtx struct {
	*bolt.Tx
	enqueued bool
	// requestID is the id of the request the running func writes for;
	// the queue entries it makes carry it.
	requestID string
}

type writeFunc func(w *wtx) error

// States of a writeReq. The committer and a cancelled waiter race for it
// with a compare-and-swap, so a write either runs or reports ctx.Err(),
// never both.
const (
	reqQueued int32 = iota
	reqTaken
	reqCancelled
)

type writeReq struct {
	fn    writeFunc
	state atomic.Int32
	done  chan error // buffered: the committer never blocks on a waiter
}

// errRollback makes db.Update discard a batch in which one func failed.
var errRollback = errors.New("batch rolled back")

// submit runs fn in a durable transaction and returns its outcome. A nil
// result means the write is on disk.
func (s *Store) submit(ctx context.Context, fn writeFunc) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	rid := requestid.From(ctx)
	r := &writeReq{fn: func(w *wtx) error {
		w.requestID = rid
		return fn(w)
	}, done: make(chan error, 1)}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return store.ErrClosed
	}
	select {
	case s.writes <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	select {
	case err := <-r.done:
		return err
	case <-ctx.Done():
		if r.state.CompareAndSwap(reqQueued, reqCancelled) {
			return ctx.Err()
		}
		// The committer already has it: report what really happened.
		return <-r.done
	}
}

func (s *Store) commitLoop() {
	defer close(s.stopped)
	var batch []*writeReq
	for {
		if len(batch) == 0 {
			r, ok := <-s.writes
			if !ok {
				return
			}
			batch = take(batch, r)
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r, ok := <-s.writes:
				if !ok {
					break drain
				}
				batch = take(batch, r)
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			batch = s.commit(batch)
		}
	}
}

// take adds r to the batch unless its waiter gave up first.
func take(batch []*writeReq, r *writeReq) []*writeReq {
	if r.state.CompareAndSwap(reqQueued, reqTaken) {
		batch = append(batch, r)
	}
	return batch
}

// commit runs batch in one transaction and answers its waiters. When a func
// fails, the transaction is rolled back, the failing func runs alone and
// gets its own answer, and the others are returned to run again in the next
// batch: one bad write must not fail the writes that merely shared its
// transaction.
func (s *Store) commit(batch []*writeReq) []*writeReq {
	failed := -1
	enqueued := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := &wtx{Tx: tx}
		for i, r := range batch {
			if err := run(r.fn, w); err != nil {
				failed = i
				return errRollback
			}
		}
		enqueued = w.enqueued
		return nil
	})
	if failed >= 0 {
		s.commitAlone(batch[failed])
		return append(batch[:failed], batch[failed+1:]...)
	}
	if err != nil {
		s.log.Error("store commit failed", "path", s.path, "writes", len(batch), "err", err)
		err = fmt.Errorf("commit: %w", err)
	} else if enqueued {
		s.signalQueue()
	}
	for _, r := range batch {
		r.done <- err
	}
	clear(batch)
	return batch[:0]
}

func (s *Store) commitAlone(r *writeReq) {
	enqueued := false
	err := s.db.Update(func(tx *bolt.Tx) error {
		w := &wtx{Tx: tx}
		if err := run(r.fn, w); err != nil {
			return err
		}
		enqueued = w.enqueued
		return nil
	})
	if err == nil && enqueued {
		s.signalQueue()
	}
	r.done <- err
}

// run calls fn, turning a panic into an error so that one faulty write
// cannot kill the committer and with it every later write.
func run(fn writeFunc, w *wtx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("write panicked: %v", p)
		}
	}()
	return fn(w)
}

// signalQueue runs after a commit, before the writers are answered, so that
// a writer that returns can count on the signal being there already.
func (s *Store) signalQueue() {
	select {
	case s.queueChanged <- struct{}{}:
	default:
	}
}

// QueueChanged is signalled after every commit that enqueued or
// rescheduled a key.
func (s *Store) QueueChanged() <-chan struct{} { return s.queueChanged }
