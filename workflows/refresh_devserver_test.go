//go:build devserver

package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
	"github.com/autoexposures/autoexposures/workflows"
)

// Extracts of the refresh fixture site: the Orders workbook's embedded
// extracts, the shared Supplies data source, and Products, which is live.
const (
	devOrdersLUID   = "5b1f0c2e-0000-4000-8000-0000000000a1"
	devProductsLUID = "5b1f0c2e-0000-4000-8000-0000000000d4"
	devSuppliesLUID = "d5000000-0000-4000-8000-0000000000c3"
)

// refreshDevSite is the refresh fixture site with jobs that stay queued for
// 1 s and run for 8 s, long enough to cancel one while it runs.
func refreshDevSite(t *testing.T) *tableausim.Site {
	t.Helper()
	site, err := tableausim.LoadSite("../activities/testdata/refresh_site.json")
	if err != nil {
		t.Fatal(err)
	}
	site.Simulator.Tokens = []tableausim.Token{{Name: testTokenName, Secret: testTokenSecret}}
	site.Simulator.JobQueued = tableausim.Duration(time.Second)
	site.Simulator.JobRuns = tableausim.Duration(8 * time.Second)
	return site
}

// runRefresh starts the refresh workflow of req the way the trigger does
// and returns its result.
func (h *harness) runRefresh(t *testing.T, req activities.RefreshRequest) (activities.RefreshResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	run, err := h.client.ExecuteWorkflow(ctx, activities.RefreshStartOptions(req, testTaskQueue), activities.ExposureRefreshWorkflowName, req)
	if err != nil {
		t.Fatalf("starting %s: %v", activities.RefreshWorkflowID(req.ExtractLUID), err)
	}
	var res activities.RefreshResult
	err = run.Get(ctx, &res)
	return res, err
}

func TestDevServerRefresh(t *testing.T) {
	h := startHarness(t, refreshDevSite(t), 100)
	old := time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC)
	orders := activities.RefreshRequest{
		ExtractLUID: devOrdersLUID, Kind: activities.KindWorkbook, Name: "Orders",
		WorkbookLUIDs: []string{devOrdersLUID}, DbtRunID: "devserver-refresh",
		LastRefresh: &old, MinInterval: 24 * time.Hour,
	}

	t.Run("succeeded", func(t *testing.T) {
		res, err := h.runRefresh(t, orders)
		if err != nil {
			t.Fatalf("refresh failed: %v", err)
		}
		if res.Outcome != activities.OutcomeSucceeded || res.JobID == "" || res.Polls < 2 {
			t.Errorf("outcome %q, job %q, %d polls; want succeeded after at least 2 polls", res.Outcome, res.JobID, res.Polls)
		}
		h.checkHistory(t, activities.RefreshWorkflowID(devOrdersLUID), "refresh_succeeded.json")
	})

	t.Run("skipped after our refresh", func(t *testing.T) {
		res, err := h.runRefresh(t, orders)
		if err != nil {
			t.Fatalf("refresh failed: %v", err)
		}
		if res.Outcome != activities.OutcomeSkipped || res.JobID != "" {
			t.Errorf("outcome %q (%s), job %q; want skipped without a job", res.Outcome, res.SkipReason, res.JobID)
		}
		if got := h.sim.Count(tableausim.KindRefresh); got != 1 {
			t.Errorf("Tableau refresh requests = %d, want 1", got)
		}
		h.checkHistory(t, activities.RefreshWorkflowID(devOrdersLUID), "refresh_skipped.json")
	})

	t.Run("no extract", func(t *testing.T) {
		res, err := h.runRefresh(t, activities.RefreshRequest{ExtractLUID: devProductsLUID, Kind: activities.KindWorkbook, Name: "Products"})
		if err != nil {
			t.Fatalf("refresh failed: %v", err)
		}
		if res.Outcome != activities.OutcomeSkipped {
			t.Errorf("outcome %q, want skipped", res.Outcome)
		}
	})

	t.Run("cancel cancels the Tableau job", func(t *testing.T) {
		ctx := context.Background()
		req := activities.RefreshRequest{ExtractLUID: devSuppliesLUID, Kind: activities.KindDatasource, Name: "Supplies"}
		id := activities.RefreshWorkflowID(devSuppliesLUID)
		run, err := h.client.ExecuteWorkflow(ctx, activities.RefreshStartOptions(req, testTaskQueue), activities.ExposureRefreshWorkflowName, req)
		if err != nil {
			t.Fatal(err)
		}

		// Cancel once the workflow follows a job, as an operator would from
		// the Web UI.
		deadline := time.Now().Add(time.Minute)
		for {
			var p workflows.RefreshProgress
			v, err := h.client.QueryWorkflow(ctx, id, "", workflows.RefreshProgressQuery)
			if err == nil && v.Get(&p) == nil && p.JobID != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the workflow followed no job within a minute (last query error: %v)", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err := h.client.CancelWorkflow(ctx, id, ""); err != nil {
			t.Fatal(err)
		}

		var canceled *temporal.CanceledError
		if err := run.Get(ctx, nil); !errors.As(err, &canceled) {
			t.Errorf("workflow error = %v, want cancelled", err)
		}
		jobs := h.sim.Jobs()
		if len(jobs) == 0 || jobs[len(jobs)-1].ResourceLUID != devSuppliesLUID || jobs[len(jobs)-1].State != tableausim.JobCancelled {
			t.Errorf("simulator jobs = %+v, want the Supplies job cancelled", jobs)
		}
		h.checkHistory(t, id, "refresh_cancelled.json")
	})

	t.Run("cancel during the request cancels the job", func(t *testing.T) {
		ctx := context.Background()
		req := activities.RefreshRequest{ExtractLUID: devOrdersLUID, Kind: activities.KindWorkbook, Name: "Orders"}
		id := activities.RefreshWorkflowID(devOrdersLUID)
		// Tableau takes 3 s to respond to the refresh request, and the workflow
		// is cancelled while it waits.
		h.sim.InjectFault(tableausim.Fault{Kind: tableausim.KindRefresh, Latency: 3 * time.Second})
		jobsBefore := len(h.sim.Jobs())
		run, err := h.client.ExecuteWorkflow(ctx, activities.RefreshStartOptions(req, testTaskQueue), activities.ExposureRefreshWorkflowName, req)
		if err != nil {
			t.Fatal(err)
		}
		waitForRefreshPhase(t, h, id, "requesting")
		time.Sleep(time.Second)
		if err := h.client.CancelWorkflow(ctx, id, ""); err != nil {
			t.Fatal(err)
		}

		var canceled *temporal.CanceledError
		if err := run.Get(ctx, nil); !errors.As(err, &canceled) {
			t.Errorf("workflow error = %v, want cancelled", err)
		}
		jobs := h.sim.Jobs()
		if len(jobs) != jobsBefore+1 || jobs[len(jobs)-1].State != tableausim.JobCancelled {
			t.Errorf("simulator jobs = %+v, want one more, cancelled", jobs)
		}
	})
}

