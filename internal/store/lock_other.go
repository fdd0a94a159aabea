//go:build !linux && !darwin

package store

import (
	"context"
	"fmt"
	"sync"
)

// NOTE: on systems other than Linux and macOS the locks are held only
// within one process, so two workers sharing a state directory there are
// not serialized.
var processLocks sync.Map // lock name -> *sync.RWMutex

// Lock takes the exclusive lock called name within this process and
// returns the function that releases it.
func (d *Dir) Lock(ctx context.Context, name string) (unlock func(), err error) {
	if err := validateKind(name); err != nil {
		return nil, fmt.Errorf("invalid lock name: %w", err)
	}
	mu := d.processLock(name)
	done := make(chan struct{})
	go func() { mu.Lock(); close(done) }()
	select {
	case <-done:
		return mu.Unlock, nil
	case <-ctx.Done():
		go func() { <-done; mu.Unlock() }()
		return nil, fmt.Errorf("waiting for lock %s: %w", name, ctx.Err())
	}
}

func (d *Dir) lockBlocking(name string, exclusive bool) (unlock func(), err error) {
	mu := d.processLock(name)
	if exclusive {
		mu.Lock()
		return mu.Unlock, nil
	}
	mu.RLock()
	return mu.RUnlock, nil
}

func (d *Dir) processLock(name string) *sync.RWMutex {
	mu, _ := processLocks.LoadOrStore(d.root+"/"+name, &sync.RWMutex{})
	return mu.(*sync.RWMutex)
}
