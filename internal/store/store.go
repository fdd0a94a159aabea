package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"time"
)

// Kinds of blobs the workflows keep. A kind names what the bytes are; the
// same bytes put under two kinds are stored once.
const (
	KindManifest     = "manifest"
	KindRunResults   = "run_results"
	KindSnapshot     = "snapshot"
	KindSnapshotPart = "snapshot_part"
	KindWorkbookList = "workbook_list"
	KindReport       = "report"
)

// ErrNotFound is returned when a blob or a latest pointer does not exist.
var ErrNotFound = errors.New("not found in store")

// ErrCorrupt is returned by a reader from Open when the stored bytes do not
// hash to the reference they were opened by.
var ErrCorrupt = errors.New("stored blob does not match its hash")

// Store keeps blobs by content hash and one "latest" pointer per kind.
// Implementations are safe for concurrent use, including by several
// processes sharing the same backing storage.
type Store interface {
	// Put reads r to its end and stores the bytes under their sha256 hash.
	// Putting bytes that are already stored is not an error.
	Put(kind string, r io.Reader) (Ref, error)
	// Open returns a reader of the blob ref names. The reader returns
	// ErrCorrupt at the end when the bytes do not match ref's hash, and
	// ErrNotFound when the blob is missing.
	Open(ref Ref) (io.ReadCloser, error)
	// SetLatest points kind's latest pointer at ref, which must be stored.
	SetLatest(kind string, ref Ref) error
	// Latest returns the ref kind's latest pointer holds, or ErrNotFound.
	Latest(kind string) (Ref, error)
	// Delete removes the blob ref names. Deleting a missing blob is not an
	// error. A reader that has the blob open keeps reading it.
	Delete(ref Ref) error

	// AdvanceLatest points kind's latest pointer at ref only when at is
	// not before the time of the blob the pointer names. The time is that
	// of the content, such as a manifest's generated_at. At equal times
	// the later call wins. A pointer without a time gets it from timeOf,
	// or counts as older when timeOf is nil. AdvanceLatest returns the
	// ref the pointer contains afterwards and whether that is ref.
	AdvanceLatest(kind string, ref Ref, at time.Time, timeOf func(Ref) (time.Time, error)) (latest Ref, isLatest bool, err error)
	// LatestAt is Latest with the time AdvanceLatest recorded, zero when
	// the pointer was set by SetLatest.
	LatestAt(kind string) (Ref, time.Time, error)
	// StoredAt returns when ref's bytes were last put as ref's kind.
	StoredAt(ref Ref) (time.Time, error)
	// Prune deletes the old blobs that r selects, measuring ages from now.
	// It never deletes a blob that a latest pointer names.
	Prune(r Retention, now time.Time) (PruneResult, error)
}

// Locker is implemented by stores that can serialize a step across the
// workers sharing them. Dir takes a file lock, which covers the workers on
// one machine.
type Locker interface {
	// Lock takes the exclusive lock called name, waiting until ctx is
	// done, and returns the function that releases it.
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// Ref names a stored blob: what it is, its sha256 hash as lowercase hex and
// its size in bytes. It is small enough for workflow inputs and results.
type Ref struct {
	Kind string `json:"kind"`
	Hash string `json:"hash"`
	Size int64  `json:"size"`
}

// IsZero reports whether r names nothing.
func (r Ref) IsZero() bool { return r.Hash == "" }

// String returns "kind:sha256:<hash>", the form logs and summaries use.
func (r Ref) String() string {
	if r.IsZero() {
		return "none"
	}
	return r.Kind + ":sha256:" + r.Hash
}

// Short returns the kind and the first 12 hex digits of the hash, for
// summaries a person reads.
func (r Ref) Short() string {
	if r.IsZero() {
		return "none"
	}
	h := r.Hash
	if len(h) > 12 {
		h = h[:12]
	}
	return r.Kind + ":" + h
}

var (
	kindPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	hashPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// Validate checks that r has a valid kind and hash, so that it can safely
// name a file.
func (r Ref) Validate() error {
	if err := validateKind(r.Kind); err != nil {
		return err
	}
	if !hashPattern.MatchString(r.Hash) {
		return fmt.Errorf("invalid blob hash %q: expected 64 lowercase hex digits", r.Hash)
	}
	if r.Size < 0 {
		return fmt.Errorf("invalid blob size %d for %s", r.Size, r.Hash)
	}
	return nil
}

// ValidateKind checks that kind can name blobs and latest pointers:
// lowercase letters, digits and underscores, starting with a letter.
func ValidateKind(kind string) error { return validateKind(kind) }

func validateKind(kind string) error {
	if !kindPattern.MatchString(kind) {
		return fmt.Errorf("invalid blob kind %q: expected lowercase letters, digits and underscores", kind)
	}
	return nil
}
