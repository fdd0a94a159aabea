package workflows

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// newEnv returns a test environment with the sync and post-job workflows
// and every activity registered under its name, for mocking.
func newEnv(t *testing.T) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(CollectionSyncWorkflow, workflow.RegisterOptions{Name: CollectionSyncWorkflowName})
	env.RegisterWorkflowWithOptions(JobLineageWorkflow, workflow.RegisterOptions{Name: JobLineageWorkflowName})

	a := &activities.Activities{}
	for name, fn := range map[string]any{
		activities.ListWorkbooksName:         a.ListWorkbooks,
		activities.ReadLineageName:           a.ReadLineage,
		activities.LoadArtifactsName:         a.LoadArtifacts,
		activities.ComputeExposuresName:      a.ComputeExposures,
		activities.GetLatestName:             a.GetLatest,
		activities.SetLatestName:             a.SetLatest,
		activities.ResolveSelectionName:      a.ResolveSelection,
		activities.FindStaleExtractsName:     a.FindStaleExtracts,
		activities.StartExtractRefreshesName: a.StartExtractRefreshes,
	} {
		env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	return env
}

func ref(kind, hashDigit string, size int64) store.Ref {
	return store.Ref{Kind: kind, Hash: strings.Repeat(hashDigit, 64), Size: size}
}

var (
	listRef       = ref(store.KindWorkbookList, "1", 100)
	snapshotRef   = ref(store.KindSnapshot, "2", 2000)
	manifestRef   = ref(store.KindManifest, "3", 3000)
	runResultsRef = ref(store.KindRunResults, "4", 400)
	reportRef     = ref(store.KindReport, "5", 500)
	oldSnapshot   = ref(store.KindSnapshot, "6", 1900)
	requestsRef   = ref(activities.KindRefreshRequests, "7", 700)
)

var financeSelection = tableau.Selection{Collections: []string{"Finance"}}

// scheduledSelection is the daily schedule's selection in the post-job
// tests, which differs from the worker's default the mocked listing uses.
var scheduledSelection = tableau.Selection{Projects: []string{"Jaffle"}}

var computed = activities.ComputeExposuresResult{
	Exposures:       3,
	Added:           1,
	Changed:         1,
	AddedNames:      []string{"orders_dashboard"},
	ChangedNames:    []string{"revenue"},
	MatchedTables:   7,
	UnmatchedTables: 2,
	Unmatched:       []string{"wb-9: raw.events (no_relation)", "wb-9: tmp.scratch (no_relation)"},
	FileChanged:     true,
	ExposuresPath:   "out/tableau_exposures.yml",
	ReportPath:      "out/tableau_exposures.report.json",
	Report:          reportRef,
}

// onSyncActivities mocks the activities of a sync that finds latestManifest
// in the store, recording every activity input into calls.
func onSyncActivities(env *testsuite.TestWorkflowEnvironment, latestManifest store.Ref, calls *[]any) {
	env.OnActivity(activities.ListWorkbooksName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ListWorkbooksInput) (activities.ListWorkbooksResult, error) {
			*calls = append(*calls, in)
			sel := in.Selection
			if sel.IsEmpty() {
				sel = financeSelection
			}
			return activities.ListWorkbooksResult{WorkbookList: listRef, Selection: sel, Workbooks: 12, Collections: 1}, nil
		})
	env.OnActivity(activities.ReadLineageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReadLineageInput) (activities.ReadLineageResult, error) {
			*calls = append(*calls, in)
			return activities.ReadLineageResult{Snapshot: snapshotRef, Workbooks: 11, PublishedDatasources: 4, Missing: 1, Chunks: 1}, nil
		})
	env.OnActivity(activities.SetLatestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SetLatestInput) error {
			*calls = append(*calls, in)
			return nil
		})
	env.OnActivity(activities.GetLatestName, mock.Anything, store.KindManifest).Return(
		func(_ context.Context, kind string) (store.Ref, error) {
			*calls = append(*calls, "latest "+kind)
			return latestManifest, nil
		})
	env.OnActivity(activities.ComputeExposuresName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ComputeExposuresInput) (activities.ComputeExposuresResult, error) {
			*calls = append(*calls, in)
			return computed, nil
		})
}

