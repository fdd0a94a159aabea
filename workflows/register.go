package workflows

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

// extensions register further workflows and activities. A file that adds a
// flow appends its registration in init, so Register needs no change.
var extensions []func(worker.Registry, *activities.Activities)

// Register registers every workflow and activity on w under its stable
// name; acts provides the activities.
func Register(w worker.Registry, acts *activities.Activities) {
	w.RegisterWorkflowWithOptions(CollectionSyncWorkflow, workflow.RegisterOptions{Name: CollectionSyncWorkflowName})
	w.RegisterWorkflowWithOptions(JobLineageWorkflow, workflow.RegisterOptions{Name: JobLineageWorkflowName})

	for name, fn := range map[string]any{
		activities.ListWorkbooksName:    acts.ListWorkbooks,
		activities.ReadLineageName:      acts.ReadLineage,
		activities.LoadArtifactsName:    acts.LoadArtifacts,
		activities.ComputeExposuresName: acts.ComputeExposures,
		activities.GetLatestName:        acts.GetLatest,
		activities.SetLatestName:        acts.SetLatest,
		activities.ResolveSelectionName: acts.ResolveSelection,
	} {
		w.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}

	for _, register := range extensions {
		register(w, acts)
	}
}
