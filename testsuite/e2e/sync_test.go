package e2e

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func TestSyncWithFaultsMatchesClean(t *testing.T) {
	ctx := context.Background()
	tab := startTableau(t, demoSite(t))
	cfg := tab.config()
	// One workbook per chunk, so the lineage read pages and the faults land
	// between pages.
	cfg.extraEnv = []string{"AUTOEXPOSURES_SYNC_CHUNK_SIZE=1"}
	s := newStack(t, cfg)
	s.startWorker()

	faults := []tableausim.Fault{
		{Kind: tableausim.KindGraphQL, Skip: 1, Status: http.StatusTooManyRequests, RetryAfter: time.Second},
		{Kind: tableausim.KindGraphQL, Skip: 1, Status: http.StatusServiceUnavailable},
		{Kind: tableausim.KindGraphQL, Skip: 1, ExpireSession: true},
		{Kind: tableausim.KindGraphQL, Skip: 1, GraphQLCode: "RATE_EXCEEDED"},
	}
	for _, f := range faults {
		tab.sim.InjectFault(f)
	}

	// The post-job run syncs first, because the store has no snapshot.
	s.mustStarter(ctx, "job-completed", "--run-id", s.runID("e2e-faults-1"),
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))
	if n := tab.sim.PendingFaults(); n != 0 {
		t.Fatalf("%d of %d faults never applied: the sync made too few requests for the test to mean anything", n, len(faults))
	}
	checkGolden(t, tab, "jaffle_shop_exposures.yml", readFile(t, s.exposuresFile))
	if got := tab.sim.Count(tableausim.KindSignIn); got < 2 {
		t.Errorf("sign-ins = %d, want at least 2 (one after the session expired)", got)
	}

	t.Run("explicit sync with faults", func(t *testing.T) {
		for _, f := range faults {
			tab.sim.InjectFault(f)
		}
		s.mustStarter(ctx, "sync")
		if n := tab.sim.PendingFaults(); n != 0 {
			t.Errorf("%d faults never applied", n)
		}
		checkGolden(t, tab, "jaffle_shop_exposures.yml", readFile(t, s.exposuresFile))
	})

	assertNoSecrets(t, s, tab)
}

// resumedChunks matches the Resumed count of a ReadLineage result.
var resumedChunks = regexp.MustCompile(`"Resumed":\s*(\d+)`)

func TestWorkerKilledMidSyncResumes(t *testing.T) {
	ctx := context.Background()
	const copies = 12
	// Small chunks and one request at a time make the read's length
	// requests x latency, whatever the client batches together.
	env := []string{"AUTOEXPOSURES_SYNC_CHUNK_SIZE=2", "AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS=1", "TABLEAU_CONCURRENCY=1"}

	// The reference: the same site read by a worker that runs to the end.
	cleanTab := startTableau(t, widenSite(t, copies))
	cleanCfg := cleanTab.config()
	cleanCfg.extraEnv = env
	clean := newStack(t, cleanCfg)
	clean.startWorker()
	clean.mustStarter(ctx, "job-completed", "--run-id", clean.runID("e2e-kill-clean"),
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))
	want := readFile(t, clean.exposuresFile)
	fullRead := cleanTab.sim.Count(tableausim.KindGraphQL)
	clean.stopWorkers()

	// The SDK sends the first heartbeat at once and holds later ones for 80%
	// of the heartbeat timeout (24s). The worker must therefore die after a
	// second heartbeat has reached the server, or the next worker has no
	// progress to resume. Latency stretches the read to over a minute, and
	// the kill comes 40s after the first Metadata API request, which leaves
	// the listing and a loaded machine some seconds before the read starts.
	latency := max(400*time.Millisecond, 70*time.Second/time.Duration(fullRead))
	tab := startTableau(t, widenSite(t, copies), tableausim.WithLatency(latency))
	cfg := tab.config()
	cfg.extraEnv = env
	s := newStack(t, cfg)
	first := s.startWorker()
	killedRun := s.runID("e2e-kill")
	s.mustStarter(ctx, "job-completed", "--run-id", killedRun, "--no-wait",
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))

	const killAfter = 40 * time.Second
	waitFor(t, 3*time.Minute, "the read to run for "+killAfter.String(), func() bool {
		elapsed, started := tab.sinceFirstGraphQL()
		return started && elapsed >= killAfter
	})
	first.kill(t)
	atKill := tab.sim.Count(tableausim.KindGraphQL)
	if atKill >= fullRead {
		t.Fatalf("the read had finished (%d of %d requests) before the worker was killed", atKill, fullRead)
	}
	tab.sim.SetLatency(0)

	s.startWorker()
	// A second notice for the same run attaches to the running workflow
	// and waits for it.
	s.mustStarter(ctx, "job-completed", "--run-id", killedRun,
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))

	// The URLs in the files name each simulator's address.
	want = strings.ReplaceAll(want, cleanTab.server.URL, "http://tableau.test")
	got := strings.ReplaceAll(readFile(t, s.exposuresFile), tab.server.URL, "http://tableau.test")
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("exposures after the kill differ from an uninterrupted run (-want +got):\n%s", diff)
	}
	// The lineage read's result, in the history of the sync the post-job
	// run started, counts the chunks taken over from the killed attempt.
	history := s.historyPayloads(ctx, "collection-sync-lineage-"+killedRun)
	resumed := resumedChunks.FindStringSubmatch(history)
	if resumed == nil {
		t.Fatalf("no ReadLineage result with Resumed in the sync's history:\n%s", history)
	}
	if resumed[1] == "0" {
		t.Errorf("ReadLineage resumed 0 chunks: the new worker read the site again from the start")
	}
	after := tab.sim.Count(tableausim.KindGraphQL) - atKill
	t.Logf("Metadata API requests: full read %d, before the kill %d, after it %d; chunks resumed %s", fullRead, atKill, after, resumed[1])
	if after >= fullRead {
		t.Errorf("the new worker made %d Metadata API requests, as many as a full read (%d)", after, fullRead)
	}
	assertNoSecrets(t, s, tab)
}
