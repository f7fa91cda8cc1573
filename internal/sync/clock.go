package sync

import "time"

// Timer is the part of *time.Timer the controller uses, so tests can
// substitute a fake clock (or run under testing/synctest with the real one).
type Timer interface {
	C() <-chan time.Time
	Stop() bool
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }

func newRealTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }
