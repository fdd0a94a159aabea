//go:build devserver

// These tests run the workflows on a real Temporal dev server, with an
// in-process worker, the real activities, the Tableau simulator and the
// bundled jaffle_shop artifacts. Run them with
//
//	go test -tags devserver -run DevServer ./workflows/
//
// Set AUTOEXPOSURES_RECORD_HISTORIES=1 to write the histories that
// replay_test.go replays into testdata/, and AUTOEXPOSURES_SYNC_10K=1 to
// measure the history of a 10,000-workbook sync.
package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/devserver"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
	"github.com/autoexposures/autoexposures/workflows"
)

const (
	testTokenName   = "devserver-test-token"
	testTokenSecret = "devserver-test-secret-must-not-leak"
	testTaskQueue   = "autoexposures-devserver-test"
	testScheduleID  = "autoexposures-devserver-daily-sync"
)

// syncedBuffer is a log sink safe for the worker's goroutines.
type syncedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type harness struct {
	client   client.Client
	store    *store.Dir
	sim      *tableausim.Server
	tableau  *tableau.Client
	settings config.Settings
	logs     *syncedBuffer
	logger   *slog.Logger
	worker   worker.Worker
}

// startHarness starts a dev server, the simulator serving site and a worker
// with the real activities, reading chunkSize workbooks a chunk, one chunk
// at a time.
func startHarness(t *testing.T, site *tableausim.Site, chunkSize int) *harness {
	t.Helper()
	ctx := context.Background()

	srv, err := devserver.Start(ctx, devserver.Options{})
	if err != nil {
		t.Fatalf("starting the dev server: %v", err)
	}
	t.Cleanup(func() { srv.Stop() })

	sim := tableausim.New(site)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	logs := &syncedBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	tc, err := tableau.New(tableau.Config{
		ServerURL:   sim.URL(),
		Site:        site.Site,
		TokenName:   testTokenName,
		TokenSecret: testTokenSecret,
	}, tableau.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	stateDir := t.TempDir()
	st, err := store.New(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	settings := config.Settings{
		StateDir:           stateDir,
		ExposuresPath:      filepath.Join(out, "tableau_exposures.yml"),
		SyncChunkSize:      chunkSize,
		SyncParallelChunks: 1,
		Refresh:            true,
		RefreshMinInterval: 24 * time.Hour,
		TaskQueue:          testTaskQueue,
		ScheduleID:         testScheduleID,
	}

	c, err := app.Dial(ctx, config.Temporal{Address: srv.Address, Namespace: "default"}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)

	h := &harness{client: c, store: st, sim: sim, tableau: tc, settings: settings, logs: logs, logger: logger}
	h.worker = h.startWorker(t)
	return h
}

// restartWorker replaces the worker with one that reads parallel chunks at
// once.
func (h *harness) restartWorker(t *testing.T, parallel int) {
	t.Helper()
	h.worker.Stop()
	h.settings.SyncParallelChunks = parallel
	h.worker = h.startWorker(t)
}

// startWorker starts a worker with the real activities on the harness's
// store and Tableau client, as a worker process would.
func (h *harness) startWorker(t *testing.T) worker.Worker {
	t.Helper()
	opts := app.WorkerOptions()
	// Stop cancels running activities at once, the nearest to a killed
	// worker that an in-process worker gets.
	opts.WorkerStopTimeout = 0
	w := worker.New(h.client, testTaskQueue, opts)
	workflows.Register(w, &activities.Activities{Tableau: h.tableau, Store: h.store, Settings: h.settings, Logger: h.logger,
		Schedules: h.client.ScheduleClient()})
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Stop)
	return w
}

// history returns the events of a closed workflow and their JSON form.
func (h *harness) history(t *testing.T, workflowID string) (*historypb.History, []byte) {
	t.Helper()
	hist := &historypb.History{}
	iter := h.client.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			t.Fatalf("reading the history of %s: %v", workflowID, err)
		}
		hist.Events = append(hist.Events, ev)
	}
	data, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(hist)
	if err != nil {
		t.Fatal(err)
	}
	return hist, data
}

