package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
	"github.com/autoexposures/autoexposures/workflows"
)

// refreshRunResults is a jaffle_shop run whose models completed after every
// extract refresh of the demo site (see testdata/refresh/README.md).
const refreshRunResults = "testsuite/e2e/testdata/refresh/run_results.json"

// LUIDs of the demo site's two extracts that refreshRunResults makes stale:
// the embedded extract of "Customer Lifetime Value" (customers, orders) and
// the published "Jaffle Orders (certified)" (orders, order_items), which two
// workbooks share. "Café ops: raw feed" reads only seeds, which the run did
// not rebuild.
const (
	demoCLVWorkbook  = "3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b01"
	demoOrdersSource = "6c4e2a18-93b5-4f0d-8e7a-1b2c3d4e5f60"
)

// refreshSite returns the demo site with new LUIDs for its workbooks and
// published data sources. Refresh workflow IDs are refresh-<LUID> in the
// dev server's one namespace, so each test needs LUIDs no other test uses.
// It returns the new LUID of each old one.
func refreshSite(t *testing.T, jobQueued, jobRuns time.Duration) (*tableausim.Site, map[string]string) {
	t.Helper()
	base := demoSite(t)
	data, err := json.Marshal(base)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)

	luids := map[string]string{}
	var old []string
	for _, w := range base.Workbooks {
		old = append(old, w.LUID)
	}
	for _, d := range base.PublishedDatasources {
		old = append(old, d.LUID)
	}
	suffix := make([]byte, 6)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	for _, luid := range old {
		// Keep the LUID's form: replace its last 12 hex digits.
		luids[luid] = luid[:len(luid)-12] + hex.EncodeToString(suffix)
		suffix[5]++
		text = strings.ReplaceAll(text, luid, luids[luid])
	}

	site, err := tableausim.ParseSite([]byte(text))
	if err != nil {
		t.Fatalf("demo site with new LUIDs: %v", err)
	}
	site.Simulator.JobQueued = tableausim.Duration(jobQueued)
	site.Simulator.JobRuns = tableausim.Duration(jobRuns)
	return site, luids
}

// uniqueRunID returns base with a random suffix, because a dbt run ID names
// its lineage workflow in the dev server's one namespace, which outlives a
// test run with -count.
func uniqueRunID(t *testing.T, base string) string {
	t.Helper()
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}
	return base + "-" + hex.EncodeToString(suffix)
}

// exposureName returns the name of the exposure generated for a workbook,
// from the exposures file the worker wrote.
func exposureName(t *testing.T, path, workbookLUID string) string {
	t.Helper()
	var doc struct {
		Exposures []struct {
			Name   string `yaml:"name"`
			Config struct {
				Meta struct {
					Autoexposures struct {
						WorkbookLUID string `yaml:"workbook_luid"`
					} `yaml:"autoexposures"`
				} `yaml:"meta"`
			} `yaml:"config"`
			Meta struct {
				Autoexposures struct {
					WorkbookLUID string `yaml:"workbook_luid"`
				} `yaml:"autoexposures"`
			} `yaml:"meta"`
		} `yaml:"exposures"`
	}
	if err := yaml.Unmarshal([]byte(readFile(t, path)), &doc); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	for _, e := range doc.Exposures {
		if e.Config.Meta.Autoexposures.WorkbookLUID == workbookLUID || e.Meta.Autoexposures.WorkbookLUID == workbookLUID {
			return e.Name
		}
	}
	t.Fatalf("no exposure for workbook %s in %s", workbookLUID, path)
	return ""
}

