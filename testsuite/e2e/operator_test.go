package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/activities"
)

// scheduleJSON returns the schedule as the Temporal CLI describes it, with
// each base64 payload followed by its decoded text.
func (s *stack) scheduleJSON(ctx context.Context) string {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, suite.temporalCLI, "schedule", "describe",
		"--address", suite.server.Address, "--namespace", "default",
		"--schedule-id", s.taskQueue+"-schedule", "--output", "json")
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("temporal schedule describe: %v\n%s", err, out)
	}
	return decodePayloads(string(out))
}

func TestScheduleCreatedThenUpdated(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	s := newStack(t, tab.config())

	created := s.mustStarter(ctx, "schedule", "--at", "07:30", "--time-zone", "Europe/Paris",
		"--catchup-window", "2h", "--collections", "Exec dashboards")
	if !strings.Contains(created.stdout, "created") {
		t.Errorf("first schedule run did not create the schedule:\n%s", created.stdout)
	}
	for _, want := range []string{"daily at 07:30 Europe/Paris", "catch-up window 2h0m0s", "collections Exec dashboards"} {
		if !strings.Contains(created.stdout, want) {
			t.Errorf("schedule output does not contain %q:\n%s", want, created.stdout)
		}
	}

	// Running it again with another time updates the same schedule and
	// keeps the time zone, catch-up window and selection, which no flag
	// named.
	updated := s.mustStarter(ctx, "schedule", "--at", "18:05")
	if !strings.Contains(updated.stdout, "updated") {
		t.Errorf("second schedule run did not update the schedule:\n%s", updated.stdout)
	}
	for _, want := range []string{"daily at 18:05 Europe/Paris", "catch-up window 2h0m0s", "collections Exec dashboards", "overlapping runs skipped"} {
		if !strings.Contains(updated.stdout, want) {
			t.Errorf("updated schedule output does not contain %q:\n%s", want, updated.stdout)
		}
	}
	described := s.scheduleJSON(ctx)
	for _, want := range []string{"SCHEDULE_OVERLAP_POLICY_SKIP", "Exec dashboards", "CollectionSyncWorkflow", s.taskQueue} {
		if !strings.Contains(described, want) {
			t.Errorf("temporal schedule describe does not contain %q:\n%s", want, described)
		}
	}

	t.Run("collections set changes the selection and syncs", func(t *testing.T) {
		s.startWorker()
		res := s.mustStarter(ctx, "collections", "set", "Ops: weekly review")
		for _, want := range []string{"now syncs collections Ops: weekly review", "Sync finished: read 2 workbooks"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("collections set output does not contain %q:\n%s", want, res.stdout)
			}
		}
		shown := s.mustStarter(ctx, "collections", "show")
		if !strings.Contains(shown.stdout, "selection: collections Ops: weekly review") {
			t.Errorf("collections show does not list the new selection:\n%s", shown.stdout)
		}
		if strings.Contains(s.scheduleJSON(ctx), "Exec dashboards") {
			t.Error("the schedule's action still holds the old selection")
		}
	})

	t.Run("unknown collection fails clearly", func(t *testing.T) {
		res := s.starter(ctx, "sync", "--collections", "No such collection")
		if res.code == 0 {
			t.Fatalf("sync of an unknown collection exited 0:\n%s", res.stdout)
		}
		if !strings.Contains(res.stderr, "No such collection") {
			t.Errorf("error does not name the unknown collection:\n%s", res.stderr)
		}
	})
}

func TestStatusListsRecentRuns(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	s := newStack(t, tab.config())
	s.startWorker()
	runID := s.runID("e2e-status-1")
	s.mustStarter(ctx, "job-completed", "--run-id", runID,
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))

	res := s.mustStarter(ctx, "status")
	for _, want := range []string{
		"no schedule " + s.taskQueue + "-schedule",
		"completed  JobLineageWorkflow  lineage-" + runID,
		"dbt run " + runID + ": 6 exposures: 6 added",
		"completed  CollectionSyncWorkflow  collection-sync-lineage-" + runID,
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status does not contain %q:\n%s", want, res.stdout)
		}
	}
}

