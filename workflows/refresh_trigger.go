package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Activity names of the refresh trigger, registered by the worker.
const (
	FindStaleExtractsActivity     = "FindStaleExtracts"
	StartExtractRefreshesActivity = "StartExtractRefreshes"
)

// RefreshTrigger is what a finished dbt run hands to the refresh trigger:
// the run ID and the store references (content hashes) of the artifacts.
type RefreshTrigger struct {
	DbtRunID      string
	ManifestRef   string
	SnapshotRef   string
	RunResultsRef string
}

// RefreshTriggerResult summarises what the trigger found and started.
type RefreshTriggerResult struct {
	// Disabled is true when refreshing is switched off.
	Disabled bool
	// Stale is the number of stale extracts found, before filters.
	Stale int
	// Started holds the refresh workflow IDs started or attached to.
	Started []string `json:",omitempty"`
	// ReportPath is the stale list written next to the exposures file.
	ReportPath string `json:",omitempty"`
}

// startStaleRefreshes finds the extracts the run made stale and starts one
// refresh workflow per extract.
func startStaleRefreshes(ctx workflow.Context, in RefreshTrigger) (RefreshTriggerResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5},
	})

	var found StaleExtracts
	if err := workflow.ExecuteActivity(ctx, FindStaleExtractsActivity, in).Get(ctx, &found); err != nil {
		return RefreshTriggerResult{}, err
	}

	res := RefreshTriggerResult{Disabled: found.Disabled, Stale: found.Stale, ReportPath: found.ReportPath}
	if found.Disabled || len(found.Refreshes) == 0 {
		return res, nil
	}

	var started StartedRefreshes
	if err := workflow.ExecuteActivity(ctx, StartExtractRefreshesActivity, found.Refreshes).Get(ctx, &started); err != nil {
		return res, err
	}
	res.Started = started.WorkflowIDs
	return res, nil
}

// StaleExtracts is the result of the FindStaleExtracts activity.
type StaleExtracts struct {
	Disabled   bool
	Stale      int
	ReportPath string
	Refreshes  []RefreshInput
}

// StartedRefreshes is the result of the StartExtractRefreshes activity.
type StartedRefreshes struct {
	WorkflowIDs []string
}

// RefreshInput is the input of ExposureRefreshWorkflow.
type RefreshInput struct {
	ExtractLUID string
	// Kind is "workbook" or "datasource".
	Kind        string
	Name        string
	DbtRunID    string
	Models      []string
	MinInterval time.Duration
}
