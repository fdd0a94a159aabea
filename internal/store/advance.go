package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// pointer is the content of a latest pointer file. At is zero in pointers
// written by SetLatest, which does not know the blob's time.
type pointer struct {
	Ref
	At time.Time `json:"at,omitzero"`
}

// LatestAt returns the ref kind's latest pointer holds and the time
// AdvanceLatest recorded with it, which is zero when SetLatest wrote the
// pointer.
func (d *Dir) LatestAt(kind string) (Ref, time.Time, error) {
	if err := validateKind(kind); err != nil {
		return Ref{}, time.Time{}, err
	}
	data, err := os.ReadFile(d.latestPath(kind))
	if errors.Is(err, fs.ErrNotExist) {
		return Ref{}, time.Time{}, fmt.Errorf("latest %s: %w", kind, ErrNotFound)
	}
	if err != nil {
		return Ref{}, time.Time{}, fmt.Errorf("reading latest %s: %w", kind, err)
	}
	var p pointer
	if err := json.Unmarshal(data, &p); err != nil {
		return Ref{}, time.Time{}, fmt.Errorf("reading latest %s from %s: %w", kind, d.latestPath(kind), err)
	}
	if err := p.Ref.Validate(); err != nil {
		return Ref{}, time.Time{}, fmt.Errorf("reading latest %s from %s: %w", kind, d.latestPath(kind), err)
	}
	return p.Ref, p.At.UTC(), nil
}

// AdvanceLatest implements Store. Workers on one machine take turns
// through a lock file, so two of them never both read the old pointer and
// then both write.
func (d *Dir) AdvanceLatest(kind string, ref Ref, at time.Time, timeOf func(Ref) (time.Time, error)) (Ref, bool, error) {
	if err := validateKind(kind); err != nil {
		return Ref{}, false, err
	}
	if err := ref.Validate(); err != nil {
		return Ref{}, false, err
	}
	unlock, err := d.lockBlocking("latest_"+kind, true)
	if err != nil {
		return Ref{}, false, fmt.Errorf("advancing latest %s: %w", kind, err)
	}
	defer unlock()

	current, currentAt, err := d.LatestAt(kind)
	switch {
	case errors.Is(err, ErrNotFound):
		// No pointer yet: any ref is newer.
	case err != nil:
		return Ref{}, false, err
	case current.Hash == ref.Hash:
		return current, true, nil
	default:
		if currentAt.IsZero() && timeOf != nil {
			if currentAt, err = timeOf(current); err != nil {
				return Ref{}, false, fmt.Errorf("advancing latest %s: reading the time of %s: %w", kind, current, err)
			}
		}
		// Equal times with different hashes: the newest arrival wins.
		if at.Before(currentAt) {
			return current, false, nil
		}
	}

	if err := d.writePointer(kind, pointer{Ref: ref, At: at.UTC()}); err != nil {
		return Ref{}, false, err
	}
	return ref, true, nil
}

// writePointer checks that p's blob is stored and writes kind's latest
// pointer. The shared prune lock keeps Prune from deleting the blob between
// the check and the write, when Prune would not yet see the new pointer.
func (d *Dir) writePointer(kind string, p pointer) error {
	unlock, err := d.lockBlocking(pruneLock, false)
	if err != nil {
		return fmt.Errorf("setting latest %s: %w", kind, err)
	}
	defer unlock()
	if err := d.checkStored(kind, p.Ref); err != nil {
		return err
	}
	data, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding latest %s: %w", kind, err)
	}
	if err := d.writeAtomic(d.latestPath(kind), data); err != nil {
		return fmt.Errorf("setting latest %s: %w", kind, err)
	}
	return nil
}

// checkStored checks that ref's blob exists with ref's size.
func (d *Dir) checkStored(kind string, ref Ref) error {
	info, err := os.Stat(d.blobPath(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("setting latest %s: blob %s: %w", kind, ref, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("setting latest %s: %w", kind, err)
	}
	if info.Size() != ref.Size {
		return fmt.Errorf("setting latest %s: blob %s has %d bytes, but the ref has size %d", kind, ref, info.Size(), ref.Size)
	}
	return nil
}