// temporalClient dials the suite's dev server, for reading workflow results.
func temporalClient(t *testing.T) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort:  suite.server.Address,
		Namespace: "default",
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
	})
	if err != nil {
		t.Fatalf("dialing the dev server: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// workflowResult waits up to two minutes for the latest run of id and
// decodes its result into v.
func workflowResult(t *testing.T, c client.Client, id string, v any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := c.GetWorkflow(ctx, id, "").Get(ctx, v); err != nil {
		t.Fatalf("result of workflow %s: %v", id, err)
	}
}

// refreshRuns counts the runs of the refresh workflow id.
func refreshRuns(t *testing.T, c client.Client, id string) int {
	t.Helper()
	resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: "default",
		Query:     fmt.Sprintf("WorkflowId = %q", id),
	})
	if err != nil {
		t.Fatalf("listing runs of %s: %v", id, err)
	}
	return len(resp.GetExecutions())
}

// jobsByResource counts the simulator's refresh jobs per LUID and checks
// that each succeeded.
func jobsByResource(t *testing.T, sim *tableausim.Server) map[string]int {
	t.Helper()
	counts := map[string]int{}
	for _, j := range sim.Jobs() {
		counts[j.ResourceLUID]++
		if j.State != tableausim.JobSucceeded {
			t.Errorf("job %s of %s %s is %s, want succeeded", j.ID, j.ResourceType, j.ResourceLUID, j.State)
		}
	}
	return counts
}