func TestCollectionSyncWorkflow(t *testing.T) {
	tests := []struct {
		name      string
		in        CollectionSyncInput
		manifest  store.Ref
		wantCalls []any
		want      CollectionSyncResult
	}{
		{
			name:     "computes against latest manifest",
			in:       CollectionSyncInput{Selection: financeSelection, ChunkSize: 50},
			manifest: manifestRef,
			wantCalls: []any{
				activities.ListWorkbooksInput{Selection: financeSelection},
				activities.ReadLineageInput{WorkbookList: listRef, ChunkSize: 50},
				activities.SetLatestInput{Kind: store.KindSnapshot, Ref: snapshotRef},
				"latest manifest",
				activities.ComputeExposuresInput{Manifest: manifestRef, Snapshot: snapshotRef},
			},
			want: CollectionSyncResult{
				Selection: financeSelection, Workbooks: 11, Collections: 1, PublishedDatasources: 4, Missing: 1,
				Snapshot: snapshotRef, Manifest: manifestRef, Exposures: &computed,
				Summary: "read 11 workbooks (1 deleted meanwhile); 3 exposures: 1 added, 1 changed, 0 removed; 2 unmatched tables",
			},
		},
		{
			name: "no manifest yet skips exposures",
			in:   CollectionSyncInput{},
			wantCalls: []any{
				activities.ListWorkbooksInput{},
				activities.ReadLineageInput{WorkbookList: listRef},
				activities.SetLatestInput{Kind: store.KindSnapshot, Ref: snapshotRef},
				"latest manifest",
			},
			want: CollectionSyncResult{
				Selection: financeSelection, Workbooks: 11, Collections: 1, PublishedDatasources: 4, Missing: 1,
				Snapshot: snapshotRef,
				Summary:  "read 11 workbooks (1 deleted meanwhile); no manifest yet, so exposures are computed after the first job-completed",
			},
		},
		{
			name:     "snapshot only stops after latest",
			in:       CollectionSyncInput{SnapshotOnly: true},
			manifest: manifestRef,
			wantCalls: []any{
				activities.ListWorkbooksInput{},
				activities.ReadLineageInput{WorkbookList: listRef},
				activities.SetLatestInput{Kind: store.KindSnapshot, Ref: snapshotRef},
			},
			want: CollectionSyncResult{
				Selection: financeSelection, Workbooks: 11, Collections: 1, PublishedDatasources: 4, Missing: 1,
				Snapshot: snapshotRef,
				Summary:  "read 11 workbooks (1 deleted meanwhile)",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			var calls []any
			onSyncActivities(env, tt.manifest, &calls)

			env.ExecuteWorkflow(CollectionSyncWorkflowName, tt.in)

			if !env.IsWorkflowCompleted() {
				t.Fatal("workflow did not complete")
			}
			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("workflow error: %v", err)
			}
			var got CollectionSyncResult
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("activity calls (-want +got):\n%s", diff)
			}
			progress := queryProgress(t, env)
			if progress.Step != StepDone {
				t.Errorf("progress step = %q, want %q", progress.Step, StepDone)
			}
			if progress.Snapshot != snapshotRef.Short() {
				t.Errorf("progress snapshot = %q, want %q", progress.Snapshot, snapshotRef.Short())
			}
		})
	}
}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) Progress {
	t.Helper()
	v, err := env.QueryWorkflow(ProgressQuery)
	if err != nil {
		t.Fatalf("progress query: %v", err)
	}
	var p Progress
	if err := v.Get(&p); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCollectionSyncUnknownCollectionFails(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.ListWorkbooksName, mock.Anything, mock.Anything).Return(
		activities.ListWorkbooksResult{},
		temporal.NewNonRetryableApplicationError(`collection "Finanse" not found: check the selected collections`, activities.ErrTypeNotFound, nil))

	env.ExecuteWorkflow(CollectionSyncWorkflowName, CollectionSyncInput{Selection: tableau.Selection{Collections: []string{"Finanse"}}})

	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("workflow succeeded, want the listing error")
	}
	if !strings.Contains(err.Error(), `collection "Finanse" not found`) {
		t.Errorf("workflow error = %v, want it to name the collection", err)
	}
	env.AssertNotCalled(t, activities.ReadLineageName, mock.Anything, mock.Anything)
	progress := queryProgress(t, env)
	if progress.Step != StepFailed {
		t.Errorf("progress step = %q, want %q", progress.Step, StepFailed)
	}
	if !strings.Contains(progress.Error, "Finanse") {
		t.Errorf("progress error = %q, want it to name the collection", progress.Error)
	}
}

