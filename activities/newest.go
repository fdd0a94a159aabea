package activities

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/autoexposures/autoexposures/internal/store"
)

// computeLock is the lock that serializes computing and writing the
// outputs across the workers sharing the state directory.
const computeLock = "compute"

// Retention used when the settings leave it zero, as settings built in
// code rather than loaded from the environment do.
const (
	defaultRetention    = 10
	defaultRetentionAge = 24 * time.Hour
)

// lockCompute takes the compute lock: a file lock when the store has one,
// otherwise a lock within this worker.
func (a *Activities) lockCompute(ctx context.Context) (func(), error) {
	if l, ok := a.Store.(store.Locker); ok {
		return l.Lock(ctx, computeLock)
	}
	a.computeMu.Lock()
	return a.computeMu.Unlock, nil
}

// computeInputs are the stored inputs a computation uses.
type computeInputs struct {
	manifest store.Ref
	snapshot store.Ref
	// newerManifest is the latest manifest when it is newer than the
	// manifest of the post-job run being computed. Such a run computes
	// its own report but leaves the outputs to the newer manifest.
	newerManifest store.Ref
}

// newestInputs compares the refs the workflow passed with the latest
// pointers and picks the newer of each: manifests by generated_at, snapshots
// by when they were stored. At equal times the pointer wins, because it was
// set by the later arrival. It runs under the compute lock, so the last
// writer of the outputs always uses the newest inputs.
func (a *Activities) newestInputs(in ComputeExposuresInput) (computeInputs, error) {
	use := computeInputs{manifest: in.Manifest, snapshot: in.Snapshot}

	manifest, newer, err := a.newerLatest(store.KindManifest, in.Manifest, a.manifestTime)
	if err != nil {
		return use, err
	}
	if newer {
		if in.DbtRunID != "" {
			use.newerManifest = manifest
		} else {
			use.manifest = manifest
		}
	}

	snapshot, newer, err := a.newerLatest(store.KindSnapshot, in.Snapshot, a.Store.StoredAt)
	if err != nil {
		return use, err
	}
	if newer {
		use.snapshot = snapshot
	}
	return use, nil
}

// newerLatest returns kind's latest ref and whether it is another blob not
// older than given.
func (a *Activities) newerLatest(kind string, given store.Ref, timeOf func(store.Ref) (time.Time, error)) (store.Ref, bool, error) {
	latest, latestAt, err := a.Store.LatestAt(kind)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ref{}, false, nil
	}
	if err != nil {
		return store.Ref{}, false, storeError("reading latest "+kind, err)
	}
	if latest.Hash == given.Hash {
		return latest, false, nil
	}
	givenAt, err := timeOf(given)
	if err != nil {
		return store.Ref{}, false, storedInputError(kind, err)
	}
	if latestAt.IsZero() {
		if latestAt, err = timeOf(latest); err != nil {
			return store.Ref{}, false, storedInputError("latest "+kind, err)
		}
	}
	return latest, !latestAt.Before(givenAt), nil
}

// prune deletes old blobs from the store after a successful computation.
// A failure only costs disk space, so it is logged, not returned.
func (a *Activities) prune(ctx context.Context) {
	logger := activity.GetLogger(ctx)
	r := store.Retention{Keep: a.Settings.StateRetention, MinAge: a.Settings.StateRetentionAge}
	if r.Keep == 0 {
		r.Keep = defaultRetention
	}
	if r.MinAge == 0 {
		r.MinAge = defaultRetentionAge
	}
	res, err := a.Store.Prune(r, time.Now())
	if err != nil {
		logger.Warn("pruning the state directory failed", "error", err)
		return
	}
	if len(res.Deleted) > 0 {
		logger.Info("old blobs deleted from the state directory", "blobs", len(res.Deleted), "bytes", res.Bytes,
			"keep", r.Keep, "min_age", r.MinAge.String())
	}
}

// supersededNote explains a post-job run that left the outputs alone.
func supersededNote(newer store.Ref) string {
	return fmt.Sprintf("the latest manifest %s is newer than this run's, so the exposures file was left as it is", newer.Short())
}
