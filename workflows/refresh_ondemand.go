package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

// OnDemandRefreshWorkflow resolves an operator's refresh target (an
// exposure name, a workbook LUID or a data source LUID) on the worker,
// against the worker's latest snapshot and exposures file, and starts the
// refresh workflow of each extract the target uses. The starter runs it so
// that it needs nothing but the Temporal connection: the worker's state
// directory and exposures file stay where the worker runs. It returns as
// soon as the refreshes run; the starter follows them by workflow ID.
func OnDemandRefreshWorkflow(ctx workflow.Context, in activities.OnDemandRefreshInput) (activities.OnDemandRefreshResult, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		// Reading the snapshot and starting a few workflows takes seconds.
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			MaximumInterval:        10 * time.Second,
			MaximumAttempts:        3,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
	})
	var res activities.OnDemandRefreshResult
	err := workflow.ExecuteActivity(actx, activities.StartOnDemandRefreshName, in).Get(ctx, &res)
	return res, err
}
