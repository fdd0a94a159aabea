package workflows

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/activities"
)

// refreshStart is the workflow clock's start in these tests.
var refreshStart = time.Date(2026, 9, 1, 8, 0, 0, 0, time.UTC)

// newRefreshEnv returns a test environment with the refresh workflow and
// its activities registered under their names, for mocking.
func newRefreshEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(refreshStart)
	// The worker's registration, so that the names under test are the
	// names the worker uses.
	registerRefresh(env, &activities.Activities{})
	return env
}

func beforeStart(d time.Duration) *time.Time {
	t := refreshStart.Add(-d)
	return &t
}

func jobFinishCode(c int) *int { return &c }

// jobSequence returns GetRefreshJob results in order, repeating the last,
// and records the workflow time of each poll.
type jobSequence struct {
	env    *testsuite.TestWorkflowEnvironment
	states []activities.JobState
	polls  []time.Time
}

func (s *jobSequence) next(context.Context, string) (activities.JobState, error) {
	s.polls = append(s.polls, s.env.Now())
	i := min(len(s.polls), len(s.states)) - 1
	return s.states[i], nil
}

func TestRefreshWorkflowOutcomes(t *testing.T) {
	workbook := activities.RefreshRequest{
		ExtractLUID:   "wb-1",
		Kind:          activities.KindWorkbook,
		Name:          "Orders",
		WorkbookLUIDs: []string{"wb-1"},
		DbtRunID:      "run-1",
		LastRefresh:   beforeStart(72 * time.Hour),
		MinInterval:   24 * time.Hour,
	}
	queued := activities.JobState{ID: "job-1", Status: "queued"}
	running := activities.JobState{ID: "job-1", Status: "in_progress", Progress: 40}
	done := activities.JobState{ID: "job-1", Status: "succeeded", FinishCode: jobFinishCode(0), CompletedAt: refreshStart.Add(time.Hour)}
	failed := activities.JobState{ID: "job-1", Status: "failed", FinishCode: jobFinishCode(1), Notes: []string{"Unable to connect to the warehouse"}}

	tests := []struct {
		name     string
		in       activities.RefreshRequest
		fresh    activities.ExtractFreshness
		starts   []activities.RefreshStart
		jobs     []activities.JobState
		want     activities.RefreshResult
		wantSkip string // substring of SkipReason
		requests int
	}{
		{
			name:     "stale extract refreshed",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			starts:   []activities.RefreshStart{{Job: queued}},
			jobs:     []activities.JobState{running, done},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSucceeded, JobID: "job-1", FinishCode: jobFinishCode(0), CompletedAt: done.CompletedAt, Polls: 2},
			requests: 1,
		},
		{
			name:     "skipped within interval per snapshot",
			in:       withLastRefresh(workbook, beforeStart(3*time.Hour)),
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(3 * time.Hour)},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSkipped},
			wantSkip: "refreshed at 2026-09-01T05:00:00Z (per the snapshot), within the minimum interval of 24h0m0s",
		},
		{
			name:     "skipped within interval per Tableau",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(10 * time.Minute)},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSkipped},
			wantSkip: "(per Tableau)",
		},
		{
			name: "skipped within interval after our refresh",
			in: func() activities.RefreshRequest {
				r := workbook
				r.LastRefreshByUs = beforeStart(time.Hour)
				return r
			}(),
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSkipped},
			wantSkip: "per a refresh by autoexposures",
		},
		{
			name: "zero interval always refreshes",
			in: func() activities.RefreshRequest {
				r := withLastRefresh(workbook, beforeStart(time.Minute))
				r.MinInterval = 0
				return r
			}(),
			starts:   []activities.RefreshStart{{Job: queued}},
			jobs:     []activities.JobState{done},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSucceeded, JobID: "job-1", FinishCode: jobFinishCode(0), CompletedAt: done.CompletedAt, Polls: 1},
			requests: 1,
		},
		{
			name:     "already queued job adopted",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			starts:   []activities.RefreshStart{{Job: running, Adopted: true}},
			jobs:     []activities.JobState{done},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSucceeded, JobID: "job-1", Adopted: true, FinishCode: jobFinishCode(0), CompletedAt: done.CompletedAt, Polls: 1},
			requests: 1,
		},
		{
			name:     "no extract skipped",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			starts:   []activities.RefreshStart{{NoExtract: true, Message: "the workbook has no extract to refresh"}},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSkipped},
			wantSkip: "no extract to refresh",
			requests: 1,
		},
		{
			name:     "failed job reported once",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			starts:   []activities.RefreshStart{{Job: queued}},
			jobs:     []activities.JobState{running, failed},
			want:     activities.RefreshResult{Outcome: activities.OutcomeFailed, JobID: "job-1", FinishCode: jobFinishCode(1), Notes: failed.Notes, Polls: 2},
			requests: 1,
		},
		{
			name:     "cancelled by Tableau",
			in:       workbook,
			fresh:    activities.ExtractFreshness{Found: true, LastRefresh: beforeStart(72 * time.Hour)},
			starts:   []activities.RefreshStart{{Job: queued}},
			jobs:     []activities.JobState{{ID: "job-1", Status: "cancelled", FinishCode: jobFinishCode(2)}},
			want:     activities.RefreshResult{Outcome: activities.OutcomeCancelled, JobID: "job-1", FinishCode: jobFinishCode(2), Polls: 1},
			requests: 1,
		},
		{
			name: "published data source without workbook read",
			in: activities.RefreshRequest{
				ExtractLUID: "ds-1", Kind: activities.KindDatasource, Name: "Shared orders",
				LastRefresh: beforeStart(48 * time.Hour), MinInterval: 24 * time.Hour,
			},
			starts:   []activities.RefreshStart{{Job: queued}},
			jobs:     []activities.JobState{done},
			want:     activities.RefreshResult{Outcome: activities.OutcomeSucceeded, JobID: "job-1", FinishCode: jobFinishCode(0), CompletedAt: done.CompletedAt, Polls: 1},
			requests: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newRefreshEnv(t)
			env.OnActivity(activities.LatestExtractRefreshName, mock.Anything, mock.Anything).Return(tt.fresh, nil)
			requests := 0
			env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
				func(_ context.Context, _ activities.RefreshRequest) (activities.RefreshStart, error) {
					requests++
					return tt.starts[min(requests, len(tt.starts))-1], nil
				})
			jobs := &jobSequence{env: env, states: tt.jobs}
			env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(jobs.next)

			env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, tt.in)

			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("workflow error: %v", err)
			}
			var got activities.RefreshResult
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatalf("reading result: %v", err)
			}
			if !strings.Contains(got.SkipReason, tt.wantSkip) {
				t.Errorf("SkipReason = %q, want it to contain %q", got.SkipReason, tt.wantSkip)
			}
			want := tt.want
			want.ExtractLUID, want.Kind, want.Name = tt.in.ExtractLUID, tt.in.Kind, tt.in.Name
			got.SkipReason = ""
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if requests != tt.requests {
				t.Errorf("refresh requests = %d, want %d", requests, tt.requests)
			}
		})
	}
}