func TestCollectionSyncRetriesReadLineage(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.ListWorkbooksName, mock.Anything, mock.Anything).Return(
		activities.ListWorkbooksResult{WorkbookList: listRef, Workbooks: 12}, nil)
	env.OnActivity(activities.SetLatestName, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(activities.GetLatestName, mock.Anything, store.KindManifest).Return(store.Ref{}, nil)
	attempts := 0
	env.OnActivity(activities.ReadLineageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReadLineageInput) (activities.ReadLineageResult, error) {
			attempts++
			if attempts < 3 {
				return activities.ReadLineageResult{}, temporal.NewApplicationError("Tableau server error (HTTP 503)", activities.ErrTypeTableau)
			}
			return activities.ReadLineageResult{Snapshot: snapshotRef, Workbooks: 12}, nil
		})

	env.ExecuteWorkflow(CollectionSyncWorkflowName, CollectionSyncInput{})

	if err := env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow error: %v", err)
	}
	if attempts != 3 {
		t.Errorf("ReadLineage ran %d times, want 3", attempts)
	}
}

// onLineageActivities mocks the activities of a post-job run whose store
// holds latestSnapshot, recording every activity input into calls.
func onLineageActivities(env *testsuite.TestWorkflowEnvironment, latestSnapshot store.Ref, calls *[]any) {
	env.OnActivity(activities.LoadArtifactsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadArtifactsInput) (activities.LoadArtifactsResult, error) {
			*calls = append(*calls, in)
			res := activities.LoadArtifactsResult{Manifest: manifestRef, SchemaVersion: 12, Nodes: 30, Sources: 3}
			if in.RunResultsLocation != "" {
				res.RunResults = runResultsRef
			}
			return res, nil
		})
	env.OnActivity(activities.SetLatestName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SetLatestInput) error {
			*calls = append(*calls, in)
			return nil
		})
	env.OnActivity(activities.GetLatestName, mock.Anything, store.KindSnapshot).Return(
		func(_ context.Context, kind string) (store.Ref, error) {
			*calls = append(*calls, "latest "+kind)
			return latestSnapshot, nil
		})
	env.OnActivity(activities.ResolveSelectionName, mock.Anything).Return(
		func(context.Context) (activities.ResolveSelectionResult, error) {
			*calls = append(*calls, "resolve selection")
			return activities.ResolveSelectionResult{Selection: scheduledSelection, Source: activities.SelectionFromSchedule}, nil
		})
	env.OnActivity(activities.ComputeExposuresName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ComputeExposuresInput) (activities.ComputeExposuresResult, error) {
			*calls = append(*calls, in)
			return computed, nil
		})
	env.OnActivity(activities.FindStaleExtractsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.FindStaleInput) (activities.FindStaleResult, error) {
			*calls = append(*calls, in)
			return activities.FindStaleResult{Stale: 1, Requests: requestsRef, Refreshes: 1}, nil
		})
	env.OnActivity(activities.StartExtractRefreshesName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.StartRefreshesInput) (activities.StartRefreshesResult, error) {
			*calls = append(*calls, in)
			return activities.StartRefreshesResult{Started: 1, Workflows: []activities.StartedRefresh{{WorkflowID: "refresh-ds-1", RunID: "r1"}}}, nil
		})
	// The child sync, when one runs.
	env.OnActivity(activities.ListWorkbooksName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ListWorkbooksInput) (activities.ListWorkbooksResult, error) {
			*calls = append(*calls, in)
			return activities.ListWorkbooksResult{WorkbookList: listRef, Selection: financeSelection, Workbooks: 12}, nil
		})
	env.OnActivity(activities.ReadLineageName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.ReadLineageInput) (activities.ReadLineageResult, error) {
			*calls = append(*calls, in)
			return activities.ReadLineageResult{Snapshot: snapshotRef, Workbooks: 12}, nil
		})
}

