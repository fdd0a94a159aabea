package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// KindUnknown is the kind Prune gives blobs stored without a kind marker,
// by versions of the store that wrote none. Their put time is taken from
// the blob file.
const KindUnknown = "unknown"

// pruneLock is the lock Prune and Delete hold exclusively and Put holds
// shared while it renames a blob into place and updates its kind marker.
const pruneLock = "prune"

// Retention is the rule for which blobs Prune keeps.
type Retention struct {
	// Keep is how many blobs of each kind are kept, newest first by the
	// time they were last put, whatever their age.
	Keep int
	// MinAge keeps every blob put more recently than this, because a
	// running workflow may still read it: a sync's lineage chunks, or the
	// manifest of a post-job run whose notice arrived late. It should be
	// longer than the longest workflow.
	MinAge time.Duration
}

// PruneResult counts what Prune deleted.
type PruneResult struct {
	// Deleted lists the kind markers removed, oldest last within a kind.
	Deleted []Ref
	// Bytes counts the bytes of the blob files removed. A blob that was
	// also put as another kind still kept is not removed.
	Bytes int64
}

// Prune deletes, for each kind, the blobs beyond the newest r.Keep that
// were last put more than r.MinAge before now. It never deletes a blob a
// latest pointer names. Blobs without a kind marker are first given the
// kind KindUnknown, and are kept or deleted by the same rule.
func (d *Dir) Prune(r Retention, now time.Time) (PruneResult, error) {
	var res PruneResult
	if r.Keep < 1 {
		return res, fmt.Errorf("invalid retention: keep %d blobs of each kind, want at least 1", r.Keep)
	}
	unlock, err := d.lockBlocking(pruneLock, true)
	if err != nil {
		return res, fmt.Errorf("pruning the store: %w", err)
	}
	defer unlock()

	named, err := d.latestHashes()
	if err != nil {
		return res, fmt.Errorf("pruning the store: %w", err)
	}
	if err := d.markUnknown(); err != nil {
		return res, fmt.Errorf("pruning the store: %w", err)
	}
	kinds, err := os.ReadDir(filepath.Join(d.root, "kinds"))
	if err != nil {
		return res, fmt.Errorf("pruning the store: %w", err)
	}
	for _, k := range kinds {
		if !k.IsDir() || validateKind(k.Name()) != nil {
			continue
		}
		markers, err := d.markers(k.Name())
		if err != nil {
			return res, fmt.Errorf("pruning %s blobs: %w", k.Name(), err)
		}
		for i, m := range markers {
			if i < r.Keep || now.Sub(m.putAt) < r.MinAge {
				continue
			}
			if _, ok := named[m.hash]; ok {
				continue
			}
			size, err := d.blobSize(m.hash)
			if err != nil {
				return res, fmt.Errorf("pruning %s blobs: %w", k.Name(), err)
			}
			removed, err := d.deleteBlob(k.Name(), m.hash)
			if err != nil {
				return res, fmt.Errorf("pruning %s blobs: %w", k.Name(), err)
			}
			if removed {
				res.Bytes += size
			}
			res.Deleted = append(res.Deleted, Ref{Kind: k.Name(), Hash: m.hash, Size: size})
		}
	}
	return res, nil
}

// StoredAt returns when ref's bytes were last put as ref's kind. It is the
// time of the blob file for blobs stored before kind markers existed.
func (d *Dir) StoredAt(ref Ref) (time.Time, error) {
	if err := ref.Validate(); err != nil {
		return time.Time{}, err
	}
	info, err := os.Stat(d.markerPath(ref.Kind, ref.Hash))
	if errors.Is(err, fs.ErrNotExist) {
		info, err = os.Stat(d.blobPath(ref))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return time.Time{}, fmt.Errorf("blob %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("reading the time of blob %s: %w", ref, err)
	}
	return info.ModTime(), nil
}

// markUnknown gives every blob without a kind marker a KindUnknown marker
// dated like the blob file. The caller holds pruneLock exclusively, so no
// Put is between its rename and its marker.
func (d *Dir) markUnknown() error {
	marked := map[string]bool{}
	kinds, err := os.ReadDir(filepath.Join(d.root, "kinds"))
	if err != nil {
		return err
	}
	for _, k := range kinds {
		entries, err := os.ReadDir(filepath.Join(d.root, "kinds", k.Name()))
		if err != nil {
			return err
		}
		for _, e := range entries {
			marked[e.Name()] = true
		}
	}

	return filepath.WalkDir(filepath.Join(d.root, "blobs"), func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() || !hashPattern.MatchString(e.Name()) || marked[e.Name()] {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		ref := Ref{Kind: KindUnknown, Hash: e.Name()}
		if err := d.touchMarker(ref); err != nil {
			return err
		}
		return os.Chtimes(d.markerPath(KindUnknown, e.Name()), info.ModTime(), info.ModTime())
	})
}

type marker struct {
	hash  string
	putAt time.Time
}

// markers returns kind's markers, last put first.
func (d *Dir) markers(kind string) ([]marker, error) {
	entries, err := os.ReadDir(filepath.Join(d.root, "kinds", kind))
	if err != nil {
		return nil, err
	}
	var out []marker
	for _, e := range entries {
		if !hashPattern.MatchString(e.Name()) {
			continue
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, marker{hash: e.Name(), putAt: info.ModTime()})
	}
	slices.SortFunc(out, func(a, b marker) int {
		if c := b.putAt.Compare(a.putAt); c != 0 {
			return c
		}
		return strings.Compare(a.hash, b.hash)
	})
	return out, nil
}

// touchMarker records that ref's bytes were put as ref's kind now.
func (d *Dir) touchMarker(ref Ref) error {
	path := d.markerPath(ref.Kind, ref.Hash)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	f.Close()
	now := time.Now()
	return os.Chtimes(path, now, now)
}

// deleteUnlocked removes kind's marker for hash, and the blob when no other
// kind's marker names it. The caller holds pruneLock exclusively.
func (d *Dir) deleteUnlocked(kind, hash string) error {
	if _, err := d.deleteBlob(kind, hash); err != nil {
		return fmt.Errorf("deleting blob %s:sha256:%s: %w", kind, hash, err)
	}
	return nil
}

// deleteBlob is deleteUnlocked reporting whether the bytes were removed.
func (d *Dir) deleteBlob(kind, hash string) (removed bool, err error) {
	if err := os.Remove(d.markerPath(kind, hash)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	others, err := os.ReadDir(filepath.Join(d.root, "kinds"))
	if err != nil {
		return false, err
	}
	for _, k := range others {
		if _, err := os.Stat(d.markerPath(k.Name(), hash)); err == nil {
			return false, nil
		}
	}
	path := filepath.Join(d.root, "blobs", hash[:2], hash)
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// latestHashes maps the hash of every blob a latest pointer names to the
// pointer's kind.
func (d *Dir) latestHashes() (map[string]string, error) {
	entries, err := os.ReadDir(filepath.Join(d.root, "latest"))
	if err != nil {
		return nil, err
	}
	named := map[string]string{}
	for _, e := range entries {
		kind, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || validateKind(kind) != nil {
			continue
		}
		ref, err := d.Latest(kind)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		named[ref.Hash] = kind
	}
	return named, nil
}

func (d *Dir) blobSize(hash string) (int64, error) {
	info, err := os.Stat(filepath.Join(d.root, "blobs", hash[:2], hash))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return info.Size(), nil
}

func (d *Dir) markerPath(kind, hash string) string {
	return filepath.Join(d.root, "kinds", kind, hash)
}
