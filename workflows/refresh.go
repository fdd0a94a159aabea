package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

// RefreshProgressQuery is the query that returns a refresh's progress.
const RefreshProgressQuery = ProgressQuery

// RefreshProgress is the state of an ExposureRefreshWorkflow, returned by
// the progress query.
type RefreshProgress struct {
	// Phase is checking, requesting, rate_limited, following or done.
	Phase          string
	ExtractLUID    string
	JobID          string    `json:",omitempty"`
	JobStatus      string    `json:",omitempty"`
	JobProgress    int       `json:",omitempty"`
	Polls          int       `json:",omitempty"`
	RateLimitWaits int       `json:",omitempty"`
	NextCheckAt    time.Time `json:",omitzero"`
	Outcome        string    `json:",omitempty"`
}

// Job polling back-off: the first check comes after pollFirst, and each
// wait doubles up to pollMax, so short jobs end quickly and long ones cost
// few history events.
const (
	pollFirst = 5 * time.Second
	pollMax   = 5 * time.Minute
)

// tableauCallTimeout is the start-to-close timeout of the activities that
// make one Tableau call: the read of the extract's refresh time, the
// refresh request, the job status read and the cancel. It fits a quick
// request with the Tableau client's own retries, whose back-off adds up to
// about 8 s over five attempts. It also bounds how long a call that a
// stopped worker never finishes holds up the refresh before it is retried.
// NOTE: a single request may run up to TABLEAU_REQUEST_TIMEOUT (60 s by
// default), so a Tableau that slow times out here and is retried.
const tableauCallTimeout = 30 * time.Second

// Rate limits: Tableau's Retry-After is honoured as given; defaultRetryAfter
// is used when Tableau gave none, and maxRateLimitWaits stops a refresh that
// Tableau keeps refusing.
const (
	defaultRetryAfter = time.Minute
	maxRateLimitWaits = 30
)

// ExposureRefreshWorkflow refreshes one Tableau extract and follows the job
// to its end. It skips the refresh when the extract was refreshed within
// the request's minimum interval or has no extract to refresh. A job that
// fails is reported in the result, not retried. Cancelling the workflow
// cancels the Tableau job.
func ExposureRefreshWorkflow(ctx workflow.Context, in activities.RefreshRequest) (activities.RefreshResult, error) {
	logger := workflow.GetLogger(ctx)
	res := activities.RefreshResult{ExtractLUID: in.ExtractLUID, Kind: in.Kind, Name: in.Name, Exposure: in.Exposure}
	progress := RefreshProgress{Phase: "checking", ExtractLUID: in.ExtractLUID}
	if err := workflow.SetQueryHandler(ctx, RefreshProgressQuery, func() (RefreshProgress, error) {
		return progress, nil
	}); err != nil {
		return res, fmt.Errorf("registering the progress query: %w", err)
	}
	// However the workflow ends, no check is due any more, so the query
	// that status reads after the end shows none.
	defer func() { progress.NextCheckAt = time.Time{} }()
	if in.ExtractLUID == "" || (in.Kind != activities.KindWorkbook && in.Kind != activities.KindDatasource) {
		return res, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("invalid refresh request: extract LUID %q, kind %q; expected a LUID and kind workbook or datasource", in.ExtractLUID, in.Kind),
			activities.ErrTypeInvalidInput, nil)
	}
	logger.Info("refresh started", "extract_luid", in.ExtractLUID, "kind", in.Kind, "dbt_run_id", in.DbtRunID, "min_interval", in.MinInterval)

	finish := func(outcome string) (activities.RefreshResult, error) {
		res.Outcome = outcome
		progress.Phase, progress.Outcome = "done", outcome
		workflow.SetCurrentDetails(ctx, refreshDetails(in, res))
		logger.Info("refresh ended", "extract_luid", in.ExtractLUID, "outcome", outcome,
			"skip_reason", res.SkipReason, "job_id", res.JobID, "notes", strings.Join(res.Notes, "; "))
		return res, nil
	}

	if reason := checkRecentRefresh(ctx, in); reason != "" {
		res.SkipReason = reason
		return finish(activities.OutcomeSkipped)
	}

	progress.enter(ctx, "requesting")
	start, err := requestRefresh(ctx, in, &progress)
	if err != nil {
		return res, err
	}
	if start.NoExtract {
		res.SkipReason = "Tableau reports no extract to refresh"
		if start.Message != "" {
			res.SkipReason += ": " + start.Message
		}
		return finish(activities.OutcomeSkipped)
	}
	res.JobID, res.Adopted, res.RateLimitWaits = start.Job.ID, start.Adopted, progress.RateLimitWaits
	logger.Info("refresh job running", "extract_luid", in.ExtractLUID, "job_id", start.Job.ID, "adopted", start.Adopted)

	job, err := followJob(ctx, start.Job, &progress)
	res.Polls = progress.Polls
	if err != nil {
		if temporal.IsCanceledError(err) {
			cancelJob(ctx, in, start.Job.ID)
		}
		return res, err
	}

	res.FinishCode, res.Notes, res.CompletedAt = job.FinishCode, job.Notes, job.CompletedAt
	switch job.Status {
	case "succeeded":
		return finish(activities.OutcomeSucceeded)
	case "cancelled":
		return finish(activities.OutcomeCancelled)
	default:
		return finish(activities.OutcomeFailed)
	}
}

