package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/autoexposures/autoexposures/testsuite/devserver"
)

// One dev server serves every test that needs Temporal. Each test uses a
// task queue and schedule ID of its own, which no worker polls unless the
// test starts one.
var (
	temporalOnce   sync.Once
	temporalServer *devserver.Server
	temporalErr    error
	temporalSeq    atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if temporalServer != nil {
		_ = temporalServer.Stop()
	}
	os.Exit(code)
}

// useTemporal points the starter at the shared dev server, with a task
// queue and schedule ID named after the test.
func useTemporal(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Temporal dev server; skipped with -short")
	}
	temporalOnce.Do(func() {
		temporalServer, temporalErr = devserver.Start(context.Background(), devserver.Options{})
	})
	if temporalErr != nil {
		t.Fatalf("starting the Temporal dev server: %v", temporalErr)
	}
	t.Setenv("TEMPORAL_ADDRESS", temporalServer.Address)
	t.Setenv("TEMPORAL_NAMESPACE", "default")
	// The sequence number keeps names apart when -count reruns a test on
	// the same server.
	name := fmt.Sprintf("%s-%d", strings.NewReplacer("/", "-", " ", "-").Replace(t.Name()), temporalSeq.Add(1))
	t.Setenv("AUTOEXPOSURES_TASK_QUEUE", "test-"+name)
	t.Setenv("AUTOEXPOSURES_SCHEDULE_ID", "schedule-"+name)
}

// runStarter runs the CLI with args and returns its exit code and output.
func runStarter(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func wantRun(t *testing.T, args []string, wantCode int, wantStderr ...string) string {
	t.Helper()
	code, stdout, stderr := runStarter(t, args...)
	t.Logf("starter %s: exit %d\n%s%s", strings.Join(args, " "), code, stdout, stderr)
	if code != wantCode {
		t.Errorf("starter %s: exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, wantCode, stdout, stderr)
	}
	for _, want := range wantStderr {
		if !strings.Contains(stderr, want) {
			t.Errorf("starter %s: stderr does not contain %q:\n%s", strings.Join(args, " "), want, stderr)
		}
	}
	return stdout + stderr
}

func TestJobCompletedRejectsReusedRunID(t *testing.T) {
	useTemporal(t)
	const runID = "scheduled__2024-01-01T00:00:00+00:00"
	first := "http://127.0.0.1:9/a/manifest.json"
	second := "http://127.0.0.1:9/b/manifest.json"

	wantRun(t, []string{"job-completed", "--run-id", runID, "--manifest", first, "--no-wait"}, exitOK)
	wantRun(t, []string{"job-completed", "--run-id", runID, "--manifest", second, "--no-wait"}, exitFailure,
		fmt.Sprintf("run ID %q was already used for other artifacts", runID),
		"manifest "+first,
		"pass a run ID that is unique per dbt run")
	wantRun(t, []string{"job-completed", "--run-id", runID, "--manifest", first, "--run-results", "http://127.0.0.1:9/a/run_results.json", "--no-wait"}, exitFailure,
		"already used for other artifacts")
	// The same artifacts again attach to the first run.
	wantRun(t, []string{"job-completed", "--run-id", runID, "--manifest", first, "--no-wait"}, exitOK)
}

func TestJobCompletedTimeoutLeavesWorkflowRunning(t *testing.T) {
	useTemporal(t)
	args := []string{"job-completed", "--run-id", "r-timeout", "--manifest", "http://127.0.0.1:9/manifest.json", "--timeout", "1s"}

	out := wantRun(t, args, exitStillRunning,
		"warning: no worker polled task queue test-TestJobCompletedTimeoutLeavesWorkflowRunning-",
		"stopped waiting after 1s; workflow lineage-r-timeout is still running: see `starter status`")
	if strings.Contains(out, "failed") {
		t.Errorf("output calls the running workflow failed:\n%s", out)
	}
}

func TestCollectionsShowWithoutSchedule(t *testing.T) {
	useTemporal(t)
	out := wantRun(t, []string{"collections", "show"}, exitFailure, "no schedule yet: run `starter schedule`")
	if strings.Contains(out, "temporal-sys-scheduler") {
		t.Errorf("output shows the raw server error:\n%s", out)
	}
}

func TestScheduleKeepsSettingsNotGiven(t *testing.T) {
	useTemporal(t)
	steps := []struct {
		args []string
		want []string
	}{
		{[]string{"schedule", "--at", "07:30", "--time-zone", "Europe/Paris", "--catchup-window", "2h", "--collections", "Sales"},
			[]string{"daily at 07:30 Europe/Paris", "catch-up window 2h0m0s", "selection: collections Sales"}},
		{[]string{"schedule", "--projects", "Finance"},
			[]string{"daily at 07:30 Europe/Paris", "catch-up window 2h0m0s", "selection: projects Finance"}},
		{[]string{"schedule", "--at", "18:00"},
			[]string{"daily at 18:00 Europe/Paris", "catch-up window 2h0m0s", "selection: projects Finance"}},
		{[]string{"schedule", "--time-zone", "UTC", "--catchup-window", "1h"},
			[]string{"daily at 18:00 UTC", "catch-up window 1h0m0s", "selection: projects Finance"}},
	}
	for _, step := range steps {
		out := wantRun(t, step.args, exitOK)
		for _, want := range step.want {
			if !strings.Contains(out, want) {
				t.Errorf("starter %s: output does not contain %q:\n%s", strings.Join(step.args, " "), want, out)
			}
		}
	}
}

func TestJobCompletedSignalLeavesWorkflowRunning(t *testing.T) {
	useTemporal(t)
	// main cancels the context on SIGINT or SIGTERM. Here the signal
	// arrives as soon as the starter has printed that the workflow started.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := &cancelOnWrite{cancel: cancel, marker: "Workflow lineage-r-signal"}
	var stderr bytes.Buffer

	code := run(ctx, []string{"job-completed", "--run-id", "r-signal", "--manifest", "http://127.0.0.1:9/manifest.json"}, stdout, &stderr)

	if code != exitStillRunning {
		t.Errorf("exit code = %d, want %d\nstdout:\n%s\nstderr:\n%s", code, exitStillRunning, stdout.String(), stderr.String())
	}
	want := "stopped waiting (interrupted); workflow lineage-r-signal is still running"
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
	}
}

// cancelOnWrite is a buffer that calls cancel once marker is written.
type cancelOnWrite struct {
	bytes.Buffer
	cancel func()
	marker string
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	n, err := w.Buffer.Write(p)
	if strings.Contains(w.Buffer.String(), w.marker) {
		w.cancel()
	}
	return n, err
}