func withLastRefresh(r activities.RefreshRequest, last *time.Time) activities.RefreshRequest {
	r.LastRefresh = last
	return r
}

func TestRefreshWorkflowPollBackoff(t *testing.T) {
	env := newRefreshEnv(t)
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		activities.RefreshStart{Job: activities.JobState{ID: "job-1", Status: "queued"}}, nil)
	running := activities.JobState{ID: "job-1", Status: "in_progress"}
	states := make([]activities.JobState, 9)
	for i := range states {
		states[i] = running
	}
	states = append(states, activities.JobState{ID: "job-1", Status: "succeeded", FinishCode: jobFinishCode(0)})
	jobs := &jobSequence{env: env, states: states}
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(jobs.next)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "wb-1", Kind: activities.KindWorkbook, Name: "Orders",
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}

	// Workflow time between two status reads: the durable timers back
	// off from seconds to minutes.
	var gaps []time.Duration
	prev := refreshStart
	for _, p := range jobs.polls {
		gaps = append(gaps, p.Sub(prev).Round(time.Second))
		prev = p
	}
	want := []time.Duration{
		5 * time.Second, 10 * time.Second, 20 * time.Second, 40 * time.Second, 80 * time.Second,
		160 * time.Second, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute, 5 * time.Minute,
	}
	if diff := cmp.Diff(want, gaps); diff != "" {
		t.Errorf("gaps between polls (-want +got):\n%s", diff)
	}
}

