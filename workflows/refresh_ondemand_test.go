package workflows

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/activities"
)

func TestOnDemandRefreshWorkflow(t *testing.T) {
	started := activities.OnDemandRefreshResult{
		Target: "exposure orders_daily: workbook \"Orders\" (wb-1)",
		Refreshes: []activities.OnDemandRefresh{
			{WorkflowID: "refresh-ds-1", RunID: "r1", ExtractLUID: "ds-1", Kind: activities.KindDatasource, Name: "Supplies"},
		},
	}
	unknown := temporal.NewNonRetryableApplicationError(`unknown exposure "orders"`, activities.ErrTypeInvalidInput, nil)
	tests := []struct {
		name    string
		result  activities.OnDemandRefreshResult
		err     error
		wantErr bool
	}{
		{name: "started", result: started},
		{name: "nothing to refresh", result: activities.OnDemandRefreshResult{Target: "workbook wb-2", NothingToRefresh: "live connections only"}},
		{name: "unknown exposure", err: unknown, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRefreshEnv(t)
			in := activities.OnDemandRefreshInput{Exposure: "orders_daily", MinInterval: time.Hour}
			var calls int
			env.OnActivity(activities.StartOnDemandRefreshName, mock.Anything, in).Return(
				func(context.Context, activities.OnDemandRefreshInput) (activities.OnDemandRefreshResult, error) {
					calls++
					return tt.result, tt.err
				})

			env.ExecuteWorkflow(activities.OnDemandRefreshWorkflowName, in)

			err := env.GetWorkflowError()
			if tt.wantErr {
				var appErr *temporal.ApplicationError
				if !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeInvalidInput {
					t.Fatalf("workflow error = %v, want an %s application error", err, activities.ErrTypeInvalidInput)
				}
				if calls != 1 {
					t.Errorf("activity ran %d times, want once: the error is not retryable", calls)
				}
				return
			}
			if err != nil {
				t.Fatalf("workflow error: %v", err)
			}
			var got activities.OnDemandRefreshResult
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.result, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
		})
	}
}
