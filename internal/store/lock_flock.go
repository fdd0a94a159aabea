//go:build linux || darwin

package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// lockPollInterval is how often Lock retries a lock another process holds.
const lockPollInterval = 50 * time.Millisecond

// Lock takes the exclusive lock called name, a file under locks/ in the
// state directory, and returns the function that releases it. It waits
// while another process or goroutine holds the lock, until ctx is done.
// The kernel releases the lock when its holder dies, so a killed worker
// never leaves it taken.
func (d *Dir) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if err := validateKind(name); err != nil {
		return nil, fmt.Errorf("invalid lock name: %w", err)
	}
	f, err := d.openLockFile(name)
	if err != nil {
		return nil, err
	}
	for {
		err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { unlockFile(f) }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("taking lock %s: %w", f.Name(), err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for lock %s: %w", f.Name(), ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
}

// lockBlocking takes the lock called name, shared or exclusive, waiting as
// long as it takes. It is for locks held only for file renames and
// removals, which end in milliseconds.
func (d *Dir) lockBlocking(name string, exclusive bool) (unlock func(), err error) {
	f, err := d.openLockFile(name)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := flock(f, how); err != nil {
		f.Close()
		return nil, fmt.Errorf("taking lock %s: %w", f.Name(), err)
	}
	return func() { unlockFile(f) }, nil
}

func (d *Dir) openLockFile(name string) (*os.File, error) {
	path := filepath.Join(d.root, "locks", name+".lock")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file: %w", err)
	}
	return f, nil
}

// flock calls flock(2) again when a signal interrupts it; the Go runtime
// sends signals to preempt goroutines.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func unlockFile(f *os.File) {
	// Closing the file releases the lock too; the explicit unlock only
	// makes the release independent of when the descriptor closes.
	flock(f, syscall.LOCK_UN)
	f.Close()
}
