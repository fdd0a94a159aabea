package activities

import (
	"context"
	"errors"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/autoexposures/autoexposures/internal/store"
)

// SetLatestInput points the latest pointer of Kind at Ref.
type SetLatestInput struct {
	Kind string
	Ref  store.Ref
}

// SetLatest records ref as the latest blob of its kind, the one the next
// sync or post-job run computes against. A manifest or snapshot becomes the
// latest only when it is not older than the current one: a manifest by its
// metadata.generated_at, a snapshot by when it was stored. So the notice of
// an older dbt run that arrives late leaves the newer manifest in place.
func (a *Activities) SetLatest(ctx context.Context, in SetLatestInput) error {
	logger := activity.GetLogger(ctx)
	if err := store.ValidateKind(in.Kind); err != nil {
		return invalidInput("setting latest: %v", err)
	}
	if err := in.Ref.Validate(); err != nil {
		return invalidInput("setting latest %s: %v", in.Kind, err)
	}

	// Ordering manifests decodes them, which takes seconds for a large one.
	stop := keepAlive(ctx)
	defer stop()

	var err error
	latest, isLatest := in.Ref, true
	switch timeOf := a.contentTime(in.Kind); {
	case timeOf != nil:
		var at time.Time
		at, err = timeOf(in.Ref)
		if err != nil {
			return storedInputError(in.Kind, err)
		}
		latest, isLatest, err = a.Store.AdvanceLatest(in.Kind, in.Ref, at, timeOf)
	default:
		err = a.Store.SetLatest(in.Kind, in.Ref)
	}
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalidInput("setting latest %s: %v: the blob is not in the state directory %s", in.Kind, err, a.Settings.StateDir)
		}
		return storeError("setting latest "+in.Kind, err)
	}
	if !isLatest {
		logger.Info("latest kept: it is newer", "kind", in.Kind, "hash", in.Ref.Hash, "latest", latest.Hash)
		return nil
	}
	logger.Info("latest set", "kind", in.Kind, "hash", in.Ref.Hash)
	return nil
}

// contentTime returns the function that gives the time of a blob of kind
// for ordering latest pointers, or nil for kinds whose pointer is simply
// replaced.
func (a *Activities) contentTime(kind string) func(store.Ref) (time.Time, error) {
	switch kind {
	case store.KindManifest:
		return a.manifestTime
	case store.KindSnapshot:
		return a.Store.StoredAt
	}
	return nil
}

// manifestTime returns the manifest's metadata.generated_at.
func (a *Activities) manifestTime(ref store.Ref) (time.Time, error) {
	m, err := a.manifest(ref, "stored manifest "+ref.Short())
	if err != nil {
		return time.Time{}, err
	}
	return m.GeneratedAt, nil
}

// GetLatest returns the latest blob of kind, or a zero Ref when there is
// none yet.
func (a *Activities) GetLatest(ctx context.Context, kind string) (store.Ref, error) {
	if err := store.ValidateKind(kind); err != nil {
		return store.Ref{}, invalidInput("reading latest: %v", err)
	}
	ref, err := a.Store.Latest(kind)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ref{}, nil
	}
	if err != nil {
		return store.Ref{}, storeError("reading latest "+kind, err)
	}
	return ref, nil
}
