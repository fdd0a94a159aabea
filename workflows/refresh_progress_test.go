package workflows

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/mock"

	"github.com/autoexposures/autoexposures/activities"
)

// After the refresh ends, the progress query that status reads shows the
// outcome and no check still to come.
func TestRefreshWorkflowProgressAfterEnd(t *testing.T) {
	env := newRefreshEnv(t)
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		activities.RefreshStart{Job: activities.JobState{ID: "job-1", Status: "queued"}}, nil)
	jobs := &jobSequence{env: env, states: []activities.JobState{
		{ID: "job-1", Status: "in_progress", Progress: 60},
		{ID: "job-1", Status: "succeeded", FinishCode: jobFinishCode(0)},
	}}
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(jobs.next)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "wb-1", Kind: activities.KindWorkbook,
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	v, err := env.QueryWorkflow(RefreshProgressQuery)
	if err != nil {
		t.Fatalf("progress query: %v", err)
	}
	var got RefreshProgress
	if err := v.Get(&got); err != nil {
		t.Fatalf("decoding progress: %v", err)
	}

	want := RefreshProgress{
		Phase: "done", ExtractLUID: "wb-1", JobID: "job-1", JobStatus: "succeeded", Polls: 2, Outcome: activities.OutcomeSucceeded,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("progress after the end (-want +got):\n%s", diff)
	}
}