func TestJobLineageWorkflow(t *testing.T) {
	withRunResults := JobLineageInput{DbtRunID: "run-42", ManifestLocation: "/dbt/target/manifest.json", RunResultsLocation: "/dbt/target/run_results.json"}
	manifestOnly := JobLineageInput{DbtRunID: "run-43", ManifestLocation: "https://artifacts.example/manifest.json"}

	tests := []struct {
		name      string
		in        JobLineageInput
		snapshot  store.Ref
		wantCalls []any
		want      JobLineageResult
	}{
		{
			name:     "latest snapshot with run results",
			in:       withRunResults,
			snapshot: oldSnapshot,
			wantCalls: []any{
				activities.LoadArtifactsInput{DbtRunID: "run-42", ManifestLocation: withRunResults.ManifestLocation, RunResultsLocation: withRunResults.RunResultsLocation},
				activities.SetLatestInput{Kind: store.KindManifest, Ref: manifestRef},
				"latest snapshot",
				activities.ComputeExposuresInput{DbtRunID: "run-42", Manifest: manifestRef, Snapshot: oldSnapshot, RunResults: runResultsRef},
				activities.FindStaleInput{DbtRunID: "run-42", Manifest: manifestRef, Snapshot: oldSnapshot, RunResults: runResultsRef},
				activities.StartRefreshesInput{DbtRunID: "run-42", Requests: requestsRef},
			},
			want: JobLineageResult{
				DbtRunID: "run-42", Manifest: manifestRef, RunResults: runResultsRef, Snapshot: oldSnapshot,
				Exposures: computed,
				Refresh:   RefreshTriggerResult{Stale: 1, Started: 1, Refreshes: []string{"refresh-ds-1"}},
				Summary:   "dbt run run-42: 3 exposures: 1 added, 1 changed, 0 removed; 2 unmatched tables; 1 stale extracts, 1 refreshes started",
			},
		},
		{
			name:     "project change passed to the loader",
			in:       JobLineageInput{DbtRunID: "run-44", ManifestLocation: "/dbt/target/manifest.json", AllowProjectChange: true},
			snapshot: oldSnapshot,
			wantCalls: []any{
				activities.LoadArtifactsInput{DbtRunID: "run-44", ManifestLocation: "/dbt/target/manifest.json", AllowProjectChange: true},
				activities.SetLatestInput{Kind: store.KindManifest, Ref: manifestRef},
				"latest snapshot",
				activities.ComputeExposuresInput{DbtRunID: "run-44", Manifest: manifestRef, Snapshot: oldSnapshot},
			},
			want: JobLineageResult{
				DbtRunID: "run-44", Manifest: manifestRef, Snapshot: oldSnapshot,
				Exposures: computed,
				Summary:   "dbt run run-44: 3 exposures: 1 added, 1 changed, 0 removed; 2 unmatched tables",
			},
		},
		{
			name:     "no snapshot runs child sync",
			in:       manifestOnly,
			snapshot: store.Ref{},
			wantCalls: []any{
				activities.LoadArtifactsInput{DbtRunID: "run-43", ManifestLocation: manifestOnly.ManifestLocation},
				activities.SetLatestInput{Kind: store.KindManifest, Ref: manifestRef},
				"latest snapshot",
				"resolve selection",
				activities.ListWorkbooksInput{Selection: scheduledSelection},
				activities.ReadLineageInput{WorkbookList: listRef},
				activities.SetLatestInput{Kind: store.KindSnapshot, Ref: snapshotRef},
				activities.ComputeExposuresInput{DbtRunID: "run-43", Manifest: manifestRef, Snapshot: snapshotRef},
			},
			want: JobLineageResult{
				DbtRunID: "run-43", Manifest: manifestRef, Snapshot: snapshotRef,
				SyncWorkflowID: "collection-sync-lineage-run-43",
				Exposures:      computed,
				Summary:        "dbt run run-43: 3 exposures: 1 added, 1 changed, 0 removed; 2 unmatched tables",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)
			var calls []any
			onLineageActivities(env, tt.snapshot, &calls)

			env.ExecuteWorkflow(JobLineageWorkflowName, tt.in)

			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("workflow error: %v", err)
			}
			var got JobLineageResult
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, calls); diff != "" {
				t.Errorf("activity calls (-want +got):\n%s", diff)
			}
			progress := queryProgress(t, env)
			want := Progress{Step: StepDone, DbtRunID: tt.in.DbtRunID, Snapshot: got.Snapshot.Short(), Manifest: manifestRef.Short(),
				Exposures: 3, Added: 1, Changed: 1, UnmatchedTables: 2}
			if diff := cmp.Diff(want, progress); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJobLineageRejectsInvalidInput(t *testing.T) {
	tests := []struct {
		name string
		in   JobLineageInput
		want string
	}{
		{"no run ID", JobLineageInput{ManifestLocation: "target/manifest.json"}, "the dbt run ID is empty"},
		{"no manifest", JobLineageInput{DbtRunID: "run-1"}, "the manifest location is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newEnv(t)

			env.ExecuteWorkflow(JobLineageWorkflowName, tt.in)

			err := env.GetWorkflowError()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("workflow error = %v, want it to contain %q", err, tt.want)
			}
			env.AssertNotCalled(t, activities.LoadArtifactsName, mock.Anything, mock.Anything)
		})
	}
}

