package tableau_test

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// fakeClock is the simulator's clock, moved by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startJobSim(t *testing.T) (*tableausim.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)}
	site := testSimSite(tableausim.Settings{
		JobQueued:       tableausim.Duration(time.Minute),
		JobRuns:         tableausim.Duration(2 * time.Minute),
		RefreshOutcomes: map[string]tableausim.Outcome{wbFinance: tableausim.OutcomeFailure},
	})
	return startSim(t, site, tableausim.WithClock(clock.Now)), clock
}

// jobView is what the tests compare of a Job: times depend on the
// simulator's clock and are checked separately.
var ignoreJobTimes = cmpopts.IgnoreFields(tableau.Job{}, "ID", "Type", "CreatedAt", "StartedAt", "CompletedAt", "Notes", "Progress")

func TestRefreshWorkbookLifecycle(t *testing.T) {
	sim, clock := startJobSim(t)
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	job, err := h.client.RefreshWorkbook(ctx, wbOrders)
	if h.checkErr(t, err) != nil {
		t.Fatalf("RefreshWorkbook: %v", err)
	}
	want := tableau.Job{ResourceType: "workbook", ResourceLUID: wbOrders, Status: tableau.JobQueued}
	if diff := cmp.Diff(want, job, ignoreJobTimes); diff != "" {
		t.Errorf("new job (-want +got):\n%s", diff)
	}
	if job.ID == "" || job.CreatedAt.IsZero() {
		t.Errorf("job %+v lacks an ID or creation time", job)
	}

	again, err := h.client.RefreshWorkbook(ctx, wbOrders)
	if h.checkErr(t, err) != nil {
		t.Fatalf("second RefreshWorkbook: %v", err)
	}
	if again.ID != job.ID || !again.AlreadyQueued {
		t.Errorf("second refresh = %+v, want the queued job %s adopted", again, job.ID)
	}
	if n := len(sim.Jobs()); n != 1 {
		t.Errorf("simulator has %d jobs, want 1", n)
	}

	steps := []struct {
		advance time.Duration
		status  tableau.JobStatus
		finish  *int
	}{
		{90 * time.Second, tableau.JobInProgress, nil},
		{2 * time.Minute, tableau.JobSucceeded, intPtr(0)},
	}
	for _, step := range steps {
		clock.Advance(step.advance)
		got, err := h.client.GetJob(ctx, job.ID)
		if h.checkErr(t, err) != nil {
			t.Fatalf("GetJob: %v", err)
		}
		want := tableau.Job{ResourceType: "workbook", ResourceLUID: wbOrders, Status: step.status, FinishCode: step.finish}
		if diff := cmp.Diff(want, got, ignoreJobTimes); diff != "" {
			t.Errorf("job after %v (-want +got):\n%s", step.advance, diff)
		}
		if got.StartedAt.IsZero() {
			t.Errorf("job after %v has no start time", step.advance)
		}
		if step.status.Done() && got.CompletedAt.IsZero() {
			t.Errorf("finished job has no completion time")
		}
	}
}

func TestRefreshOutcomes(t *testing.T) {
	sim, clock := startJobSim(t)
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	failing, err := h.client.RefreshWorkbook(ctx, wbFinance)
	if h.checkErr(t, err) != nil {
		t.Fatalf("RefreshWorkbook: %v", err)
	}
	ds, err := h.client.RefreshDatasource(ctx, pdsSales)
	if h.checkErr(t, err) != nil {
		t.Fatalf("RefreshDatasource: %v", err)
	}
	if ds.ResourceType != "datasource" || ds.ResourceLUID != pdsSales {
		t.Errorf("data source job = %+v", ds)
	}
	if err := h.client.CancelJob(ctx, ds.ID); h.checkErr(t, err) != nil {
		t.Fatalf("CancelJob: %v", err)
	}
	clock.Advance(5 * time.Minute)

	tests := []struct {
		id     string
		status tableau.JobStatus
		finish int
	}{
		{failing.ID, tableau.JobFailed, 1},
		{ds.ID, tableau.JobCancelled, 2},
	}
	for _, tt := range tests {
		got, err := h.client.GetJob(ctx, tt.id)
		if h.checkErr(t, err) != nil {
			t.Fatalf("GetJob(%s): %v", tt.id, err)
		}
		if got.Status != tt.status || got.FinishCode == nil || *got.FinishCode != tt.finish {
			t.Errorf("job %s = %s finishCode %v, want %s %d", tt.id, got.Status, got.FinishCode, tt.status, tt.finish)
		}
	}
	// Cancelling a finished job is not an error.
	if err := h.client.CancelJob(ctx, failing.ID); h.checkErr(t, err) != nil {
		t.Errorf("CancelJob of a finished job: %v", err)
	}
}

func TestRefreshErrors(t *testing.T) {
	tests := []struct {
		name       string
		luid       string
		fault      *tableausim.Fault
		kind       error
		retryable  bool
		retryAfter time.Duration
	}{
		{"no extract", wbLive, nil, tableau.ErrNoExtract, false, 0},
		{"unknown workbook", "99999999-0000-4000-8000-000000000000", nil, tableau.ErrNotFound, false, 0},
		{"429 refresh limit", wbOrders, &tableausim.Fault{Kind: tableausim.KindRefresh, Status: http.StatusTooManyRequests, RetryAfter: 30 * time.Second}, tableau.ErrRateLimited, true, 30 * time.Second},
		{"503", wbOrders, &tableausim.Fault{Kind: tableausim.KindRefresh, Status: http.StatusServiceUnavailable}, tableau.ErrServer, true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim, _ := startJobSim(t)
			h := newHarness(t, sim, nil)
			if tt.fault != nil {
				sim.InjectFault(*tt.fault)
			}
			_, err := h.client.RefreshWorkbook(context.Background(), tt.luid)
			if h.checkErr(t, err) == nil {
				t.Fatal("RefreshWorkbook succeeded")
			}
			if !errors.Is(err, tt.kind) || tableau.IsRetryable(err) != tt.retryable {
				t.Errorf("error %v: want %v with retryable %v", err, tt.kind, tt.retryable)
			}
			if d, _ := tableau.RetryAfter(err); d != tt.retryAfter {
				t.Errorf("RetryAfter = %v, want %v", d, tt.retryAfter)
			}
			// A refresh is not repeated by the client: the caller decides.
			if n := sim.Count(tableausim.KindRefresh); n != 1 {
				t.Errorf("refresh requests = %d, want 1", n)
			}
		})
	}
}

func TestRefreshAfterSessionExpiry(t *testing.T) {
	sim, _ := startJobSim(t)
	h := newHarness(t, sim, nil)
	ctx := context.Background()
	if _, err := h.client.GetJob(ctx, "00000000-0000-4000-8000-000000000000"); !errors.Is(err, tableau.ErrNotFound) {
		t.Fatalf("GetJob of an unknown job = %v, want ErrNotFound", err)
	}
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindRefresh, ExpireSession: true})

	job, err := h.client.RefreshWorkbook(ctx, wbOrders)
	if h.checkErr(t, err) != nil {
		t.Fatalf("RefreshWorkbook after session expiry: %v", err)
	}
	if job.Status != tableau.JobQueued {
		t.Errorf("job = %+v, want queued", job)
	}
	if n := sim.Count(tableausim.KindSignIn); n != 2 {
		t.Errorf("sign-ins = %d, want 2", n)
	}
	if n := len(sim.Jobs()); n != 1 {
		t.Errorf("simulator has %d jobs, want 1", n)
	}
}

func intPtr(v int) *int { return &v }