// checkHistory checks a history's size and that no secret is in it, and
// records it under testdata when AUTOEXPOSURES_RECORD_HISTORIES is set.
func (h *harness) checkHistory(t *testing.T, workflowID, recordAs string) int {
	t.Helper()
	hist, data := h.history(t, workflowID)
	if n := len(hist.Events); n >= 200 {
		t.Errorf("history of %s has %d events, want fewer than 200", workflowID, n)
	}
	if bytes.Contains(data, []byte(testTokenSecret)) {
		t.Errorf("history of %s contains the Tableau token secret", workflowID)
	}
	if recordAs != "" && os.Getenv("AUTOEXPOSURES_RECORD_HISTORIES") != "" {
		if err := os.WriteFile(filepath.Join("testdata", recordAs), append(data, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("recorded %s (%d events) into testdata/%s", workflowID, len(hist.Events), recordAs)
	}
	return len(hist.Events)
}

func repoFile(t *testing.T, rel string) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", rel))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(abs); err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestDevServerJobLineageThenSync(t *testing.T) {
	h := startHarness(t, jaffleSite(), 2)
	ctx := context.Background()
	in := workflows.JobLineageInput{
		DbtRunID:           "devserver-run-1",
		ManifestLocation:   repoFile(t, "internal/demo/assets/manifest.json"),
		RunResultsLocation: repoFile(t, "internal/demo/assets/run_results.json"),
	}

	run, err := h.client.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(testTaskQueue, in), workflows.JobLineageWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	var lineage workflows.JobLineageResult
	if err := run.Get(ctx, &lineage); err != nil {
		t.Fatalf("job lineage: %v", err)
	}
	t.Logf("job lineage: %s", lineage.Summary)

	if lineage.SyncWorkflowID != workflows.ChildSyncWorkflowID(in.DbtRunID) {
		t.Errorf("SyncWorkflowID = %q, want the child sync of the first run", lineage.SyncWorkflowID)
	}
	if lineage.Exposures.Exposures == 0 {
		t.Errorf("no exposures written: %+v", lineage.Exposures)
	}
	yaml, err := os.ReadFile(h.settings.ExposuresPath)
	if err != nil {
		t.Fatalf("exposures file: %v", err)
	}
	if !strings.Contains(string(yaml), "ref('orders')") {
		t.Errorf("exposures file does not depend on orders:\n%s", yaml)
	}
	if _, err := os.Stat(h.settings.Report()); err != nil {
		t.Errorf("report file: %v", err)
	}

	// A second notice for the same, completed run starts nothing: the
	// client is handed the first run and its result.
	again, err := h.client.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(testTaskQueue, in), workflows.JobLineageWorkflowName, in)
	if err != nil {
		t.Fatalf("second notice for run %s: %v", in.DbtRunID, err)
	}
	if again.GetRunID() != run.GetRunID() {
		t.Errorf("second notice started run %s, want the first run %s", again.GetRunID(), run.GetRunID())
	}
	var againResult workflows.JobLineageResult
	if err := again.Get(ctx, &againResult); err != nil {
		t.Fatal(err)
	}
	if againResult.Summary != lineage.Summary {
		t.Errorf("second notice result = %q, want the first run's %q", againResult.Summary, lineage.Summary)
	}

	// A run for a new dbt run ID with the snapshot in the store: the path
	// whose latency the post-job target is about.
	second := in
	second.DbtRunID = "devserver-run-2"
	began := time.Now()
	run2, err := h.client.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(testTaskQueue, second), workflows.JobLineageWorkflowName, second)
	if err != nil {
		t.Fatal(err)
	}
	var lineage2 workflows.JobLineageResult
	if err := run2.Get(ctx, &lineage2); err != nil {
		t.Fatalf("second job lineage: %v", err)
	}
	t.Logf("second job lineage took %s: %s", time.Since(began).Round(time.Millisecond), lineage2.Summary)
	if lineage2.SyncWorkflowID != "" {
		t.Errorf("second run synced again (%s), want the stored snapshot used", lineage2.SyncWorkflowID)
	}
	if lineage2.Exposures.FileChanged {
		t.Error("second run with the same manifest rewrote the exposures file")
	}

	syncIn := workflows.CollectionSyncInput{Selection: tableau.Selection{Collections: []string{"Jaffle dashboards"}}}
	syncOpts := workflows.CollectionSyncStartOptions(testTaskQueue, syncIn, time.Now())
	syncRun, err := h.client.ExecuteWorkflow(ctx, syncOpts, workflows.CollectionSyncWorkflowName, syncIn)
	if err != nil {
		t.Fatal(err)
	}
	var synced workflows.CollectionSyncResult
	if err := syncRun.Get(ctx, &synced); err != nil {
		t.Fatalf("collection sync: %v", err)
	}
	t.Logf("collection sync: %s", synced.Summary)
	if synced.Workbooks != 3 {
		t.Errorf("sync read %d workbooks, want the 3 of the collection", synced.Workbooks)
	}
	if synced.Exposures == nil || synced.Exposures.Exposures != 3 {
		t.Errorf("sync exposures = %+v, want 3 computed", synced.Exposures)
	}

	progress, err := h.client.QueryWorkflow(ctx, syncOpts.ID, "", workflows.ProgressQuery)
	if err != nil {
		t.Fatal(err)
	}
	var p workflows.Progress
	if err := progress.Get(&p); err != nil {
		t.Fatal(err)
	}
	if p.Step != workflows.StepDone || p.Workbooks != 3 {
		t.Errorf("progress = %+v, want done with 3 workbooks", p)
	}

	h.checkHistory(t, workflows.JobLineageWorkflowID(in.DbtRunID), "job_lineage_first_run.json")
	h.checkHistory(t, lineage.SyncWorkflowID, "collection_sync_snapshot_only.json")
	h.checkHistory(t, syncOpts.ID, "collection_sync.json")
	if strings.Contains(h.logs.String(), testTokenSecret) {
		t.Error("the worker's log contains the Tableau token secret")
	}
}

