package workflows

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
)

// The trigger reads real artifacts: the jaffle_shop manifest and run
// results of one dbt 1.12 run, and a site whose Orders workbook and shared
// Supplies data source were refreshed before that run, and whose Customers
// workbook was refreshed after it.
const (
	triggerManifest   = "../testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json"
	triggerRunResults = "../testdata/manifests/artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"
	triggerSite       = "../activities/testdata/refresh_site.json"

	triggerOrdersLUID   = "5b1f0c2e-0000-4000-8000-0000000000a1"
	triggerSuppliesLUID = "d5000000-0000-4000-8000-0000000000c3"
)

// triggerTestWorkflow runs the trigger the way JobLineageWorkflow does.
func triggerTestWorkflow(ctx workflow.Context, in RefreshTrigger) (RefreshTriggerResult, error) {
	return startStaleRefreshes(ctx, in)
}

// triggerRequest is what the tests compare in a started refresh.
type triggerRequest struct {
	ExtractLUID   string
	Kind          string
	WorkbookLUIDs int
	DbtRunID      string
	MinInterval   time.Duration
}

func TestStartStaleRefreshes(t *testing.T) {
	tests := []struct {
		name       string
		runResults func(t *testing.T) []byte
		refreshOff bool
		noResults  bool
		want       RefreshTriggerResult
		wantNote   string // substring of the result's note
		wantStarts []triggerRequest
	}{
		{
			// Supplies serves two workbooks and is refreshed once; Customers
			// was refreshed after the run and is not stale.
			name: "stale and not stale",
			want: RefreshTriggerResult{
				Stale:     2,
				Started:   2,
				Refreshes: []string{"refresh-" + triggerOrdersLUID, "refresh-" + triggerSuppliesLUID},
			},
			wantStarts: []triggerRequest{
				{ExtractLUID: triggerOrdersLUID, Kind: activities.KindWorkbook, WorkbookLUIDs: 1, DbtRunID: "run-7", MinInterval: 24 * time.Hour},
				{ExtractLUID: triggerSuppliesLUID, Kind: activities.KindDatasource, WorkbookLUIDs: 2, DbtRunID: "run-7", MinInterval: 24 * time.Hour},
			},
		},
		{
			name:       "nothing stale when every model was skipped",
			runResults: func(t *testing.T) []byte { return everyResultStatus(t, "skipped") },
			want:       RefreshTriggerResult{Ignored: 19},
		},
		{
			name:       "nothing stale after dbt docs generate",
			runResults: func(t *testing.T) []byte { return refreshFixture(t, triggerRunResults) },
			want:       RefreshTriggerResult{},
			wantNote:   "dbt docs generate",
		},
		{
			name:       "refresh switched off",
			refreshOff: true,
			want:       RefreshTriggerResult{Disabled: true, Stale: 2},
		},
		{
			name:      "no run results",
			noResults: true,
			want:      RefreshTriggerResult{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			st, err := store.New(filepath.Join(dir, "state"))
			if err != nil {
				t.Fatal(err)
			}
			runResults := everyResultStatus(t, "")
			if tt.runResults != nil {
				runResults = tt.runResults(t)
			}
			in := RefreshTrigger{
				DbtRunID:   "run-7",
				Manifest:   putRefreshFixture(t, st, store.KindManifest, refreshFixture(t, triggerManifest)),
				Snapshot:   putRefreshFixture(t, st, store.KindSnapshot, refreshFixture(t, triggerSite)),
				RunResults: putRefreshFixture(t, st, store.KindRunResults, runResults),
			}
			if tt.noResults {
				in.RunResults = store.Ref{}
			}
			acts := &activities.Activities{Store: st, Settings: config.Settings{
				ExposuresPath:      filepath.Join(dir, "tableau.yml"),
				Refresh:            config.Switch(!tt.refreshOff),
				RefreshMinInterval: 24 * time.Hour,
				TaskQueue:          "autoexposures",
			}}

			env := newRefreshEnv(t)
			env.RegisterWorkflow(triggerTestWorkflow)
			// The stale extracts are found by the real activity; only the
			// start, which needs a Temporal server, is mocked.
			env.RegisterActivityWithOptions(acts.FindStaleExtracts, activity.RegisterOptions{Name: activities.FindStaleExtractsName})
			var starts []triggerRequest
			env.OnActivity(activities.StartExtractRefreshesName, mock.Anything, mock.Anything).Return(
				func(_ context.Context, in activities.StartRefreshesInput) (activities.StartRefreshesResult, error) {
					requests, err := acts.LoadRefreshRequests(in.Requests)
					if err != nil {
						return activities.StartRefreshesResult{}, err
					}
					var res activities.StartRefreshesResult
					for _, r := range requests {
						res.Started++
						starts = append(starts, triggerRequest{r.ExtractLUID, r.Kind, len(r.WorkbookLUIDs), r.DbtRunID, r.MinInterval})
						res.Workflows = append(res.Workflows, activities.StartedRefresh{WorkflowID: activities.RefreshWorkflowID(r.ExtractLUID), RunID: "run"})
					}
					return res, nil
				})

			env.ExecuteWorkflow(triggerTestWorkflow, in)

			if err := env.GetWorkflowError(); err != nil {
				t.Fatalf("workflow error: %v", err)
			}
			var got RefreshTriggerResult
			if err := env.GetWorkflowResult(&got); err != nil {
				t.Fatal(err)
			}
			if (tt.wantNote == "") != (got.Note == "") || !strings.Contains(got.Note, tt.wantNote) {
				t.Errorf("Note = %q, want one containing %q", got.Note, tt.wantNote)
			}
			got.Note = ""
			want := tt.want
			if !tt.noResults {
				want.ReportPath = acts.Settings.ExposuresPath + ".stale.json"
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantStarts, starts); diff != "" {
				t.Errorf("started refreshes (-want +got):\n%s", diff)
			}
		})
	}
}

func refreshFixture(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func putRefreshFixture(t *testing.T, st store.Store, kind string, data []byte) store.Ref {
	t.Helper()
	ref, err := st.Put(kind, bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Put %s: %v", kind, err)
	}
	return ref
}

// everyResultStatus returns the fixture run results as dbt build would
// write them, with every node's status set to status unless it is empty.
// The fixture itself was written by dbt docs generate, whose results
// rebuild nothing.
func everyResultStatus(t *testing.T, status string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(refreshFixture(t, triggerRunResults), &doc); err != nil {
		t.Fatal(err)
	}
	doc["args"].(map[string]any)["which"] = "build"
	for _, r := range doc["results"].([]any) {
		if status != "" {
			r.(map[string]any)["status"] = status
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
