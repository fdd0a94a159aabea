package workflows

import (
	"path/filepath"
	"testing"

	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

// TestReplayRefreshHistories replays refresh histories recorded on a dev
// server (refresh_devserver_test.go records them with
// AUTOEXPOSURES_RECORD_HISTORIES=1), so that a change that would break
// running refreshes fails here.
func TestReplayRefreshHistories(t *testing.T) {
	for _, file := range []string{"refresh_succeeded.json", "refresh_skipped.json", "refresh_cancelled.json"} {
		t.Run(file, func(t *testing.T) {
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(ExposureRefreshWorkflow, workflow.RegisterOptions{Name: activities.ExposureRefreshWorkflowName})

			err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", file))

			if err != nil {
				t.Errorf("replaying %s: %v", file, err)
			}
		})
	}
}

// TestReplayOnDemandRefreshHistory replays an on-demand refresh recorded by
// TestDevServerOnDemandRefresh.
func TestReplayOnDemandRefreshHistory(t *testing.T) {
	replayer := worker.NewWorkflowReplayer()
	replayer.RegisterWorkflowWithOptions(OnDemandRefreshWorkflow, workflow.RegisterOptions{Name: activities.OnDemandRefreshWorkflowName})

	err := replayer.ReplayWorkflowHistoryFromJSONFile(nil, filepath.Join("testdata", "ondemand_refresh.json"))

	if err != nil {
		t.Errorf("replaying ondemand_refresh.json: %v", err)
	}
}
