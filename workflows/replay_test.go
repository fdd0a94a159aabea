package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays histories recorded from real runs on
// a dev server (devserver_test.go writes them), so that a change to a
// workflow that would break running workflows fails here.
func TestReplayRecordedHistories(t *testing.T) {
	tests := []struct {
		file         string
		workflowType string
	}{
		{"job_lineage_first_run.json", JobLineageWorkflowName},
		// Recorded before the first sync's selection was resolved: runs
		// started then must still replay.
		{"job_lineage_first_run_unversioned.json", JobLineageWorkflowName},
		{"collection_sync_snapshot_only.json", CollectionSyncWorkflowName},
		{"collection_sync.json", CollectionSyncWorkflowName},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(CollectionSyncWorkflow, workflow.RegisterOptions{Name: CollectionSyncWorkflowName})
			replayer.RegisterWorkflowWithOptions(JobLineageWorkflow, workflow.RegisterOptions{Name: JobLineageWorkflowName})

			err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", tt.file))

			if err != nil {
				t.Errorf("replaying %s: %v", tt.file, err)
			}
		})
	}
}