func TestJobCompletedFailsOnInvalidManifest(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	s := newStack(t, tab.config())
	s.startWorker()
	bad := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(bad, []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}`), 0o644); err != nil {
		t.Fatal(err)
	}

	res := s.starter(ctx, "job-completed", "--run-id", s.runID("e2e-invalid-1"), "--manifest", bad)
	if res.code != 1 {
		t.Errorf("exit code = %d, want 1\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "manifest.json") {
		t.Errorf("error does not name the file:\n%s", res.stderr)
	}
	if _, err := os.Stat(s.exposuresFile); !os.IsNotExist(err) {
		t.Errorf("an exposures file was written for an invalid manifest (stat error %v)", err)
	}
}

var webUILine = regexp.MustCompile(`Temporal Web UI: (http://127\.0\.0\.1:\d+)/`)

func TestDemoRunsOnBundledInputs(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newStack(t, stackConfig{})

	// The demo runs from the repository, as `go run ./starter demo` does,
	// because it finds bin/temporal there.
	res := s.starterIn(ctx, suite.repoRoot, "demo", "--state-dir", filepath.Join(dir, "state"), "--out-dir", filepath.Join(dir, "out"))
	if res.code != 0 {
		t.Fatalf("demo exited %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	for _, want := range []string{
		"== job-completed: dbt run demo-",
		"6 exposures: 6 added",
		"3 stale extracts, 3 refreshes started",
		"== collection sync: collections Exec dashboards, Ops: weekly review",
		// The collection sync records the same collections as the
		// whole-site sync of the post-job run, so it changes no exposure.
		"0 added, 0 changed, 1 removed",
		// The bundled build run results make the site's three extracts
		// stale. The simulator fails one refresh, as the site file sets.
		"== extract refreshes started by dbt run demo-",
		`refresh of workbook "Customer Lifetime Value" (3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b01): succeeded`,
		`refresh of datasource "Jaffle Orders (certified)" (6c4e2a18-93b5-4f0d-8e7a-1b2c3d4e5f60): succeeded`,
		`refresh of workbook "Café ops: raw feed" (3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b05): failed`,
		"3 extract refreshes: 2 succeeded, 1 failed",
		`REFRESH FAILED: workbook "Café ops: raw feed"`,
		"customer_lifetime_value (\"Customer Lifetime Value\")",
		"depends on ref('customers'), ref('orders')",
		"unparsed_sql",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output does not contain %q:\n%s", want, res.stdout)
		}
	}
	if !webUILine.MatchString(res.stdout) {
		t.Errorf("demo output has no Web UI address:\n%s", res.stdout)
	}
	yml := readFile(t, filepath.Join(dir, "out", "tableau_exposures.yml"))
	if !strings.Contains(yml, "name: customer_lifetime_value") {
		t.Errorf("demo exposures file lacks customer_lifetime_value:\n%s", yml)
	}
}

func TestCollectionsSetCreatesSchedule(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	s := newStack(t, tab.config())
	// collections set --no-wait still waits until the sync has listed the
	// workbooks of every name, so that a wrong name never reaches the
	// schedule. That listing needs a worker.
	s.startWorker()

	res := s.mustStarter(ctx, "collections", "set", "--no-wait", "Exec dashboards,Ops: weekly review")
	for _, want := range []string{
		"Created schedule " + s.taskQueue + "-schedule (daily at 06:00 UTC",
		"Started collection sync collection-sync-",
		"selection: collections Exec dashboards, Ops: weekly review",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("collections set output does not contain %q:\n%s", want, res.stdout)
		}
	}

	// A sync without flags reads what the schedule reads.
	synced := s.mustStarter(ctx, "sync", "--no-wait")
	if !strings.Contains(synced.stdout, "selection: collections Exec dashboards, Ops: weekly review") {
		t.Errorf("sync without flags did not take the schedule's selection:\n%s", synced.stdout)
	}
}

func TestStatusShowsRefreshOutcomes(t *testing.T) {
	ctx := context.Background()
	site, luids := refreshSite(t, 0, time.Second)
	tab := startTableau(t, site)
	s := newStack(t, tab.config())
	s.startWorker()
	c := temporalClient(t)

	runID := s.runID("e2e-status-refresh")
	s.mustStarter(ctx, "job-completed", "--run-id", runID,
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(refreshRunResults))
	refreshID := activities.RefreshWorkflowID(luids[demoCLVWorkbook])
	var refreshed activities.RefreshResult
	workflowResult(t, c, refreshID, &refreshed)

	res := s.mustStarter(ctx, "status", "--workflow-type", "ExposureRefreshWorkflow")
	for _, want := range []string{
		"completed  ExposureRefreshWorkflow  " + refreshID,
		fmt.Sprintf("refresh of workbook %q (%s): succeeded; Tableau job %s", refreshed.Name, refreshed.ExtractLUID, refreshed.JobID),
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status does not contain %q:\n%s", want, res.stdout)
		}
	}
	if strings.Contains(res.stdout, "JobLineageWorkflow") {
		t.Errorf("status --workflow-type ExposureRefreshWorkflow lists other workflow types:\n%s", res.stdout)
	}
}
