//go:build linux && (amd64 || arm64)

package boltstore

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"unsafe"
)

// aioSyncer syncs with Linux AIO's IOCB_CMD_FDSYNC (Linux 4.18 and later),
// which runs the fdatasync in a kernel worker: io_submit returns at once
// and an eventfd, watched by the Go poller, reports completions. No
// goroutine blocks in fdatasync, which matters on one core: a goroutine
// in a blocking syscall keeps the only P until sysmon hands it over (20 µs
// to 10 ms later, or never for a short sync), so the caller's work would
// wait for the disk instead of overlapping it.
type aioSyncer struct {
	ctx   uintptr  // aio_context_t
	efd   *os.File // the eventfd, in the Go poller
	efdNo uintptr  // its descriptor, for the iocbs (efd.Fd would make it blocking)

	mu       sync.Mutex
	nextID   uint64
	inflight map[uint64]func(error)
	reaping  bool // a goroutine waits on efd
}

const (
	iocbCmdFdsync = 3      // IOCB_CMD_FDSYNC
	iocbFlagResfd = 1 << 0 // IOCB_FLAG_RESFD
	aioMaxEvents  = 64     // one sync runs per segment, and segments are few
)

// iocb is struct iocb of linux/aio_abi.h on a little-endian machine
// (aio_key before aio_rw_flags).
type iocb struct {
	data      uint64
	key       uint32
	rwFlags   uint32
	opcode    uint16
	reqprio   int16
	fildes    uint32
	buf       uint64
	nbytes    uint64
	offset    int64
	reserved2 uint64
	flags     uint32
	resfd     uint32
}

// ioEvent is struct io_event.
type ioEvent struct {
	data uint64
	obj  uint64
	res  int64
	res2 int64
}

func newAIOSyncer() (*aioSyncer, error) {
	fd, _, errno := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return nil, fmt.Errorf("eventfd: %w", errno)
	}
	a := &aioSyncer{efd: os.NewFile(fd, "replay-log-eventfd"), efdNo: fd, inflight: map[uint64]func(error){}}
	if _, _, errno := syscall.Syscall(syscall.SYS_IO_SETUP, aioMaxEvents, uintptr(unsafe.Pointer(&a.ctx)), 0); errno != 0 {
		_ = a.efd.Close()
		return nil, fmt.Errorf("io_setup: %w", errno)
	}
	return a, nil
}

func (a *aioSyncer) start(f *os.File, done func(error)) error {
	a.mu.Lock()
	id := a.nextID
	a.nextID++
	a.inflight[id] = done
	a.mu.Unlock()
	cb := iocb{data: id, opcode: iocbCmdFdsync, fildes: uint32(f.Fd()), flags: iocbFlagResfd, resfd: uint32(a.efdNo)}
	cbs := [1]*iocb{&cb}
	if _, _, errno := syscall.Syscall(syscall.SYS_IO_SUBMIT, a.ctx, 1, uintptr(unsafe.Pointer(&cbs[0]))); errno != 0 {
		a.mu.Lock()
		delete(a.inflight, id)
		a.mu.Unlock()
		return fmt.Errorf("io_submit: %w", errno)
	}
	return nil
}

func (a *aioSyncer) poll() {
	var evs [8]ioEvent
	for {
		var zero syscall.Timespec
		n, _, errno := syscall.Syscall6(syscall.SYS_IO_GETEVENTS, a.ctx, 0, uintptr(len(evs)),
			uintptr(unsafe.Pointer(&evs[0])), uintptr(unsafe.Pointer(&zero)), 0)
		switch {
		case errno == syscall.EINTR:
			continue
		case errno != 0:
			// The outcomes cannot be read: report every sync as failed
			// rather than leave its callers waiting.
			a.deliverAll(fmt.Errorf("io_getevents: %w", errno))
			return
		}
		a.deliver(evs[:n])
		if int(n) < len(evs) {
			return
		}
	}
}

func (a *aioSyncer) deliver(evs []ioEvent) {
	dones := make([]func(error), len(evs))
	a.mu.Lock()
	for i, ev := range evs {
		dones[i] = a.inflight[ev.data]
		delete(a.inflight, ev.data)
	}
	a.mu.Unlock()
	for i, done := range dones {
		if done == nil {
			continue // already failed by deliverAll
		}
		var err error
		if res := evs[i].res; res < 0 {
			err = syscall.Errno(-res)
		}
		done(err)
	}
}

func (a *aioSyncer) deliverAll(err error) {
	a.mu.Lock()
	dones := a.inflight
	a.inflight = map[uint64]func(error){}
	a.mu.Unlock()
	for _, done := range dones {
		done(err)
	}
}

// watch starts a goroutine that delivers outcomes as the eventfd reports
// them, until no sync runs. It is started only when a caller has to
// wait: most syncs finish while their caller signs, and poll finds them.
func (a *aioSyncer) watch() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.reaping || len(a.inflight) == 0 {
		return
	}
	a.reaping = true
	go a.reap()
}

func (a *aioSyncer) reap() {
	var buf [8]byte
	for {
		a.mu.Lock()
		if len(a.inflight) == 0 {
			a.reaping = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
		// Every completion adds to the counter, also those poll already
		// delivered, so this read cannot miss the one a sync running
		// now will post.
		if _, err := a.efd.Read(buf[:]); err != nil {
			a.deliverAll(fmt.Errorf("read eventfd: %w", err))
			a.mu.Lock()
			a.reaping = false
			a.mu.Unlock()
			return
		}
		a.poll()
	}
}

// openAIO returns an AIO syncer once it has synced f: the check that AIO
// works here (Linux 4.18 or later, a file system with fsync, no seccomp
// filter against it).
func openAIO(f *os.File) (asyncSyncer, error) {
	a, err := newAIOSyncer()
	if err != nil {
		return nil, err
	}
	if err := a.syncNow(f); err != nil {
		return nil, errors.Join(err, a.close())
	}
	return a, nil
}

// fdatasync syncs f's data, and of its metadata only what reading the
// data back needs.
func fdatasync(f *os.File) error { return syscall.Fdatasync(int(f.Fd())) }

func (a *aioSyncer) syncNow(f *os.File) error {
	done := make(chan error, 1)
	if err := a.start(f, func(err error) { done <- err }); err != nil {
		return err
	}
	a.watch()
	return <-done
}

func (a *aioSyncer) close() error {
	var err error
	if _, _, errno := syscall.Syscall(syscall.SYS_IO_DESTROY, a.ctx, 0, 0); errno != 0 {
		err = fmt.Errorf("io_destroy: %w", errno)
	}
	return errors.Join(err, a.efd.Close())
}
