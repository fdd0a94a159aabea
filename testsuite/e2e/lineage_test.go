package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// Bundled dbt artifacts of the jaffle_shop project (see testdata/SOURCES.md).
const (
	jaffleManifest   = "testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json"
	jaffleRunResults = "testdata/manifests/artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"
)

func repoFile(name string) string { return filepath.Join(suite.repoRoot, name) }

// runIDLine matches the first line job-completed prints.
var runIDLine = regexp.MustCompile(`Workflow (lineage-\S+) \(run (\S+)\)`)

func lineageRun(t *testing.T, stdout string) (workflowID, runID string) {
	t.Helper()
	m := runIDLine.FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("job-completed printed no workflow line:\n%s", stdout)
	}
	return m[1], m[2]
}

func TestJobCompletedWritesExposures(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	s := newStack(t, tab.config())
	s.startWorker()

	// First notice: no snapshot yet, so the run syncs Tableau first.
	runID1 := s.runID("e2e-golden-1")
	first := s.mustStarter(ctx, "job-completed", "--run-id", runID1,
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))
	checkGolden(t, tab, "jaffle_shop_exposures.yml", readFile(t, s.exposuresFile))
	workflowID, runID := lineageRun(t, first.stdout)
	if workflowID != "lineage-"+runID1 {
		t.Errorf("workflow ID = %q, want lineage-%s", workflowID, runID1)
	}

	t.Run("same run ID again does nothing new", func(t *testing.T) {
		before, err := os.Stat(s.exposuresFile)
		if err != nil {
			t.Fatal(err)
		}
		graphQLBefore := tab.sim.Count(tableausim.KindGraphQL)
		eventsBefore := strings.Count(s.history(ctx, workflowID), `"eventId"`)

		again := s.mustStarter(ctx, "job-completed", "--run-id", runID1,
			"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))

		_, againRunID := lineageRun(t, again.stdout)
		if againRunID != runID {
			t.Errorf("second notice ran %s, want the first run %s", againRunID, runID)
		}
		if diff := cmp.Diff(summaryLines(first.stdout), summaryLines(again.stdout)); diff != "" {
			t.Errorf("second notice printed another summary (-first +second):\n%s", diff)
		}
		after, err := os.Stat(s.exposuresFile)
		if err != nil {
			t.Fatal(err)
		}
		if !after.ModTime().Equal(before.ModTime()) {
			t.Errorf("exposures file rewritten: modified %s, then %s", before.ModTime(), after.ModTime())
		}
		if got := tab.sim.Count(tableausim.KindGraphQL); got != graphQLBefore {
			t.Errorf("Tableau Metadata API requests went from %d to %d; want none", graphQLBefore, got)
		}
		if got := strings.Count(s.history(ctx, workflowID), `"eventId"`); got != eventsBefore {
			t.Errorf("history of %s grew from %d to %d events", workflowID, eventsBefore, got)
		}
	})

	t.Run("syncs of other kinds leave the exposures unchanged", func(t *testing.T) {
		// The first notice synced the whole site. The exposures record the
		// collections of each workbook, which every kind of sync must
		// read alike, or the file would change each time the kind of sync
		// alternates.
		want := readFile(t, s.exposuresFile)
		if !strings.Contains(want, "collections:") {
			t.Fatalf("exposures after a whole-site sync record no collections:\n%s", want)
		}
		// The collection sync also names the one workbook outside the
		// demo site's collections, so that it reads every workbook.
		for _, args := range [][]string{
			{"sync", "--collections", "Exec dashboards,Ops: weekly review", "--workbooks", legacyWorkbook},
			{"sync"},
		} {
			s.mustStarter(ctx, args...)
			if diff := cmp.Diff(want, readFile(t, s.exposuresFile)); diff != "" {
				t.Errorf("exposures changed after starter %s (-job-completed +sync):\n%s", strings.Join(args, " "), diff)
			}
		}
	})

	t.Run("manifest without a model changes exposures", func(t *testing.T) {
		manifest := manifestWithout(t, removedModel)
		res := s.mustStarter(ctx, "job-completed", "--run-id", s.runID("e2e-golden-2"), "--manifest", manifest)

		checkGolden(t, tab, "jaffle_shop_exposures_without_"+removedModelName+".yml", readFile(t, s.exposuresFile))
		if strings.Contains(readFile(t, s.exposuresFile), "ref('"+removedModelName+"')") {
			t.Errorf("exposures still depend on ref('%s') after it left the manifest", removedModelName)
		}
		if !strings.Contains(res.stdout, "changed") {
			t.Errorf("summary does not mention changed exposures:\n%s", res.stdout)
		}
	})

	assertNoSecrets(t, s, tab)
}

// legacyWorkbook is the demo site's workbook in no collection.
const legacyWorkbook = "3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b06"

// removedModel is a model that demo workbooks read; the test drops it from
// the manifest to see the exposures follow.
const (
	removedModel     = "model.jaffle_shop.orders"
	removedModelName = "orders"
)

// manifestWithout writes a copy of the jaffle_shop manifest without the
// node uniqueID and returns its path.
func manifestWithout(t *testing.T, uniqueID string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(readFile(t, repoFile(jaffleManifest))), &m); err != nil {
		t.Fatal(err)
	}
	nodes := m["nodes"].(map[string]any)
	if _, ok := nodes[uniqueID]; !ok {
		t.Fatalf("manifest has no node %s", uniqueID)
	}
	delete(nodes, uniqueID)

	for _, key := range []string{"parent_map", "child_map"} {
		graph, _ := m[key].(map[string]any)
		delete(graph, uniqueID)
		for id, list := range graph {
			var kept []any
			for _, v := range list.([]any) {
				if v != uniqueID {
					kept = append(kept, v)
				}
			}
			graph[id] = kept
		}
	}

	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// summaryLines drops the first line (the workflow line) of job-completed's
// output, leaving the summary.
func summaryLines(stdout string) string {
	_, rest, _ := strings.Cut(stdout, "\n")
	return rest
}

// checkGolden compares got with testdata/name. Exposure URLs start with
// the simulator's address, which changes from run to run, so tab's URL is
// replaced with http://tableau.test first.
func checkGolden(t *testing.T, tab *tableauSite, name, got string) {
	t.Helper()
	got = strings.ReplaceAll(got, tab.server.URL, "http://tableau.test")
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to write it): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", name, diff)
	}
}

// assertNoSecrets checks that neither the token secret nor any session
// token the worker used appears in the histories of the stack's workflows
// (as `temporal workflow show --output json` prints them) or in the
// worker logs.
func assertNoSecrets(t *testing.T, s *stack, tab *tableauSite) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	secrets := append([]string{testTokenSecret}, tab.sessionTokens()...)
	if len(secrets) < 2 {
		t.Fatalf("the worker sent no session token, so the check would prove nothing")
	}
	ids := s.workflowIDs(ctx)
	if len(ids) == 0 {
		t.Fatal("no workflows on the task queue to check")
	}
	for _, id := range ids {
		history := s.history(ctx, id)
		for _, secret := range secrets {
			if strings.Contains(history, secret) {
				t.Errorf("history of %s contains a secret (%d characters)", id, len(secret))
			}
		}
	}
	logs := s.workerLogs()
	if logs == "" {
		t.Error("worker logs are empty, so the check would prove nothing")
	}
	for _, secret := range secrets {
		if strings.Contains(logs, secret) {
			t.Errorf("worker logs contain a secret (%d characters)", len(secret))
		}
	}
}
