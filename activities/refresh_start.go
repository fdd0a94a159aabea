package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
)

// StartExtractRefreshes starts one ExposureRefreshWorkflow per stored
// request, or attaches to the one that already runs for the same extract.
// The workflow ID is refresh-<extract LUID> and the conflict policy
// USE_EXISTING, so two dbt runs that find the same extract stale share one
// Tableau refresh. Child workflows cannot do this, because a child start
// fails when its ID is taken by a running workflow. Starting again is safe,
// and a retried activity resumes after the last request its heartbeat
// recorded.
func (a *Activities) StartExtractRefreshes(ctx context.Context, in StartRefreshesInput) (StartRefreshesResult, error) {
	logger := activity.GetLogger(ctx)
	requests, err := a.LoadRefreshRequests(in.Requests)
	if err != nil {
		return StartRefreshesResult{}, err
	}
	c := activity.GetClient(ctx)
	taskQueue := a.Settings.TaskQueue
	if taskQueue == "" {
		taskQueue = activity.GetInfo(ctx).TaskQueue
	}

	var res StartRefreshesResult
	if activity.HasHeartbeatDetails(ctx) {
		if err := activity.GetHeartbeatDetails(ctx, &res); err != nil {
			logger.Warn("ignoring unreadable heartbeat details; starting from the first request", "error", err)
			res = StartRefreshesResult{}
		}
	}
	for _, req := range requests[min(res.Started, len(requests)):] {
		id := RefreshWorkflowID(req.ExtractLUID)
		if req.MinInterval > 0 {
			last, err := lastRefreshByUs(ctx, c, id)
			if err != nil {
				return res, err
			}
			req.LastRefreshByUs = last
		}

		run, err := c.ExecuteWorkflow(ctx, RefreshStartOptions(req, taskQueue), ExposureRefreshWorkflowName, req)
		if err != nil {
			return res, fmt.Errorf("starting refresh workflow %s: %w", id, err)
		}

		logger.Info("refresh workflow running", "workflow_id", id, "run_id", run.GetRunID(),
			"extract_luid", req.ExtractLUID, "dbt_run_id", req.DbtRunID)
		res.Started++
		if len(res.Workflows) < MaxListedRefreshes {
			res.Workflows = append(res.Workflows, StartedRefresh{WorkflowID: id, RunID: run.GetRunID()})
		}
		activity.RecordHeartbeat(ctx, res)
	}
	return res, nil
}

// RefreshStartOptions returns the options that start the refresh workflow
// of req, or attach to the one that runs for the same extract. The ID is
// refresh-<extract LUID> and the conflict policy USE_EXISTING. A closed
// refresh of the extract does not block a new one.
func RefreshStartOptions(req RefreshRequest, taskQueue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{
		ID:                       RefreshWorkflowID(req.ExtractLUID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		StaticSummary:            RefreshSummary(req),
		StaticDetails:            refreshStaticDetails(req),
	}
}

// lastRefreshByUs returns when the last refresh workflow of id finished a
// Tableau job with success, or nil when it did not or there is none.
// Closed workflows stay readable for the namespace's retention period.
func lastRefreshByUs(ctx context.Context, c client.Client, id string) (*time.Time, error) {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		var notFound *serviceerror.NotFound
		if errors.As(err, &notFound) {
			return nil, nil
		}
		return nil, fmt.Errorf("describing workflow %s: %w", id, err)
	}
	info := desc.GetWorkflowExecutionInfo()
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
		return nil, nil
	}

	var last RefreshResult
	if err := c.GetWorkflow(ctx, id, info.GetExecution().GetRunId()).Get(ctx, &last); err != nil {
		return nil, fmt.Errorf("reading the result of workflow %s: %w", id, err)
	}
	if last.Outcome != OutcomeSucceeded {
		return nil, nil
	}
	done := last.CompletedAt
	if done.IsZero() {
		done = info.GetCloseTime().AsTime()
	}
	return &done, nil
}

// refreshStaticDetails is the Markdown the Web UI shows under a refresh
// workflow's summary.
func refreshStaticDetails(req RefreshRequest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "**%s**\n\n", ExtractLabel(req.Kind, req.Name, req.ExtractLUID, req.Exposure))
	if req.DbtRunID != "" {
		fmt.Fprintf(&b, "dbt run `%s` rebuilt it at %s.\n\n", req.DbtRunID, req.RebuiltAt.UTC().Format(time.RFC3339))
	}
	if len(req.Models) > 0 {
		fmt.Fprintf(&b, "Models: %s", strings.Join(req.Models, ", "))
		if req.ModelCount > len(req.Models) {
			fmt.Fprintf(&b, " and %d more", req.ModelCount-len(req.Models))
		}
		b.WriteString("\n\n")
	}
	if n := max(req.WorkbookCount, len(req.WorkbookLUIDs)); n > 0 {
		fmt.Fprintf(&b, "Workbooks served: %d\n\n", n)
	}
	if req.LastRefresh != nil {
		fmt.Fprintf(&b, "Last refresh in the snapshot: %s\n\n", req.LastRefresh.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, "Minimum interval: %s", req.MinInterval)
	return b.String()
}
