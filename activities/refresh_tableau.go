package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// LatestExtractRefresh reads the extract's current refresh time from
// Tableau with one Metadata API read of the first workbook it serves.
// For an embedded extract with several data sources, it returns the oldest
// of their refresh times, because the workbook's refresh renews them all.
func (a *Activities) LatestExtractRefresh(ctx context.Context, in RefreshRequest) (ExtractFreshness, error) {
	if len(in.WorkbookLUIDs) == 0 {
		return ExtractFreshness{}, nil
	}
	read, err := a.Tableau.ReadWorkbooks(ctx, in.WorkbookLUIDs[:1])
	if err != nil {
		return ExtractFreshness{}, classifyRefreshError(fmt.Sprintf("reading workbook %s", in.WorkbookLUIDs[0]), err)
	}

	var fresh ExtractFreshness
	switch in.Kind {
	case KindDatasource:
		for _, d := range read.PublishedDatasources {
			if d.LUID == in.ExtractLUID {
				fresh = ExtractFreshness{Found: true, LastRefresh: d.ExtractLastRefreshTime}
			}
		}
	case KindWorkbook:
		for _, wb := range read.Workbooks {
			if wb.LUID != in.ExtractLUID {
				continue
			}
			for _, d := range wb.EmbeddedDatasources {
				if !d.HasExtracts || (len(in.DatasourceIDs) > 0 && !slices.Contains(in.DatasourceIDs, d.ID)) {
					continue
				}
				fresh.Found = true
				if d.ExtractLastRefreshTime == nil {
					// Never refreshed: nothing recent to skip for.
					return ExtractFreshness{Found: true}, nil
				}
				if fresh.LastRefresh == nil || d.ExtractLastRefreshTime.Before(*fresh.LastRefresh) {
					fresh.LastRefresh = d.ExtractLastRefreshTime
				}
			}
		}
	}

	activity.GetLogger(ctx).Info("extract refresh time read", "extract_luid", in.ExtractLUID, "found", fresh.Found, "last_refresh", fresh.LastRefresh)
	return fresh, nil
}

// RequestExtractRefresh requests a refresh of the extract from Tableau.
// "No extract" and 429 are results, not errors, so that the workflow can
// skip or wait on a durable timer. "Already queued" returns the queued job,
// marked Adopted.
func (a *Activities) RequestExtractRefresh(ctx context.Context, in RefreshRequest) (RefreshStart, error) {
	logger := activity.GetLogger(ctx)
	what := fmt.Sprintf("requesting a refresh of %s %s", in.Kind, in.ExtractLUID)

	var (
		job tableau.Job
		err error
	)
	switch in.Kind {
	case KindWorkbook:
		job, err = a.Tableau.RefreshWorkbook(ctx, in.ExtractLUID)
	case KindDatasource:
		job, err = a.Tableau.RefreshDatasource(ctx, in.ExtractLUID)
	default:
		return RefreshStart{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid extract kind %q for %s: expected workbook or datasource", in.Kind, in.ExtractLUID), ErrTypeInvalidInput, nil)
	}

	switch {
	case err == nil:
		start := RefreshStart{Job: jobState(job), Adopted: job.AlreadyQueued}
		logger.Info("refresh requested", "extract_luid", in.ExtractLUID, "job_id", job.ID, "adopted", start.Adopted)
		return start, nil
	case errors.Is(err, tableau.ErrNoExtract):
		logger.Info("nothing to refresh", "extract_luid", in.ExtractLUID, "error", err)
		return RefreshStart{NoExtract: true, Message: err.Error()}, nil
	case errors.Is(err, tableau.ErrRateLimited):
		wait, _ := tableau.RetryAfter(err)
		logger.Warn("refresh rate limited", "extract_luid", in.ExtractLUID, "retry_after", wait)
		return RefreshStart{RateLimited: true, RetryAfter: wait, Message: err.Error()}, nil
	case isAlreadyQueued(err):
		// Tableau reported a queued refresh, but the job had ended by the
		// time the client looked for it, so a retry starts a new one.
		return RefreshStart{}, temporal.NewApplicationError(what+": "+err.Error(), ErrTypeTableau)
	default:
		return RefreshStart{}, classifyRefreshError(what, err)
	}
}

// isAlreadyQueued reports whether err is Tableau's "already queued" error
// (409093) that the client could not turn into the queued job.
func isAlreadyQueued(err error) bool {
	var te *tableau.Error
	return errors.As(err, &te) && te.Code == "409093"
}

// GetRefreshJob reads a Tableau job's status.
func (a *Activities) GetRefreshJob(ctx context.Context, jobID string) (JobState, error) {
	job, err := a.Tableau.GetJob(ctx, jobID)
	if err != nil {
		return JobState{}, classifyRefreshError(fmt.Sprintf("reading job %s", jobID), err)
	}
	return jobState(job), nil
}

// CancelRefreshJob cancels a Tableau job. A job that already ended or is
// gone needs no cancelling and is not an error.
func (a *Activities) CancelRefreshJob(ctx context.Context, jobID string) error {
	err := a.Tableau.CancelJob(ctx, jobID)
	if errors.Is(err, tableau.ErrNotFound) || errors.Is(err, tableau.ErrConflict) {
		activity.GetLogger(ctx).Info("job not cancelled: it ended or is gone", "job_id", jobID, "error", err)
		return nil
	}
	if err != nil {
		return classifyRefreshError(fmt.Sprintf("cancelling job %s", jobID), err)
	}
	activity.GetLogger(ctx).Info("job cancelled", "job_id", jobID)
	return nil
}

// classifyRefreshError classifies an error of the Tableau client like
// tableauError, with a hint that fits a refresh when the item is gone.
func classifyRefreshError(what string, err error) error {
	if errors.Is(err, tableau.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s: %v: the workbook, data source or job was deleted or the token's user cannot see it; run a collection sync to update the exposures", what, err),
			ErrTypeNotFound, nil)
	}
	return tableauError(what, err)
}

func jobState(j tableau.Job) JobState {
	return JobState{
		ID:          j.ID,
		Status:      string(j.Status),
		FinishCode:  j.FinishCode,
		Progress:    j.Progress,
		CreatedAt:   j.CreatedAt,
		StartedAt:   j.StartedAt,
		CompletedAt: j.CompletedAt,
		Notes:       j.Notes,
	}
}