// TestDevServerFirstRunReadsScheduleSelection runs the first post-job run,
// with no snapshot in the store, while a daily schedule selects one
// collection and the worker's default is the whole site. The child sync
// must read the schedule's collection, or the next scheduled sync would
// remove the exposures of the workbooks outside it.
func TestDevServerFirstRunReadsScheduleSelection(t *testing.T) {
	h := startHarness(t, jaffleSite(), 2)
	ctx := context.Background()
	scheduled := workflows.CollectionSyncInput{Selection: tableau.Selection{Collections: []string{"Jaffle dashboards"}}}
	_, err := h.client.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:     testScheduleID,
		Spec:   client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: 24 * time.Hour}}},
		Paused: true,
		Action: &client.ScheduleWorkflowAction{
			Workflow:  workflows.CollectionSyncWorkflowName,
			Args:      []any{scheduled},
			TaskQueue: testTaskQueue,
		},
	})
	if err != nil {
		t.Fatalf("creating the schedule: %v", err)
	}

	in := workflows.JobLineageInput{
		DbtRunID:         "devserver-scheduled-run",
		ManifestLocation: repoFile(t, "internal/demo/assets/manifest.json"),
	}
	run, err := h.client.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(testTaskQueue, in), workflows.JobLineageWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	var lineage workflows.JobLineageResult
	if err := run.Get(ctx, &lineage); err != nil {
		t.Fatalf("job lineage: %v", err)
	}
	var synced workflows.CollectionSyncResult
	if err := h.client.GetWorkflow(ctx, lineage.SyncWorkflowID, "").Get(ctx, &synced); err != nil {
		t.Fatalf("child sync %q: %v", lineage.SyncWorkflowID, err)
	}
	if diff := cmp.Diff(scheduled.Selection, synced.Selection); diff != "" {
		t.Errorf("child sync selection (-want +got):\n%s", diff)
	}
	if synced.Workbooks != 3 {
		t.Errorf("child sync read %d workbooks, want the 3 of the scheduled collection", synced.Workbooks)
	}
}