func TestJobLineageInvalidManifestFailsOnce(t *testing.T) {
	env := newEnv(t)
	attempts := 0
	env.OnActivity(activities.LoadArtifactsName, mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.LoadArtifactsInput) (activities.LoadArtifactsResult, error) {
			attempts++
			return activities.LoadArtifactsResult{}, temporal.NewNonRetryableApplicationError(
				"target/manifest.json: a dbt run results file (run-results v6), but a dbt manifest.json was expected", activities.ErrTypeInvalidArtifact, nil)
		})

	env.ExecuteWorkflow(JobLineageWorkflowName, JobLineageInput{DbtRunID: "run-7", ManifestLocation: "target/manifest.json"})

	err := env.GetWorkflowError()
	if err == nil || !strings.Contains(err.Error(), "a dbt manifest.json was expected") {
		t.Errorf("workflow error = %v, want the artifact error", err)
	}
	if attempts != 1 {
		t.Errorf("LoadArtifacts ran %d times, want 1", attempts)
	}
	env.AssertNotCalled(t, activities.SetLatestName, mock.Anything, mock.Anything)
}

func TestStartOptions(t *testing.T) {
	in := JobLineageInput{DbtRunID: "8812", ManifestLocation: "https://ci.example/artifacts/manifest.json?X-Amz-Signature=abc", RunResultsLocation: "/srv/dbt/run_results.json"}

	opts := JobLineageStartOptions("autoexposures", in)

	if opts.ID != "lineage-8812" {
		t.Errorf("ID = %q, want lineage-8812", opts.ID)
	}
	if opts.StaticSummary != "Exposures for dbt run 8812" {
		t.Errorf("StaticSummary = %q", opts.StaticSummary)
	}
	if strings.Contains(opts.StaticDetails, "Signature") {
		t.Errorf("StaticDetails shows the URL's query: %s", opts.StaticDetails)
	}
	if !strings.Contains(opts.StaticDetails, "/srv/dbt/run_results.json") {
		t.Errorf("StaticDetails lacks the run results path: %s", opts.StaticDetails)
	}

	sync := CollectionSyncStartOptions("autoexposures", CollectionSyncInput{Selection: tableau.Selection{Collections: []string{"Finance", "Sales"}}}, refreshStart)
	if sync.ID != "collection-sync-2026-09-01T08:00:00Z" {
		t.Errorf("sync ID = %q", sync.ID)
	}
	if sync.StaticSummary != "Tableau sync of collections Finance, Sales" {
		t.Errorf("sync StaticSummary = %q", sync.StaticSummary)
	}
}

