package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"

	"github.com/autoexposures/autoexposures/internal/store"
)

// SetLatestInput points the latest pointer of Kind at Ref.
type SetLatestInput struct {
	Kind string
	Ref  store.Ref
}

// SetLatest records ref as the latest blob of its kind, the one the next
// sync or post-job run computes against.
func (a *Activities) SetLatest(ctx context.Context, in SetLatestInput) error {
	if err := store.ValidateKind(in.Kind); err != nil {
		return invalidInput("setting latest: %v", err)
	}
	if err := in.Ref.Validate(); err != nil {
		return invalidInput("setting latest %s: %v", in.Kind, err)
	}
	if err := a.Store.SetLatest(in.Kind, in.Ref); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return invalidInput("setting latest %s: %v: the blob is not in the state directory %s", in.Kind, err, a.Settings.StateDir)
		}
		return storeError("setting latest "+in.Kind, err)
	}
	activity.GetLogger(ctx).Info("latest set", "kind", in.Kind, "hash", in.Ref.Hash)
	return nil
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
