package activities

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
)

// Fixtures: the jaffle_shop manifest and run results of one real dbt 1.12
// run, and a site whose extracts were refreshed before (Orders, the
// Supplies data source) or after (Customers) that run. Supplies is a
// published data source that two workbooks share.
const (
	refreshManifestPath   = "../testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json"
	refreshRunResultsPath = "../testdata/manifests/artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"
	refreshSitePath       = "testdata/refresh_site.json"

	ordersLUID    = "5b1f0c2e-0000-4000-8000-0000000000a1"
	customersLUID = "5b1f0c2e-0000-4000-8000-0000000000b2"
	productsLUID  = "5b1f0c2e-0000-4000-8000-0000000000d4"
	suppliesLUID  = "d5000000-0000-4000-8000-0000000000c3"
)

// refreshFixture is a store holding the three artifacts and the settings
// that point the stale list into a temporary directory.
type refreshFixture struct {
	store    store.Store
	settings config.Settings
	input    FindStaleInput
}

func newRefreshFixture(t *testing.T, runResults []byte) refreshFixture {
	t.Helper()
	dir := t.TempDir()
	st, err := store.New(filepath.Join(dir, "state"))
	if err != nil {
		t.Fatalf("store.New: %v", err)
	}
	put := func(kind string, data []byte) store.Ref {
		ref, err := st.Put(kind, bytes.NewReader(data))
		if err != nil {
			t.Fatalf("Put %s: %v", kind, err)
		}
		return ref
	}
	if runResults == nil {
		runResults = buildRunResults(t, "")
	}
	return refreshFixture{
		store: st,
		settings: config.Settings{
			StateDir:           filepath.Join(dir, "state"),
			ExposuresPath:      filepath.Join(dir, "out", "tableau.yml"),
			Refresh:            true,
			RefreshMinInterval: 24 * time.Hour,
			TaskQueue:          "autoexposures",
		},
		input: FindStaleInput{
			DbtRunID:   "run-42",
			Manifest:   put(store.KindManifest, readFile(t, refreshManifestPath)),
			Snapshot:   put(store.KindSnapshot, readFile(t, refreshSitePath)),
			RunResults: put(store.KindRunResults, runResults),
		},
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return data
}

// buildRunResults returns the fixture's run results as dbt build would
// write them, with the given nodes set to status, as when a model errors or
// is skipped. The fixture itself was written by dbt docs generate, whose
// results rebuild nothing.
func buildRunResults(t *testing.T, status string, uniqueIDs ...string) []byte {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(readFile(t, refreshRunResultsPath), &doc); err != nil {
		t.Fatalf("decoding run results: %v", err)
	}
	doc["args"].(map[string]any)["which"] = "build"
	for _, r := range doc["results"].([]any) {
		r := r.(map[string]any)
		if slices.Contains(uniqueIDs, r["unique_id"].(string)) {
			r["status"] = status
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatalf("encoding run results: %v", err)
	}
	return data
}

// run runs FindStaleExtracts and returns its result and the refresh
// requests it stored.
func (f refreshFixture) run(t *testing.T) (FindStaleResult, []RefreshRequest, error) {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	a := &Activities{Store: f.store, Settings: f.settings}
	env.RegisterActivity(a.FindStaleExtracts)

	val, err := env.ExecuteActivity(a.FindStaleExtracts, f.input)
	if err != nil {
		return FindStaleResult{}, nil, err
	}
	var res FindStaleResult
	if err := val.Get(&res); err != nil {
		t.Fatalf("decoding result: %v", err)
	}
	if res.Requests.IsZero() {
		return res, nil, nil
	}
	requests, err := a.LoadRefreshRequests(res.Requests)
	if err != nil {
		t.Fatalf("LoadRefreshRequests: %v", err)
	}
	if len(requests) != res.Refreshes {
		t.Errorf("stored %d requests, result counts %d", len(requests), res.Refreshes)
	}
	return res, requests, nil
}

// refreshKey is what the comparisons look at in a refresh request: which
// extract, through which workbooks and which data sources.
type refreshKey struct {
	LUID          string
	Kind          string
	Name          string
	WorkbookLUIDs []string
	DatasourceIDs []string
}

func keys(reqs []RefreshRequest) []refreshKey {
	var out []refreshKey
	for _, r := range reqs {
		out = append(out, refreshKey{r.ExtractLUID, r.Kind, r.Name, r.WorkbookLUIDs, r.DatasourceIDs})
	}
	return out
}

var (
	ordersKey = refreshKey{
		LUID: ordersLUID, Kind: KindWorkbook, Name: "Orders",
		WorkbookLUIDs: []string{ordersLUID}, DatasourceIDs: []string{"eds-order-items", "eds-orders"},
	}
	// Supplies serves two workbooks and is still one refresh.
	suppliesKey = refreshKey{
		LUID: suppliesLUID, Kind: KindDatasource, Name: "Supplies",
		WorkbookLUIDs: []string{customersLUID, productsLUID},
	}
)

func TestFindStaleExtracts(t *testing.T) {
	tests := []struct {
		name       string
		runResults func(t *testing.T) []byte
		settings   func(*config.Settings)
		want       []refreshKey
		wantStale  int
		wantOut    int
		disabled   bool
		wantNote   string // substring of the note
	}{
		{
			name:      "stale and not stale",
			want:      []refreshKey{ordersKey, suppliesKey},
			wantStale: 2,
		},
		{
			name: "errored models make nothing stale",
			runResults: func(t *testing.T) []byte {
				return buildRunResults(t, "error", "model.jaffle_shop.supplies", "model.jaffle_shop.stg_supplies")
			},
			want:      []refreshKey{ordersKey},
			wantStale: 1,
		},
		{
			name:       "docs generate results make nothing stale",
			runResults: func(t *testing.T) []byte { return readFile(t, refreshRunResultsPath) },
			wantNote:   "dbt docs generate",
		},
		{
			name:      "limited to a project",
			settings:  func(s *config.Settings) { s.RefreshProjects = []string{"operations"} },
			want:      []refreshKey{suppliesKey},
			wantStale: 2,
			wantOut:   1,
		},
		{
			name:      "limited to a collection by name",
			settings:  func(s *config.Settings) { s.RefreshCollections = []string{"Finance"} },
			want:      []refreshKey{ordersKey},
			wantStale: 2,
			wantOut:   1,
		},
		{
			name:      "switched off",
			settings:  func(s *config.Settings) { s.Refresh = false },
			wantStale: 2,
			disabled:  true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rr []byte
			if tt.runResults != nil {
				rr = tt.runResults(t)
			}
			f := newRefreshFixture(t, rr)
			if tt.settings != nil {
				tt.settings(&f.settings)
			}

			got, requests, err := f.run(t)
			if err != nil {
				t.Fatalf("FindStaleExtracts: %v", err)
			}

			if diff := cmp.Diff(tt.want, keys(requests)); diff != "" {
				t.Errorf("refreshes (-want +got):\n%s", diff)
			}
			if got.Stale != tt.wantStale {
				t.Errorf("Stale = %d, want %d", got.Stale, tt.wantStale)
			}
			if got.OutOfScope != tt.wantOut {
				t.Errorf("OutOfScope = %d, want %d", got.OutOfScope, tt.wantOut)
			}
			if got.Disabled != tt.disabled {
				t.Errorf("Disabled = %v, want %v", got.Disabled, tt.disabled)
			}
			if (tt.wantNote == "") != (got.Note == "") || !strings.Contains(got.Note, tt.wantNote) {
				t.Errorf("Note = %q, want one containing %q", got.Note, tt.wantNote)
			}
			for _, r := range requests {
				if r.DbtRunID != "run-42" || r.MinInterval != 24*time.Hour || len(r.Models) == 0 || r.LastRefresh == nil {
					t.Errorf("request %s: run %q, interval %s, %d models, last refresh %v; want run-42, 24h, models and a refresh time",
						r.ExtractLUID, r.DbtRunID, r.MinInterval, len(r.Models), r.LastRefresh)
				}
			}

			// The stale list is written even when refreshing is off.
			var report StaleReport
			if err := json.Unmarshal(readFile(t, got.ReportPath), &report); err != nil {
				t.Fatalf("reading the stale report: %v", err)
			}
			if got.ReportPath != f.settings.ExposuresPath+".stale.json" {
				t.Errorf("ReportPath = %q, want the exposures file with .stale.json", got.ReportPath)
			}
			if len(report.Extracts) != tt.wantStale || report.RefreshEnabled == tt.disabled || report.DbtRunID != "run-42" {
				t.Errorf("report: %d extracts, refresh enabled %v, run %q; want %d, %v, run-42",
					len(report.Extracts), report.RefreshEnabled, report.DbtRunID, tt.wantStale, !tt.disabled)
			}
		})
	}
}

func TestFindStaleExtractsRequestDetails(t *testing.T) {
	f := newRefreshFixture(t, nil)
	_, requests, err := f.run(t)
	if err != nil {
		t.Fatalf("FindStaleExtracts: %v", err)
	}

	models := map[string][]string{}
	for _, r := range requests {
		models[r.ExtractLUID] = r.Models
		// The workbook's refresh renews both embedded extracts, so the
		// older refresh time is the one that counts.
		if r.ExtractLUID == ordersLUID {
			if want := time.Date(2026, 8, 9, 5, 0, 0, 0, time.UTC); r.LastRefresh == nil || !r.LastRefresh.Equal(want) {
				t.Errorf("Orders LastRefresh = %v, want %v", r.LastRefresh, want)
			}
		}
	}
	// The models each workbook reads directly were rebuilt in the run.
	for luid, model := range map[string]string{ordersLUID: "model.jaffle_shop.orders", suppliesLUID: "model.jaffle_shop.supplies"} {
		if !slices.Contains(models[luid], model) {
			t.Errorf("models of %s = %v, want %s among them", luid, models[luid], model)
		}
	}
}

func TestFindStaleExtractsRejectsBadInput(t *testing.T) {
	tests := []struct {
		name     string
		change   func(*refreshFixture)
		wantType string
	}{
		{
			name:     "missing run results reference",
			change:   func(f *refreshFixture) { f.input.RunResults = store.Ref{} },
			wantType: ErrTypeInvalidInput,
		},
		{
			name: "blob not in store",
			change: func(f *refreshFixture) {
				f.input.Snapshot.Hash = "0000000000000000000000000000000000000000000000000000000000000000"
			},
			wantType: ErrTypeInvalidInput,
		},
		{
			name: "manifest is not a manifest",
			change: func(f *refreshFixture) {
				ref, err := f.store.Put(store.KindManifest, bytes.NewReader([]byte(`{"hello": "world"}`)))
				if err != nil {
					panic(err)
				}
				f.input.Manifest = ref
			},
			wantType: ErrTypeInvalidArtifact,
		},
		{
			name: "snapshot is not JSON",
			change: func(f *refreshFixture) {
				ref, err := f.store.Put(store.KindSnapshot, bytes.NewReader([]byte("workbooks: []\n")))
				if err != nil {
					panic(err)
				}
				f.input.Snapshot = ref
			},
			wantType: ErrTypeInvalidArtifact,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newRefreshFixture(t, nil)
			tt.change(&f)

			_, _, err := f.run(t)

			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("error = %v, want an application error", err)
			}
			if appErr.Type() != tt.wantType || !appErr.NonRetryable() {
				t.Errorf("error type %q, non-retryable %v; want %q, non-retryable", appErr.Type(), appErr.NonRetryable(), tt.wantType)
			}
			if _, err := os.Stat(StalePath(f.settings.ExposuresPath)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("stale report written after a failure: %v", err)
			}
		})
	}
}
