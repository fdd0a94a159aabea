package activities

import (
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// simClock is the simulator's clock, moved by the tests instead of sleeping.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// simRefresh is a simulator serving the refresh fixture site, a client
// signed in to it and an activity environment with the refresh activities.
type simRefresh struct {
	sim   *tableausim.Server
	clock *simClock
	env   *testsuite.TestActivityEnvironment
	a     *Activities
}

const simSecret = "refresh-test-secret-3f9a"

func newSimRefresh(t *testing.T, configure func(*tableausim.Settings)) *simRefresh {
	t.Helper()
	site, err := tableausim.LoadSite(refreshSitePath)
	if err != nil {
		t.Fatalf("LoadSite: %v", err)
	}
	site.Simulator.Tokens = []tableausim.Token{{Name: "refresh-test", Secret: simSecret}}
	site.Simulator.JobQueued = tableausim.Duration(30 * time.Second)
	site.Simulator.JobRuns = tableausim.Duration(2 * time.Minute)
	if configure != nil {
		configure(&site.Simulator)
	}

	clock := &simClock{now: time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)}
	sim := tableausim.New(site, tableausim.WithClock(clock.Now))
	if err := sim.Start(); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)

	client, err := tableau.New(tableau.Config{
		ServerURL:   sim.URL(),
		Site:        site.Site,
		TokenName:   "refresh-test",
		TokenSecret: simSecret,
	}, tableau.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	if err != nil {
		t.Fatalf("tableau.New: %v", err)
	}

	a := &Activities{Tableau: client}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a.LatestExtractRefresh)
	env.RegisterActivity(a.RequestExtractRefresh)
	env.RegisterActivity(a.GetRefreshJob)
	env.RegisterActivity(a.CancelRefreshJob)
	return &simRefresh{sim: sim, clock: clock, env: env, a: a}
}

func (s *simRefresh) request(t *testing.T, req RefreshRequest) (RefreshStart, error) {
	t.Helper()
	val, err := s.env.ExecuteActivity(s.a.RequestExtractRefresh, req)
	if err != nil {
		return RefreshStart{}, err
	}
	var start RefreshStart
	if err := val.Get(&start); err != nil {
		t.Fatalf("decoding RefreshStart: %v", err)
	}
	return start, nil
}

func (s *simRefresh) job(t *testing.T, id string) JobState {
	t.Helper()
	val, err := s.env.ExecuteActivity(s.a.GetRefreshJob, id)
	if err != nil {
		t.Fatalf("GetRefreshJob: %v", err)
	}
	var job JobState
	if err := val.Get(&job); err != nil {
		t.Fatalf("decoding JobState: %v", err)
	}
	return job
}

func (s *simRefresh) freshness(t *testing.T, req RefreshRequest) ExtractFreshness {
	t.Helper()
	val, err := s.env.ExecuteActivity(s.a.LatestExtractRefresh, req)
	if err != nil {
		t.Fatalf("LatestExtractRefresh: %v", err)
	}
	var fresh ExtractFreshness
	if err := val.Get(&fresh); err != nil {
		t.Fatalf("decoding ExtractFreshness: %v", err)
	}
	return fresh
}

var (
	ordersRequest = RefreshRequest{
		ExtractLUID: ordersLUID, Kind: KindWorkbook, Name: "Orders",
		WorkbookLUIDs: []string{ordersLUID}, DatasourceIDs: []string{"eds-order-items", "eds-orders"},
	}
	suppliesRequest = RefreshRequest{
		ExtractLUID: suppliesLUID, Kind: KindDatasource, Name: "Supplies",
		WorkbookLUIDs: []string{customersLUID, productsLUID},
	}
)

func TestRefreshActivitiesFollowJobToSuccess(t *testing.T) {
	for _, req := range []RefreshRequest{ordersRequest, suppliesRequest} {
		t.Run(req.Kind, func(t *testing.T) {
			s := newSimRefresh(t, nil)
			before := s.freshness(t, req)

			start, err := s.request(t, req)
			if err != nil {
				t.Fatalf("RequestExtractRefresh: %v", err)
			}
			if start.Job.ID == "" || start.Job.Status != "queued" || start.Adopted {
				t.Fatalf("start = %+v, want a new queued job", start)
			}

			s.clock.Advance(time.Minute)
			if got := s.job(t, start.Job.ID); got.Status != "in_progress" {
				t.Errorf("after 1m: status %q, want in_progress", got.Status)
			}
			s.clock.Advance(2 * time.Minute)
			done := s.job(t, start.Job.ID)
			if done.Status != "succeeded" || done.FinishCode == nil || *done.FinishCode != 0 {
				t.Errorf("after 3m: status %q, finish code %v; want succeeded, 0", done.Status, done.FinishCode)
			}

			// The refresh time Tableau reports moved to the job's end.
			after := s.freshness(t, req)
			if !after.Found || after.LastRefresh == nil || before.LastRefresh == nil || !after.LastRefresh.After(*before.LastRefresh) {
				t.Errorf("refresh time before %v, after %v (found %v); want a later time after the job", before.LastRefresh, after.LastRefresh, after.Found)
			}
			if got := s.sim.Count(tableausim.KindRefresh); got != 1 {
				t.Errorf("refresh requests = %d, want 1", got)
			}
		})
	}
}