// checkRecentRefresh returns why the refresh is skipped, or "" to refresh.
// The latest refresh time is the newest of the snapshot's, our own last
// refresh and, where a workbook names the extract, Tableau's current value.
func checkRecentRefresh(ctx workflow.Context, in activities.RefreshRequest) string {
	if in.MinInterval <= 0 {
		return ""
	}
	logger := workflow.GetLogger(ctx)

	last, source := in.LastRefresh, "the snapshot"
	if in.LastRefreshByUs != nil && (last == nil || in.LastRefreshByUs.After(*last)) {
		last, source = in.LastRefreshByUs, "a refresh by autoexposures"
	}
	if len(in.WorkbookLUIDs) > 0 {
		actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
			StartToCloseTimeout: tableauCallTimeout,
			RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumAttempts: 3},
		})
		var fresh activities.ExtractFreshness
		err := workflow.ExecuteActivity(actx, activities.LatestExtractRefreshName, in).Get(ctx, &fresh)
		switch {
		case err != nil:
			// The snapshot's time still serves; a failed read must not
			// block the refresh.
			logger.Warn("reading the extract's refresh time failed; using the snapshot's", "extract_luid", in.ExtractLUID, "error", err)
		case fresh.LastRefresh != nil && (last == nil || fresh.LastRefresh.After(*last)):
			last, source = fresh.LastRefresh, "Tableau"
		}
	}
	if last == nil {
		return ""
	}

	age := workflow.Now(ctx).Sub(*last)
	if age >= in.MinInterval {
		return ""
	}
	return fmt.Sprintf("refreshed at %s (per %s), within the minimum interval of %s",
		last.UTC().Format(time.RFC3339), source, in.MinInterval)
}

// requestRefresh requests the refresh from Tableau. After a 429 it waits on
// a durable timer for as long as Retry-After requested, then tries again.
func requestRefresh(ctx workflow.Context, in activities.RefreshRequest, progress *RefreshProgress) (activities.RefreshStart, error) {
	logger := workflow.GetLogger(ctx)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: tableauCallTimeout,
		// A cancellation that arrives while Tableau queues the job waits for
		// the request to end, so that the workflow learns the job and
		// cancels it.
		WaitForCancellation: true,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        8,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})

	for {
		var start activities.RefreshStart
		if err := workflow.ExecuteActivity(actx, activities.RequestExtractRefreshName, in).Get(ctx, &start); err != nil {
			return start, err
		}
		if !start.RateLimited {
			return start, nil
		}
		if progress.RateLimitWaits >= maxRateLimitWaits {
			return start, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("Tableau rejected the refresh of %s %s with 429 %d times; try again later or raise the site's refresh limit", in.Kind, in.ExtractLUID, progress.RateLimitWaits),
				activities.ErrTypeRateLimited, nil)
		}

		wait := start.RetryAfter
		if wait <= 0 {
			wait = defaultRetryAfter
		}
		progress.NextCheckAt = workflow.Now(ctx).Add(wait)
		progress.RateLimitWaits++
		progress.enter(ctx, "rate_limited")
		logger.Info("refresh rate limited; waiting", "extract_luid", in.ExtractLUID, "retry_after", wait, "waits", progress.RateLimitWaits)
		if err := workflow.Sleep(ctx, wait); err != nil {
			return start, err
		}
		progress.enter(ctx, "requesting")
	}
}