// TestDevServerSync10000Workbooks measures the history of a sync of 10,000
// workbooks against a baseline of ten. It builds a large site and snapshot,
// so it runs only when asked.
func TestDevServerSync10000Workbooks(t *testing.T) {
	if os.Getenv("AUTOEXPOSURES_SYNC_10K") == "" {
		t.Skip("set AUTOEXPOSURES_SYNC_10K=1 to run")
	}
	const workbooks = 10000
	h := startHarness(t, largeSite(workbooks), 500)
	// 40 ms per request is the latency of the Tableau sync target. A
	// manifest in the store makes the sync compute exposures too, which is
	// its longest path.
	h.sim.SetLatency(40 * time.Millisecond)
	manifest, err := os.Open(repoFile(t, "internal/demo/assets/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer manifest.Close()
	ref, err := h.store.Put(store.KindManifest, manifest)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.SetLatest(store.KindManifest, ref); err != nil {
		t.Fatal(err)
	}

	// Baseline: a sync of ten workbooks, in the same run.
	small := workflows.CollectionSyncInput{Selection: tableau.Selection{WorkbookLUIDs: []string{}}}
	for i := range 10 {
		small.Selection.WorkbookLUIDs = append(small.Selection.WorkbookLUIDs, fmt.Sprintf("a2000000-0000-4000-8000-%012d", i))
	}
	smallRes, smallEvents, smallElapsed := h.syncAndCount(t, small, "collection-sync-baseline")
	if smallRes.Workbooks != 10 {
		t.Errorf("baseline sync read %d workbooks, want 10", smallRes.Workbooks)
	}

	h.sim.ResetCounts()
	res, events, elapsed := h.syncAndCount(t, workflows.CollectionSyncInput{}, "collection-sync-10000")
	if res.Workbooks != workbooks {
		t.Errorf("sync read %d workbooks, want %d", res.Workbooks, workbooks)
	}
	if res.Exposures == nil {
		t.Error("sync computed no exposures, want them computed against the stored manifest")
	}
	fmt.Printf("sync of %d workbooks: %d history events, %s; baseline sync of %d workbooks: %d events, %s; event ratio %.2f\n",
		res.Workbooks, events, elapsed.Round(time.Millisecond), smallRes.Workbooks, smallEvents, smallElapsed.Round(time.Millisecond),
		float64(events)/float64(smallEvents))
	requests := h.sim.Count(tableausim.KindGraphQL)
	readTime := activityDuration(t, h, "collection-sync-10000", activities.ReadLineageName)

	// The same sync with four chunks in flight, on a new worker.
	h.restartWorker(t, 4)
	h.sim.ResetCounts()
	parallelRes, parallelEvents, _ := h.syncAndCount(t, workflows.CollectionSyncInput{}, "collection-sync-10000-parallel")
	if parallelRes.Snapshot != res.Snapshot {
		t.Errorf("parallel read stored %s, want the sequential read's %s", parallelRes.Snapshot, res.Snapshot)
	}
	parallelTime := activityDuration(t, h, "collection-sync-10000-parallel", activities.ReadLineageName)

	// Baseline for the read: the client's own ReadSnapshot of the same
	// site, unchunked and without the store, in the same run.
	h.sim.ResetCounts()
	began := time.Now()
	if _, err := h.tableau.ReadSnapshot(context.Background(), tableau.Selection{}); err != nil {
		t.Fatal(err)
	}
	directTime := time.Since(began)
	fmt.Printf("large sync: %d chunks of 500, snapshot %d bytes, %d requests; ReadLineage one chunk at a time %s (ratio %.2f), "+
		"four at once %s and %d events (ratio %.2f); ReadSnapshot %s and %d requests\n",
		(workbooks+499)/500, res.Snapshot.Size, requests,
		readTime.Round(time.Millisecond), float64(readTime)/float64(directTime),
		parallelTime.Round(time.Millisecond), parallelEvents, float64(parallelTime)/float64(directTime),
		directTime.Round(time.Millisecond), h.sim.Count(tableausim.KindGraphQL))
}

// syncAndCount runs a sync with the given workflow ID and returns its
// result, its history length and its duration.
func (h *harness) syncAndCount(t *testing.T, in workflows.CollectionSyncInput, id string) (workflows.CollectionSyncResult, int, time.Duration) {
	t.Helper()
	ctx := context.Background()
	opts := workflows.CollectionSyncStartOptions(testTaskQueue, in, time.Now())
	opts.ID = id

	began := time.Now()
	run, err := h.client.ExecuteWorkflow(ctx, opts, workflows.CollectionSyncWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.CollectionSyncResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("sync %s: %v", id, err)
	}
	elapsed := time.Since(began)
	return res, h.checkHistory(t, id, ""), elapsed
}

// TestDevServerSyncResumesOnNewWorker stops the worker in the middle of the
// paged lineage read and starts another: the read must resume from its
// last heartbeat and store the same snapshot as an uninterrupted sync.
func TestDevServerSyncResumesOnNewWorker(t *testing.T) {
	// Slow enough that the read takes about 15 s with four chunks in flight.
	const workbooks = 3000
	h := startHarness(t, largeSite(workbooks), 25)
	h.restartWorker(t, 4)
	h.sim.SetLatency(500 * time.Millisecond)
	ctx := context.Background()
	in := workflows.CollectionSyncInput{}
	opts := workflows.CollectionSyncStartOptions(testTaskQueue, in, time.Now())
	opts.ID = "collection-sync-interrupted"

	run, err := h.client.ExecuteWorkflow(ctx, opts, workflows.CollectionSyncWorkflowName, in)
	if err != nil {
		t.Fatal(err)
	}
	done := waitForReadProgress(t, h, opts.ID, 300)
	h.worker.Stop()
	t.Logf("worker stopped after %d of %d workbooks", done, workbooks)
	h.worker = h.startWorker(t)

	var interrupted workflows.CollectionSyncResult
	if err := run.Get(ctx, &interrupted); err != nil {
		t.Fatalf("interrupted sync: %v", err)
	}
	read := readLineageResult(t, h, opts.ID)
	if read.Resumed == 0 {
		t.Errorf("ReadLineage result %+v, want it resumed from the heartbeat", read)
	}

	clean, _, _ := h.syncAndCount(t, in, "collection-sync-clean")
	if interrupted.Snapshot != clean.Snapshot {
		t.Errorf("interrupted sync stored %s, want the uninterrupted sync's %s", interrupted.Snapshot, clean.Snapshot)
	}
	if interrupted.Workbooks != workbooks {
		t.Errorf("interrupted sync read %d workbooks, want %d", interrupted.Workbooks, workbooks)
	}
}

// waitForReadProgress waits until the running ReadLineage activity of
// workflowID has heartbeated at least min workbooks done, as the Web UI
// shows it, and returns how many.
func waitForReadProgress(t *testing.T, h *harness, workflowID string, min int) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		desc, err := h.client.DescribeWorkflowExecution(context.Background(), workflowID, "")
		if err != nil {
			t.Fatal(err)
		}
		if status := desc.GetWorkflowExecutionInfo().GetStatus(); status != enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
			t.Fatalf("%s ended (%s) before ReadLineage reported %d workbooks done", workflowID, status, min)
		}
		for _, a := range desc.GetPendingActivities() {
			if a.GetActivityType().GetName() != activities.ReadLineageName || a.GetHeartbeatDetails() == nil {
				continue
			}
			var p activities.ReadProgress
			if err := converter.GetDefaultDataConverter().FromPayloads(a.GetHeartbeatDetails(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Done >= min {
				return p.Done
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("ReadLineage of %s did not report %d workbooks done within 2 minutes", workflowID, min)
	return 0
}

// readLineageResult decodes the ReadLineage result from a closed
// workflow's history.
func readLineageResult(t *testing.T, h *harness, workflowID string) activities.ReadLineageResult {
	t.Helper()
	hist, _ := h.history(t, workflowID)
	scheduled := map[int64]string{}
	for _, ev := range hist.Events {
		if attr := ev.GetActivityTaskScheduledEventAttributes(); attr != nil {
			scheduled[ev.GetEventId()] = attr.GetActivityType().GetName()
		}
		if attr := ev.GetActivityTaskStartedEventAttributes(); attr != nil && scheduled[attr.GetScheduledEventId()] == activities.ReadLineageName {
			t.Logf("ReadLineage attempt %d, last failure: %v", attr.GetAttempt(), attr.GetLastFailure())
		}
		attr := ev.GetActivityTaskCompletedEventAttributes()
		if attr == nil || scheduled[attr.GetScheduledEventId()] != activities.ReadLineageName {
			continue
		}
		var res activities.ReadLineageResult
		if err := converter.GetDefaultDataConverter().FromPayloads(attr.GetResult(), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	t.Fatalf("no completed ReadLineage in the history of %s", workflowID)
	return activities.ReadLineageResult{}
}

// activityDuration returns the time from the start of the last attempt of
// the named activity to its completion, from a closed workflow's history.
func activityDuration(t *testing.T, h *harness, workflowID, activityType string) time.Duration {
	t.Helper()
	hist, _ := h.history(t, workflowID)
	scheduled := map[int64]string{}
	var started time.Time
	for _, ev := range hist.Events {
		if attr := ev.GetActivityTaskScheduledEventAttributes(); attr != nil {
			scheduled[ev.GetEventId()] = attr.GetActivityType().GetName()
		}
		if attr := ev.GetActivityTaskStartedEventAttributes(); attr != nil && scheduled[attr.GetScheduledEventId()] == activityType {
			started = ev.GetEventTime().AsTime()
		}
		if attr := ev.GetActivityTaskCompletedEventAttributes(); attr != nil && scheduled[attr.GetScheduledEventId()] == activityType {
			return ev.GetEventTime().AsTime().Sub(started)
		}
	}
	t.Fatalf("no completed %s in the history of %s", activityType, workflowID)
	return 0
}

// TestDevServerSyncChunkSettings times the lineage read of a 10,000-workbook
// sync for each chunk size and number of chunks in flight, against the
// client's own ReadSnapshot of the same site in the same run. It prints the
// figures that chose the defaults of AUTOEXPOSURES_SYNC_CHUNK_SIZE and
// AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS, so it runs only when asked.
func TestDevServerSyncChunkSettings(t *testing.T) {
	if os.Getenv("AUTOEXPOSURES_SYNC_SETTINGS") == "" {
		t.Skip("set AUTOEXPOSURES_SYNC_SETTINGS=1 to run")
	}
	const workbooks = 10000
	rounds := 3
	h := startHarness(t, largeSite(workbooks), 500)
	h.sim.SetLatency(40 * time.Millisecond)

	// Baseline, measured before and after the syncs; the faster one counts.
	readDirect := func() (time.Duration, int) {
		h.sim.ResetCounts()
		began := time.Now()
		if _, err := h.tableau.ReadSnapshot(context.Background(), tableau.Selection{}); err != nil {
			t.Fatal(err)
		}
		return time.Since(began), h.sim.Count(tableausim.KindGraphQL)
	}
	direct, directRequests := readDirect()

	type figures struct {
		times    []time.Duration
		requests int
		chunks   int
	}
	results := map[[2]int]*figures{}
	var snapshot store.Ref
	for _, parallel := range []int{1, 2, 4} {
		h.restartWorker(t, parallel)
		for round := range rounds {
			for _, chunk := range []int{500, 1000, 2000} {
				id := fmt.Sprintf("collection-sync-chunk-%d-parallel-%d-round-%d", chunk, parallel, round)
				h.sim.ResetCounts()
				res, _, _ := h.syncAndCount(t, workflows.CollectionSyncInput{SnapshotOnly: true, ChunkSize: chunk}, id)
				if snapshot.IsZero() {
					snapshot = res.Snapshot
				} else if res.Snapshot != snapshot {
					t.Errorf("%s stored snapshot %s, want %s as every other setting", id, res.Snapshot, snapshot)
				}
				key := [2]int{chunk, parallel}
				if results[key] == nil {
					results[key] = &figures{}
				}
				f := results[key]
				f.times = append(f.times, activityDuration(t, h, id, activities.ReadLineageName))
				f.requests = h.sim.Count(tableausim.KindGraphQL)
				f.chunks = readLineageResult(t, h, id).Chunks
			}
		}
	}
	if after, _ := readDirect(); after < direct {
		direct = after
	}

	fmt.Printf("ReadSnapshot of %d workbooks: %s, %d GraphQL requests\n", workbooks, direct.Round(time.Millisecond), directRequests)
	fmt.Printf("| chunk size | chunks in flight | chunks | GraphQL requests | ReadLineage (median of %d) | ratio to ReadSnapshot |\n", rounds)
	for _, chunk := range []int{500, 1000, 2000} {
		for _, parallel := range []int{1, 2, 4} {
			f := results[[2]int{chunk, parallel}]
			times := slices.Clone(f.times)
			slices.Sort(times)
			median := times[len(times)/2]
			fmt.Printf("| %d | %d | %d | %d | %s | %.2f |\n", chunk, parallel, f.chunks, f.requests,
				median.Round(10*time.Millisecond), float64(median)/float64(direct))
		}
	}
}

// writeManifestVariant writes the bundled manifest with metadata.generated_at
// set to generatedAt, without the supplies model when dropSupplies is set,
// and returns its path.
func writeManifestVariant(t *testing.T, generatedAt time.Time, dropSupplies bool) string {
	t.Helper()
	data, err := os.ReadFile(repoFile(t, "internal/demo/assets/manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["metadata"].(map[string]any)["generated_at"] = generatedAt.UTC().Format(time.RFC3339Nano)
	if dropSupplies {
		delete(m["nodes"].(map[string]any), "model.jaffle_shop.supplies")
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDevServerLateNoticeKeepsFile delivers the notice of an older dbt run
// after a newer one: the late run reports on its own manifest but leaves
// the exposures file and the latest manifest to the newer run.
func TestDevServerLateNoticeKeepsFile(t *testing.T) {
	h := startHarness(t, jaffleSite(), 2)
	ctx := context.Background()
	finished := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	runLineage := func(in workflows.JobLineageInput) workflows.JobLineageResult {
		t.Helper()
		run, err := h.client.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(testTaskQueue, in), workflows.JobLineageWorkflowName, in)
		if err != nil {
			t.Fatal(err)
		}
		var res workflows.JobLineageResult
		if err := run.Get(ctx, &res); err != nil {
			t.Fatalf("job lineage %s: %v", in.DbtRunID, err)
		}
		return res
	}

	newer := runLineage(workflows.JobLineageInput{DbtRunID: "devserver-late-2", ManifestLocation: writeManifestVariant(t, finished.Add(time.Hour), true)})
	written, err := os.ReadFile(h.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	late := runLineage(workflows.JobLineageInput{DbtRunID: "devserver-late-1", ManifestLocation: writeManifestVariant(t, finished, false)})
	t.Logf("late run: %s", late.Summary)

	if newer.Exposures.Superseded {
		t.Errorf("the newer run is marked superseded: %s", newer.Summary)
	}
	if !late.Exposures.Superseded {
		t.Errorf("the late run is not marked superseded: %s", late.Summary)
	}
	if !strings.Contains(late.Summary, "exposures file was left as it is") {
		t.Errorf("late run summary %q does not say the file was left as it is", late.Summary)
	}
	after, err := os.ReadFile(h.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(written), string(after)); diff != "" {
		t.Errorf("the late run changed the exposures file (-newer run +after late run):\n%s", diff)
	}
	latest, err := h.store.Latest(store.KindManifest)
	if err != nil {
		t.Fatal(err)
	}
	if latest != newer.Manifest {
		t.Errorf("latest manifest = %s, want the newer run's %s", latest.Short(), newer.Manifest.Short())
	}
}
