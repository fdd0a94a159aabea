package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
)

// RefreshTrigger is the input of the refresh trigger: the dbt run ID and the
// store references of the run's artifacts and of the Tableau snapshot that
// lineage was computed against.
type RefreshTrigger struct {
	DbtRunID   string
	Manifest   store.Ref
	Snapshot   store.Ref
	RunResults store.Ref
}

// RefreshTriggerResult summarises what the trigger found and started.
type RefreshTriggerResult struct {
	// Disabled is true when refreshing is switched off.
	Disabled bool `json:",omitempty"`
	// Stale counts the stale extracts found; OutOfScope those outside the
	// refresh collections and projects.
	Stale      int
	OutOfScope int `json:",omitempty"`
	// Ignored counts errored or skipped run results, which made nothing
	// stale. Note explains why the whole run results were ignored, such as
	// results written by dbt docs generate.
	Ignored int    `json:",omitempty"`
	Note    string `json:",omitempty"`
	// Started counts the refresh workflows started or attached to;
	// Refreshes lists the IDs of the first activities.MaxListedRefreshes.
	Started   int      `json:",omitempty"`
	Refreshes []string `json:",omitempty"`
	// ReportPath is the file that lists the stale extracts.
	ReportPath string `json:",omitempty"`
}

// startStaleRefreshes finds the extracts that the run made stale, writes
// the stale list next to the exposures file and starts one
// ExposureRefreshWorkflow per extract, with the ID refresh-<extract LUID>.
//
// An activity starts the refresh workflows with the Temporal client and the
// USE_EXISTING conflict policy, because child workflow options cannot
// attach to a running workflow. So a second trigger for an extract whose
// refresh still runs joins that refresh instead of queueing another. The
// refreshes outlive the caller, which does not wait for them.
func startStaleRefreshes(ctx workflow.Context, in RefreshTrigger) (RefreshTriggerResult, error) {
	logger := workflow.GetLogger(ctx)
	if in.RunResults.IsZero() {
		logger.Info("no run results, so no stale extracts", "dbt_run_id", in.DbtRunID)
		return RefreshTriggerResult{}, nil
	}

	retry := &temporal.RetryPolicy{
		InitialInterval:        time.Second,
		MaximumInterval:        time.Minute,
		MaximumAttempts:        5,
		NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
	}
	// Finding stale extracts decodes the manifest when the worker's cache
	// does not hold it and computes lineage, the trigger's longest step.
	findCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		RetryPolicy:         retry,
	})
	// Starting takes a few Temporal calls per extract; the heartbeat lets a
	// retry resume after the last one started.
	startCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         retry,
	})

	var found activities.FindStaleResult
	err := workflow.ExecuteActivity(findCtx, activities.FindStaleExtractsName, activities.FindStaleInput{
		DbtRunID:   in.DbtRunID,
		Manifest:   in.Manifest,
		Snapshot:   in.Snapshot,
		RunResults: in.RunResults,
	}).Get(findCtx, &found)
	if err != nil {
		return RefreshTriggerResult{}, err
	}

	res := RefreshTriggerResult{
		Disabled:   found.Disabled,
		Stale:      found.Stale,
		OutOfScope: found.OutOfScope,
		Ignored:    found.Ignored,
		Note:       found.Note,
		ReportPath: found.ReportPath,
	}
	logger.Info("stale extracts found", "dbt_run_id", in.DbtRunID, "stale", found.Stale,
		"out_of_scope", found.OutOfScope, "refresh_disabled", found.Disabled, "report_path", found.ReportPath)
	if found.Disabled || found.Refreshes == 0 {
		return res, nil
	}

	var started activities.StartRefreshesResult
	err = workflow.ExecuteActivity(startCtx, activities.StartExtractRefreshesName, activities.StartRefreshesInput{
		DbtRunID: in.DbtRunID,
		Requests: found.Requests,
	}).Get(startCtx, &started)
	if err != nil {
		return res, err
	}

	res.Started = started.Started
	for _, s := range started.Workflows {
		res.Refreshes = append(res.Refreshes, s.WorkflowID)
		logger.Info("extract refresh running", "dbt_run_id", in.DbtRunID, "workflow_id", s.WorkflowID, "run_id", s.RunID)
	}
	return res, nil
}