// followJob reads the job's status on durable timers that back off from
// pollFirst to pollMax until the job ends.
func followJob(ctx workflow.Context, job activities.JobState, progress *RefreshProgress) (activities.JobState, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: tableauCallTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})
	progress.JobID = job.ID

	wait := pollFirst
	for !job.Done() {
		progress.JobStatus, progress.JobProgress = job.Status, job.Progress
		progress.NextCheckAt = workflow.Now(ctx).Add(wait)
		progress.enter(ctx, "following")
		if err := workflow.Sleep(ctx, wait); err != nil {
			return job, err
		}
		wait = min(2*wait, pollMax)

		// A fresh value, because decoding into job would keep the fields
		// that the new state leaves out, such as a progress back to zero.
		var next activities.JobState
		if err := workflow.ExecuteActivity(actx, activities.GetRefreshJobName, job.ID).Get(ctx, &next); err != nil {
			return job, err
		}
		job = next
		progress.Polls++
	}
	progress.JobStatus, progress.JobProgress = job.Status, job.Progress
	return job, nil
}

// cancelJob cancels the Tableau job after the workflow was cancelled, on a
// context that the cancellation does not reach.
func cancelJob(ctx workflow.Context, in activities.RefreshRequest, jobID string) {
	logger := workflow.GetLogger(ctx)
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	dctx = workflow.WithActivityOptions(dctx, workflow.ActivityOptions{
		StartToCloseTimeout: tableauCallTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 2 * time.Second, MaximumAttempts: 5},
	})

	err := workflow.ExecuteActivity(dctx, activities.CancelRefreshJobName, jobID).Get(dctx, nil)
	if err != nil {
		logger.Error("cancelling the Tableau job failed", "extract_luid", in.ExtractLUID, "job_id", jobID, "error", err)
		return
	}
	logger.Info("Tableau job cancelled with the workflow", "extract_luid", in.ExtractLUID, "job_id", jobID)
}

// enter moves the refresh to phase and shows its state in the Web
// UI's current details until it ends.
func (p *RefreshProgress) enter(ctx workflow.Context, phase string) {
	p.Phase = phase
	var b strings.Builder
	fmt.Fprintf(&b, "Phase: **%s**", phase)
	if p.JobID != "" {
		fmt.Fprintf(&b, "\n\nTableau job %s: %s", p.JobID, p.JobStatus)
		if p.JobProgress > 0 {
			fmt.Fprintf(&b, " (%d%%)", p.JobProgress)
		}
	}
	if p.RateLimitWaits > 0 {
		fmt.Fprintf(&b, "\n\nRate limit waits: %d", p.RateLimitWaits)
	}
	if !p.NextCheckAt.IsZero() {
		fmt.Fprintf(&b, "\n\nNext check: %s", p.NextCheckAt.UTC().Format(time.RFC3339))
	}
	workflow.SetCurrentDetails(ctx, b.String())
}

// refreshDetails is the workflow's current details in the Web UI once it
// ended.
func refreshDetails(in activities.RefreshRequest, res activities.RefreshResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Refresh of %s: **%s**", activities.ExtractLabel(in.Kind, in.Name, in.ExtractLUID, in.Exposure), res.Outcome)
	if res.SkipReason != "" {
		fmt.Fprintf(&b, "\n\nSkipped: %s", res.SkipReason)
	}
	if res.JobID != "" {
		fmt.Fprintf(&b, "\n\nTableau job %s", res.JobID)
		if res.Adopted {
			b.WriteString(" (already queued, adopted)")
		}
	}
	if len(res.Notes) > 0 {
		fmt.Fprintf(&b, "\n\nNotes: %s", strings.Join(res.Notes, "; "))
	}
	return b.String()
}
