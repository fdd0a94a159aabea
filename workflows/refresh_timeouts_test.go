package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/activities"
)

// The activities that make one Tableau call time out soon enough that a
// worker restart in the middle of one delays the refresh by seconds, not
// minutes: at most 30 s, which fits one request with the client's retries.
func TestRefreshWorkflowTableauCallTimeouts(t *testing.T) {
	env := newRefreshEnv(t)
	var mu sync.Mutex
	timeouts := map[string]time.Duration{}
	record := func(ctx context.Context) {
		info := activity.GetInfo(ctx)
		mu.Lock()
		defer mu.Unlock()
		timeouts[info.ActivityType.Name] = info.StartToCloseTimeout
	}
	env.OnActivity(activities.LatestExtractRefreshName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.RefreshRequest) (activities.ExtractFreshness, error) {
			record(ctx)
			return activities.ExtractFreshness{}, nil
		})
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ activities.RefreshRequest) (activities.RefreshStart, error) {
			record(ctx)
			return activities.RefreshStart{Job: activities.JobState{ID: "job-7", Status: "queued"}}, nil
		})
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, id string) (activities.JobState, error) {
			record(ctx)
			return activities.JobState{ID: id, Status: "in_progress"}, nil
		})
	env.OnActivity(activities.CancelRefreshJobName, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, _ string) error {
			record(ctx)
			return nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, 3*time.Minute)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "wb-1", Kind: activities.KindWorkbook, WorkbookLUIDs: []string{"wb-1"}, MinInterval: time.Hour,
	})

	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Errorf("workflow error = %v, want cancelled", err)
	}
	for _, name := range []string{activities.LatestExtractRefreshName, activities.RequestExtractRefreshName, activities.GetRefreshJobName, activities.CancelRefreshJobName} {
		got, ok := timeouts[name]
		if !ok {
			t.Errorf("%s did not run", name)
			continue
		}
		if got <= 0 || got > 30*time.Second {
			t.Errorf("%s start-to-close timeout = %s, want at most 30s", name, got)
		}
	}
}