func TestRefreshWorkflowRateLimit(t *testing.T) {
	env := newRefreshEnv(t)
	var requestTimes []time.Time
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.RefreshRequest) (activities.RefreshStart, error) {
			requestTimes = append(requestTimes, env.Now())
			if len(requestTimes) <= 2 {
				return activities.RefreshStart{RateLimited: true, RetryAfter: 15 * time.Minute}, nil
			}
			return activities.RefreshStart{Job: activities.JobState{ID: "job-1", Status: "queued"}}, nil
		})
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(
		activities.JobState{ID: "job-1", Status: "succeeded", FinishCode: jobFinishCode(0)}, nil)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "ds-1", Kind: activities.KindDatasource, Name: "Shared orders",
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	var got activities.RefreshResult
	if err := env.GetWorkflowResult(&got); err != nil {
		t.Fatalf("reading result: %v", err)
	}
	if got.Outcome != activities.OutcomeSucceeded || got.RateLimitWaits != 2 {
		t.Errorf("outcome %q after %d rate limit waits, want succeeded after 2", got.Outcome, got.RateLimitWaits)
	}

	// Each new request comes as long after the 429 as Tableau asked.
	var gaps []time.Duration
	for i := 1; i < len(requestTimes); i++ {
		gaps = append(gaps, requestTimes[i].Sub(requestTimes[i-1]).Round(time.Second))
	}
	if diff := cmp.Diff([]time.Duration{15 * time.Minute, 15 * time.Minute}, gaps); diff != "" {
		t.Errorf("waits between requests (-want +got):\n%s", diff)
	}
}

func TestRefreshWorkflowRateLimitGivesUp(t *testing.T) {
	env := newRefreshEnv(t)
	requests := 0
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, _ activities.RefreshRequest) (activities.RefreshStart, error) {
			requests++
			return activities.RefreshStart{RateLimited: true}, nil
		})

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "ds-1", Kind: activities.KindDatasource,
	})

	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeRateLimited {
		t.Fatalf("workflow error = %v, want a %s application error", err, activities.ErrTypeRateLimited)
	}
	if want := maxRateLimitWaits + 1; requests != want {
		t.Errorf("refresh requests = %d, want %d", requests, want)
	}
}

func TestRefreshWorkflowCancelCancelsJob(t *testing.T) {
	env := newRefreshEnv(t)
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		activities.RefreshStart{Job: activities.JobState{ID: "job-7", Status: "queued"}}, nil)
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(
		activities.JobState{ID: "job-7", Status: "in_progress"}, nil)
	var cancelled []string
	env.OnActivity(activities.CancelRefreshJobName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, jobID string) error {
			cancelled = append(cancelled, jobID)
			return nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, 3*time.Minute)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "wb-1", Kind: activities.KindWorkbook, Name: "Orders",
	})

	if err := env.GetWorkflowError(); !temporal.IsCanceledError(err) {
		t.Errorf("workflow error = %v, want cancelled", err)
	}
	if diff := cmp.Diff([]string{"job-7"}, cancelled); diff != "" {
		t.Errorf("cancelled jobs (-want +got):\n%s", diff)
	}
}

func TestRefreshWorkflowProgressQuery(t *testing.T) {
	env := newRefreshEnv(t)
	env.OnActivity(activities.RequestExtractRefreshName, mock.Anything, mock.Anything).Return(
		activities.RefreshStart{Job: activities.JobState{ID: "job-1", Status: "queued"}}, nil)
	jobs := &jobSequence{env: env, states: []activities.JobState{
		{ID: "job-1", Status: "in_progress", Progress: 60},
		{ID: "job-1", Status: "in_progress", Progress: 60},
		{ID: "job-1", Status: "succeeded", FinishCode: jobFinishCode(0)},
	}}
	env.OnActivity(activities.GetRefreshJobName, mock.Anything, mock.Anything).Return(jobs.next)

	var during RefreshProgress
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(RefreshProgressQuery)
		if err != nil {
			t.Errorf("progress query: %v", err)
			return
		}
		if err := v.Get(&during); err != nil {
			t.Errorf("decoding progress: %v", err)
		}
	}, 12*time.Second)

	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{
		ExtractLUID: "wb-1", Kind: activities.KindWorkbook,
	})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}

	want := RefreshProgress{
		Phase: "following", ExtractLUID: "wb-1", JobID: "job-1", JobStatus: "in_progress",
		JobProgress: 60, Polls: 1, NextCheckAt: refreshStart.Add(15 * time.Second),
	}
	if diff := cmp.Diff(want, during); diff != "" {
		t.Errorf("progress after 12s (-want +got):\n%s", diff)
	}
}

func TestRefreshWorkflowRejectsInvalidRequest(t *testing.T) {
	env := newRefreshEnv(t)
	env.ExecuteWorkflow(activities.ExposureRefreshWorkflowName, activities.RefreshRequest{ExtractLUID: "wb-1", Kind: "sheet"})

	var appErr *temporal.ApplicationError
	if err := env.GetWorkflowError(); !errors.As(err, &appErr) || appErr.Type() != activities.ErrTypeInvalidInput {
		t.Fatalf("workflow error = %v, want an %s application error", err, activities.ErrTypeInvalidInput)
	}
}