// waitForRefreshPhase polls the progress query until the refresh workflow
// id reaches phase.
func waitForRefreshPhase(t *testing.T, h *harness, id, phase string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		var p workflows.RefreshProgress
		v, err := h.client.QueryWorkflow(context.Background(), id, "", workflows.RefreshProgressQuery)
		if err == nil && v.Get(&p) == nil && p.Phase == phase {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not reach phase %s within a minute (last query error: %v)", id, phase, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestDevServerOnDemandRefresh(t *testing.T) {
	h := startHarness(t, refreshDevSite(t), 100)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	// With no snapshot in the store the worker refreshes the workbook
	// itself, as `starter refresh --workbook` does on a new deployment.
	id := "ondemand-refresh-devserver"
	in := activities.OnDemandRefreshInput{WorkbookLUID: devOrdersLUID}
	run, err := h.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: testTaskQueue},
		activities.OnDemandRefreshWorkflowName, in)
	if err != nil {
		t.Fatalf("starting %s: %v", id, err)
	}
	var res activities.OnDemandRefreshResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("on-demand refresh failed: %v", err)
	}

	if len(res.Refreshes) != 1 || res.Refreshes[0].ExtractLUID != devOrdersLUID {
		t.Fatalf("refreshes = %+v, want one of workbook %s", res.Refreshes, devOrdersLUID)
	}
	var refreshed activities.RefreshResult
	if err := h.client.GetWorkflow(ctx, res.Refreshes[0].WorkflowID, res.Refreshes[0].RunID).Get(ctx, &refreshed); err != nil {
		t.Fatalf("refresh workflow %s failed: %v", res.Refreshes[0].WorkflowID, err)
	}
	if refreshed.Outcome != activities.OutcomeSucceeded {
		t.Errorf("refresh outcome %q (%s), want succeeded", refreshed.Outcome, refreshed.SkipReason)
	}
	h.checkHistory(t, id, "ondemand_refresh.json")
}