func TestRefreshActivitiesAdoptQueuedJob(t *testing.T) {
	s := newSimRefresh(t, nil)
	first, err := s.request(t, suppliesRequest)
	if err != nil {
		t.Fatalf("first request: %v", err)
	}

	second, err := s.request(t, suppliesRequest)
	if err != nil {
		t.Fatalf("second request: %v", err)
	}

	if second.Job.ID != first.Job.ID || !second.Adopted {
		t.Errorf("second request: job %q adopted %v; want job %q adopted", second.Job.ID, second.Adopted, first.Job.ID)
	}
	if got := len(s.sim.Jobs()); got != 1 {
		t.Errorf("simulator jobs = %d, want 1", got)
	}
}

func TestRefreshActivitiesNoExtract(t *testing.T) {
	s := newSimRefresh(t, nil)
	start, err := s.request(t, RefreshRequest{ExtractLUID: productsLUID, Kind: KindWorkbook, Name: "Products"})
	if err != nil {
		t.Fatalf("RequestExtractRefresh: %v", err)
	}
	if !start.NoExtract || start.Job.ID != "" {
		t.Errorf("start = %+v, want NoExtract and no job", start)
	}
}

func TestRefreshActivitiesRateLimited(t *testing.T) {
	s := newSimRefresh(t, nil)
	s.sim.InjectFault(tableausim.Fault{Kind: tableausim.KindRefresh, Status: 429, RetryAfter: 15 * time.Minute})

	start, err := s.request(t, ordersRequest)
	if err != nil {
		t.Fatalf("RequestExtractRefresh: %v", err)
	}
	if diff := cmp.Diff(RefreshStart{RateLimited: true, RetryAfter: 15 * time.Minute}, start, cmpIgnoreMessage); diff != "" {
		t.Errorf("start (-want +got):\n%s", diff)
	}
	if got := len(s.sim.Jobs()); got != 0 {
		t.Errorf("simulator jobs = %d, want 0", got)
	}
}

var cmpIgnoreMessage = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Message" }, cmp.Ignore())

func TestRefreshActivitiesFailedJob(t *testing.T) {
	s := newSimRefresh(t, func(st *tableausim.Settings) {
		st.RefreshOutcomes = map[string]tableausim.Outcome{suppliesLUID: tableausim.OutcomeFailure}
	})
	start, err := s.request(t, suppliesRequest)
	if err != nil {
		t.Fatalf("RequestExtractRefresh: %v", err)
	}

	s.clock.Advance(5 * time.Minute)
	got := s.job(t, start.Job.ID)

	if got.Status != "failed" || got.FinishCode == nil || *got.FinishCode != 1 {
		t.Errorf("status %q, finish code %v; want failed, 1", got.Status, got.FinishCode)
	}
}

func TestRefreshActivitiesCancelJob(t *testing.T) {
	s := newSimRefresh(t, nil)
	start, err := s.request(t, ordersRequest)
	if err != nil {
		t.Fatalf("RequestExtractRefresh: %v", err)
	}
	s.clock.Advance(time.Minute)

	if _, err := s.env.ExecuteActivity(s.a.CancelRefreshJob, start.Job.ID); err != nil {
		t.Fatalf("CancelRefreshJob: %v", err)
	}
	if got := s.job(t, start.Job.ID); got.Status != "cancelled" {
		t.Errorf("status after cancel = %q, want cancelled", got.Status)
	}
	// A second cancel, as after a retried activity, is no error.
	if _, err := s.env.ExecuteActivity(s.a.CancelRefreshJob, start.Job.ID); err != nil {
		t.Errorf("second CancelRefreshJob: %v", err)
	}
}

func TestRefreshActivitiesErrors(t *testing.T) {
	tests := []struct {
		name      string
		req       RefreshRequest
		token     string
		wantType  string
		retryable bool
	}{
		{
			name:     "unknown workbook",
			req:      RefreshRequest{ExtractLUID: "00000000-0000-4000-8000-00000000dead", Kind: KindWorkbook},
			wantType: ErrTypeNotFound,
		},
		{
			name:     "invalid kind",
			req:      RefreshRequest{ExtractLUID: ordersLUID, Kind: "view"},
			wantType: ErrTypeInvalidInput,
		},
		{
			name:     "wrong token secret",
			req:      ordersRequest,
			token:    "wrong-secret-77ab",
			wantType: ErrTypeInvalidCredentials,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSimRefresh(t, nil)
			secret := simSecret
			if tt.token != "" {
				secret = tt.token
				client, err := tableau.New(tableau.Config{ServerURL: s.sim.URL(), Site: "jaffle", TokenName: "refresh-test", TokenSecret: secret},
					tableau.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
				if err != nil {
					t.Fatal(err)
				}
				s.a.Tableau = client
			}

			_, err := s.request(t, tt.req)

			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("error = %v, want an application error", err)
			}
			if appErr.Type() != tt.wantType || appErr.NonRetryable() == tt.retryable {
				t.Errorf("error type %q, non-retryable %v; want %q, non-retryable %v", appErr.Type(), appErr.NonRetryable(), tt.wantType, !tt.retryable)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error contains the token secret: %v", err)
			}
		})
	}
}
