package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

func init() {
	extensions = append(extensions, registerRefresh)
}

// registerRefresh registers ExposureRefreshWorkflow, OnDemandRefreshWorkflow
// and the refresh
// activities under their stable names.
func registerRefresh(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(ExposureRefreshWorkflow, workflow.RegisterOptions{Name: activities.ExposureRefreshWorkflowName})
	w.RegisterWorkflowWithOptions(OnDemandRefreshWorkflow, workflow.RegisterOptions{Name: activities.OnDemandRefreshWorkflowName})

	for name, fn := range map[string]any{
		activities.FindStaleExtractsName:     acts.FindStaleExtracts,
		activities.StartExtractRefreshesName: acts.StartExtractRefreshes,
		activities.LatestExtractRefreshName:  acts.LatestExtractRefresh,
		activities.RequestExtractRefreshName: acts.RequestExtractRefresh,
		activities.GetRefreshJobName:         acts.GetRefreshJob,
		activities.CancelRefreshJobName:      acts.CancelRefreshJob,
		activities.StartOnDemandRefreshName:  acts.StartOnDemandRefresh,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}