func TestJobLineageChildSyncFailure(t *testing.T) {
	env := newEnv(t)
	env.OnActivity(activities.LoadArtifactsName, mock.Anything, mock.Anything).Return(
		activities.LoadArtifactsResult{Manifest: manifestRef}, nil)
	env.OnActivity(activities.SetLatestName, mock.Anything, mock.Anything).Return(nil)
	env.OnActivity(activities.GetLatestName, mock.Anything, store.KindSnapshot).Return(store.Ref{}, nil)
	env.OnActivity(activities.ResolveSelectionName, mock.Anything).Return(
		activities.ResolveSelectionResult{Source: activities.SelectionFromDefault}, nil)
	env.OnActivity(activities.ListWorkbooksName, mock.Anything, mock.Anything).Return(
		activities.ListWorkbooksResult{},
		temporal.NewNonRetryableApplicationError("invalid Tableau credentials: check TABLEAU_TOKEN_SECRET", activities.ErrTypeInvalidCredentials, nil))

	env.ExecuteWorkflow(JobLineageWorkflowName, JobLineageInput{DbtRunID: "run-9", ManifestLocation: "target/manifest.json"})

	err := env.GetWorkflowError()
	for _, want := range []string{"syncing Tableau before the first computation", "TABLEAU_TOKEN_SECRET"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("workflow error = %v, want it to contain %q", err, want)
		}
	}
	env.AssertNotCalled(t, activities.ComputeExposuresName, mock.Anything, mock.Anything)
	progress := queryProgress(t, env)
	if progress.Step != StepFailed || progress.Manifest != manifestRef.Short() {
		t.Errorf("progress = %+v, want failed with the manifest recorded", progress)
	}
}

func TestLineageSummarySuperseded(t *testing.T) {
	newer := store.Ref{Kind: store.KindManifest, Hash: strings.Repeat("9", 64), Size: 10}
	late := computed
	late.Superseded, late.NewerManifest = true, newer
	late.Note = "the latest manifest manifest:999999999999 is newer than this run's, so the exposures file was left as it is"

	got := lineageSummary(JobLineageResult{DbtRunID: "run-41", Exposures: late})

	want := "dbt run run-41: 3 exposures: 1 added, 1 changed, 0 removed; 2 unmatched tables; not written: " +
		"the latest manifest manifest:999999999999 is newer than this run's, so the exposures file was left as it is"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

// A whole-site sync of a site without workbooks writes an empty exposures
// file; the summary warns, so that operators see why the file is empty.
func TestSyncSummaryEmptySite(t *testing.T) {
	empty := activities.ComputeExposuresResult{FileChanged: true}
	tests := []struct {
		name string
		in   CollectionSyncResult
		want string
	}{
		{"empty site", CollectionSyncResult{Manifest: manifestRef, Exposures: &empty},
			"read 0 workbooks; warning: the site has no workbooks the token's user can see, so the exposures file is empty; 0 exposures: 0 added, 0 changed, 0 removed; 0 unmatched tables"},
		{"site with workbooks", CollectionSyncResult{Workbooks: 2, Manifest: manifestRef, Exposures: &empty},
			"read 2 workbooks; 0 exposures: 0 added, 0 changed, 0 removed; 0 unmatched tables"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, syncSummary(tt.in)); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
		})
	}
}
