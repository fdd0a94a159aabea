package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Activities holds what the activities need: the Tableau client, the store
// and the worker's settings. Secrets stay inside the Tableau client.
type Activities struct {
	Tableau  *tableau.Client
	Store    store.Store
	Settings config.Settings
	// Logger is for work outside an activity context; activities log with
	// activity.GetLogger.
	Logger *slog.Logger
	// Schedules reads the daily sync schedule's selection for
	// ResolveSelection; nil skips the schedule.
	Schedules client.ScheduleClient

	cache decodeCache
	// computeMu serializes computations when the store has no Locker.
	computeMu sync.Mutex
}

// Names of the activities of the sync and post-job flows. They are part of
// the workflow histories, so they never change.
const (
	ListWorkbooksName    = "ListWorkbooks"
	ReadLineageName      = "ReadLineage"
	LoadArtifactsName    = "LoadArtifacts"
	ComputeExposuresName = "ComputeExposures"
	GetLatestName        = "GetLatest"
	SetLatestName        = "SetLatest"
)

// Application error types the activities return. Retry policies name the
// non-retryable ones, and operators see them in the Web UI.
const (
	// ErrTypeInvalidInput is an activity input that no retry can fix.
	ErrTypeInvalidInput = "InvalidInput"
	// ErrTypeInvalidArtifact is a manifest or run results file that is not
	// a dbt artifact of a supported version.
	ErrTypeInvalidArtifact = "InvalidArtifact"
	// ErrTypeArtifactUnavailable is an artifact location that does not
	// exist or refuses access.
	ErrTypeArtifactUnavailable = "ArtifactUnavailable"
	// ErrTypeInvalidCredentials is a Tableau token that Tableau rejects.
	ErrTypeInvalidCredentials = "InvalidCredentials"
	// ErrTypeNotFound is a Tableau site, collection or workbook that does
	// not exist or that the token's user cannot see.
	ErrTypeNotFound = "NotFound"
	// ErrTypeTableau is any other Tableau error, retryable or not as the
	// Tableau client classified it.
	ErrTypeTableau = "TableauError"
	// ErrTypeRateLimited is a Tableau rate limit; the retry waits as long as
	// Tableau asked.
	ErrTypeRateLimited = "RateLimited"
	// ErrTypeStore is a failure to read or write the state directory.
	ErrTypeStore = "StoreError"
	// ErrTypeOutput is a failure to write the exposures file or report.
	ErrTypeOutput = "OutputError"
)

// NonRetryableErrorTypes lists the error types retry policies stop on. The
// activities already mark these errors non-retryable; the list also stops
// an error of these types that was not marked.
var NonRetryableErrorTypes = []string{
	ErrTypeInvalidInput,
	ErrTypeInvalidArtifact,
	ErrTypeArtifactUnavailable,
	ErrTypeInvalidCredentials,
	ErrTypeNotFound,
}

// invalidInput returns a non-retryable error for an input that cannot work.
func invalidInput(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeInvalidInput, nil)
}

// tableauError classifies an error of the Tableau client once: what no
// retry can fix is non-retryable with a hint, a rate limit retries after the
// wait Tableau asked for, and the rest retries on the activity's policy.
// The client's messages never hold the token secret or session token.
func tableauError(what string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	msg := what + ": " + err.Error()

	if !tableau.IsRetryable(err) {
		errType, hint := ErrTypeTableau, ""
		switch {
		case errors.Is(err, tableau.ErrInvalidCredentials):
			errType = ErrTypeInvalidCredentials
			hint = "check TABLEAU_TOKEN_NAME, TABLEAU_TOKEN_SECRET and TABLEAU_SITE in the worker's environment (the token may be expired or revoked), then restart the worker"
		case errors.Is(err, tableau.ErrNotFound):
			errType = ErrTypeNotFound
			hint = "check the selected collections, projects or workbook LUIDs and that the token's user can see them"
		case errors.Is(err, tableau.ErrPermission):
			hint = "give the token's user permission to read the selected content"
		}
		if hint != "" && !strings.Contains(msg, hint) {
			msg += ": " + hint
		}
		return temporal.NewNonRetryableApplicationError(msg, errType, nil)
	}

	if wait, ok := tableau.RetryAfter(err); ok {
		return temporal.NewApplicationErrorWithOptions(msg, ErrTypeRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: wait})
	}
	return temporal.NewApplicationError(msg, ErrTypeTableau)
}

// storeError returns a retryable error for a store failure: a full disk or
// a permission problem can be fixed while the activity retries.
func storeError(what string, err error) error {
	return temporal.NewApplicationError(what+": "+err.Error(), ErrTypeStore)
}

// putJSON encodes v into the store without holding the encoding in memory.
func (a *Activities) putJSON(kind string, v any) (store.Ref, error) {
	pr, pw := io.Pipe()
	go func() {
		enc := json.NewEncoder(pw)
		pw.CloseWithError(enc.Encode(v))
	}()
	ref, err := a.Store.Put(kind, pr)
	pr.CloseWithError(err)
	return ref, err
}

// getJSON decodes the blob ref names into v.
func (a *Activities) getJSON(ref store.Ref, v any) error {
	rc, err := a.Store.Open(ref)
	if err != nil {
		return err
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		return fmt.Errorf("decoding %s: %w", ref, err)
	}
	// Read to the end so that the store checks the hash.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return err
	}
	return nil
}