func TestJobCompletedRefreshesStaleExtracts(t *testing.T) {
	ctx := context.Background()
	site, luids := refreshSite(t, time.Second, 3*time.Second)
	tab := startTableau(t, site)
	s := newStack(t, tab.config())
	s.startWorker()
	c := temporalClient(t)

	clv, orders := luids[demoCLVWorkbook], luids[demoOrdersSource]
	wantRefreshes := []string{activities.RefreshWorkflowID(clv), activities.RefreshWorkflowID(orders)}
	slices.Sort(wantRefreshes)

	firstRun, secondRun := uniqueRunID(t, "e2e-refresh-1"), uniqueRunID(t, "e2e-refresh-2")
	s.mustStarter(ctx, "job-completed", "--run-id", firstRun,
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(refreshRunResults))

	var first workflows.JobLineageResult
	workflowResult(t, c, "lineage-"+firstRun, &first)
	if first.Refresh.Stale != 2 {
		t.Errorf("stale extracts = %d, want 2", first.Refresh.Stale)
	}
	if diff := cmp.Diff(wantRefreshes, first.Refresh.Refreshes); diff != "" {
		t.Fatalf("refresh workflows (-want +got):\n%s", diff)
	}
	for _, id := range wantRefreshes {
		var res activities.RefreshResult
		workflowResult(t, c, id, &res)
		if res.Outcome != activities.OutcomeSucceeded || res.JobID == "" {
			t.Errorf("%s: outcome %q, job %q; want succeeded with a job", id, res.Outcome, res.JobID)
		}
	}
	if got := tab.sim.Count(tableausim.KindRefresh); got != 2 {
		t.Errorf("Tableau refresh requests = %d, want 2", got)
	}
	if diff := cmp.Diff(map[string]int{clv: 1, orders: 1}, jobsByResource(t, tab.sim)); diff != "" {
		t.Errorf("refresh jobs per extract (-want +got):\n%s", diff)
	}

	// The stale list next to the exposures file names both extracts.
	var stale activities.StaleReport
	if err := json.Unmarshal([]byte(readFile(t, activities.StalePath(s.exposuresFile))), &stale); err != nil {
		t.Fatalf("reading the stale list: %v", err)
	}
	var staleLUIDs []string
	for _, e := range stale.Extracts {
		staleLUIDs = append(staleLUIDs, e.LUID)
	}
	if diff := cmp.Diff([]string{clv, orders}, staleLUIDs, cmpSorted); diff != "" {
		t.Errorf("stale list (-want +got):\n%s", diff)
	}

	t.Run("second run within the interval refreshes nothing", func(t *testing.T) {
		s.mustStarter(ctx, "job-completed", "--run-id", secondRun,
			"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(refreshRunResults))

		var second workflows.JobLineageResult
		workflowResult(t, c, "lineage-"+secondRun, &second)
		// The snapshot still shows the old refresh times, so both extracts
		// are stale again and their refresh workflows decide to skip.
		if diff := cmp.Diff(wantRefreshes, second.Refresh.Refreshes); diff != "" {
			t.Errorf("refresh workflows of the second run (-want +got):\n%s", diff)
		}
		for _, id := range second.Refresh.Refreshes {
			var res activities.RefreshResult
			workflowResult(t, c, id, &res)
			if res.Outcome != activities.OutcomeSkipped || !strings.Contains(res.SkipReason, "within the minimum interval of 24h0m0s") {
				t.Errorf("%s: outcome %q (%s), want skipped within the minimum interval", id, res.Outcome, res.SkipReason)
			}
		}
		if got := tab.sim.Count(tableausim.KindRefresh); got != 2 {
			t.Errorf("Tableau refresh requests = %d after the second run, want still 2", got)
		}
	})

	t.Run("refresh on demand", func(t *testing.T) {
		out := s.mustStarter(ctx, "refresh", "--workbook", clv)

		if !strings.Contains(out.stdout, "succeeded") {
			t.Errorf("starter refresh printed no success:\n%s", out.stdout)
		}
		if got := tab.sim.Count(tableausim.KindRefresh); got != 3 {
			t.Errorf("Tableau refresh requests = %d after the on-demand refresh, want 3", got)
		}
	})

	t.Run("refresh on demand by exposure name", func(t *testing.T) {
		name := exposureName(t, s.exposuresFile, luids["3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b02"])

		// "Orders: Daily Sales" has no extract of its own and reads the
		// shared data source, so that is what is refreshed. The starter
		// runs elsewhere, without the worker's state directory and
		// exposures file: the worker resolves the name.
		out := s.starterElsewhere(ctx, "refresh", "--exposure", name)

		if out.code != 0 {
			t.Fatalf("starter refresh --exposure %s exited %d\nstdout:\n%s\nstderr:\n%s", name, out.code, out.stdout, out.stderr)
		}
		if !strings.Contains(out.stdout, "datasource") || !strings.Contains(out.stdout, orders) || !strings.Contains(out.stdout, "succeeded") {
			t.Errorf("starter refresh --exposure %s printed no successful refresh of data source %s:\n%s", name, orders, out.stdout)
		}
		if strings.Contains(out.stdout+out.stderr, "skipped") || strings.Contains(out.stderr, "note:") {
			t.Errorf("starter refresh --exposure %s skipped or fell back:\nstdout:\n%s\nstderr:\n%s", name, out.stdout, out.stderr)
		}
		if got := tab.sim.Count(tableausim.KindRefresh); got != 4 {
			t.Errorf("Tableau refresh requests = %d after the refresh by exposure name, want 4", got)
		}
	})

	t.Run("unknown exposure name", func(t *testing.T) {
		name := exposureName(t, s.exposuresFile, luids["3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b02"])
		typo := name[:len(name)-1]

		out := s.starterElsewhere(ctx, "refresh", "--exposure", typo)

		if out.code != 1 {
			t.Errorf("exit code = %d, want 1\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
		}
		want := fmt.Sprintf("starter refresh: unknown exposure %q", typo)
		if !strings.Contains(out.stderr, want) || !strings.Contains(out.stderr, "did you mean "+name) {
			t.Errorf("stderr = %q, want %q and a suggestion of %s", out.stderr, want, name)
		}
		if got := tab.sim.Count(tableausim.KindRefresh); got != 4 {
			t.Errorf("Tableau refresh requests = %d after an unknown name, want still 4", got)
		}
	})

	t.Run("exposure without extracts", func(t *testing.T) {
		// "Supply costs" reads its tables live.
		name := exposureName(t, s.exposuresFile, luids["3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b04"])

		out := s.starterElsewhere(ctx, "refresh", "--exposure", name)

		if out.code != 0 {
			t.Errorf("exit code = %d, want 0\nstdout:\n%s\nstderr:\n%s", out.code, out.stdout, out.stderr)
		}
		if !strings.HasPrefix(out.stdout, "Nothing to refresh: exposure "+name) || !strings.Contains(out.stdout, "only live connections") {
			t.Errorf("stdout = %q, want a nothing to refresh line about live connections", out.stdout)
		}
		if got := tab.sim.Count(tableausim.KindRefresh); got != 4 {
			t.Errorf("Tableau refresh requests = %d after an exposure without extracts, want still 4", got)
		}
	})

	t.Run("no secrets in refresh histories", func(t *testing.T) {
		ids := s.workflowIDs(ctx)
		for _, id := range wantRefreshes {
			if !slices.Contains(ids, id) {
				t.Errorf("refresh workflow %s is not on the stack's task queue %s: %v", id, s.taskQueue, ids)
			}
		}
		assertNoSecrets(t, s, tab)
	})
}

var cmpSorted = cmpopts.SortSlices(func(a, b string) bool { return a < b })

func TestConcurrentRunsShareOneRefresh(t *testing.T) {
	ctx := context.Background()
	// A job that runs for 8 s keeps the first refresh open while the second
	// run starts its own.
	site, luids := refreshSite(t, time.Second, 8*time.Second)
	tab := startTableau(t, site)
	s := newStack(t, tab.config())
	s.startWorker()
	c := temporalClient(t)
	s.mustStarter(ctx, "sync")

	runIDs := []string{uniqueRunID(t, "e2e-together-a"), uniqueRunID(t, "e2e-together-b")}
	results := make([]result, len(runIDs))
	var wg sync.WaitGroup
	for i, runID := range runIDs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.starter(ctx, "job-completed", "--run-id", runID,
				"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(refreshRunResults))
		}()
	}
	wg.Wait()
	for i, res := range results {
		if res.code != 0 {
			t.Fatalf("job-completed %s exited %d: %s\nworker logs:\n%s", runIDs[i], res.code, res.stderr, s.workerLogs())
		}
	}

	clv, orders := luids[demoCLVWorkbook], luids[demoOrdersSource]
	wantRefreshes := []string{activities.RefreshWorkflowID(clv), activities.RefreshWorkflowID(orders)}
	slices.Sort(wantRefreshes)
	for _, runID := range runIDs {
		var res workflows.JobLineageResult
		workflowResult(t, c, "lineage-"+runID, &res)
		if diff := cmp.Diff(wantRefreshes, res.Refresh.Refreshes); diff != "" {
			t.Errorf("refresh workflows of %s (-want +got):\n%s", runID, diff)
		}
	}

	for _, id := range wantRefreshes {
		var res activities.RefreshResult
		workflowResult(t, c, id, &res)
		if res.Outcome != activities.OutcomeSucceeded {
			t.Errorf("%s: outcome %q, want succeeded", id, res.Outcome)
		}
		// The second run attached to the first run's refresh.
		if got := refreshRuns(t, c, id); got != 1 {
			t.Errorf("%s has %d runs, want 1", id, got)
		}
	}
	if got := tab.sim.Count(tableausim.KindRefresh); got != 2 {
		t.Errorf("Tableau refresh requests = %d, want 2: one per extract", got)
	}
	if diff := cmp.Diff(map[string]int{clv: 1, orders: 1}, jobsByResource(t, tab.sim)); diff != "" {
		t.Errorf("refresh jobs per extract (-want +got):\n%s", diff)
	}
}

// starterElsewhere runs the starter as an operator would from another
// machine: in an empty directory, with the Temporal settings and the task
// queue but none of the worker's paths.
func (s *stack) starterElsewhere(ctx context.Context, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "AUTOEXPOSURES_STATE_DIR=") && !strings.HasPrefix(kv, "AUTOEXPOSURES_EXPOSURES_FILE=") {
			env = append(env, kv)
		}
	}
	cmd := exec.CommandContext(ctx, suite.starterBin, args...)
	cmd.Env = env
	cmd.Dir = s.t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()

	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		s.t.Fatalf("running starter %s: %v", strings.Join(args, " "), err)
	}
	return res
}
