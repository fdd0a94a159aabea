package activities

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// onDemandFixture writes the exposures file that the worker would write for
// the refresh fixture site and the jaffle_shop manifest. It returns the
// site's snapshot, the file's path and the exposure names by workbook LUID.
func onDemandFixture(t *testing.T) (*tableau.Snapshot, string, map[string]string) {
	t.Helper()
	m, err := dbt.ReadManifestFile(refreshManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var snap tableau.Snapshot
	if err := json.Unmarshal(readFile(t, refreshSitePath), &snap); err != nil {
		t.Fatal(err)
	}
	out, err := exposures.Generate(exposures.Input{Manifest: m, Snapshot: &snap})
	if err != nil {
		t.Fatalf("generating exposures: %v", err)
	}
	path := filepath.Join(t.TempDir(), "tableau.yml")
	if err := os.WriteFile(path, out.YAML, 0o644); err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	for _, e := range out.Exposures {
		names[e.WorkbookLUID] = e.Name
	}
	return &snap, path, names
}

// onDemandRequest is what the tests compare in a resolved request.
type onDemandRequest struct {
	LUID, Kind, Name, Exposure string
	OnDemand                   bool
}

func onDemandRequests(reqs []RefreshRequest) []onDemandRequest {
	var out []onDemandRequest
	for _, r := range reqs {
		out = append(out, onDemandRequest{r.ExtractLUID, r.Kind, r.Name, r.Exposure, r.OnDemand})
	}
	return out
}

func TestResolveRefreshTarget(t *testing.T) {
	snap, path, names := onDemandFixture(t)
	for _, luid := range []string{ordersLUID, customersLUID, productsLUID} {
		if names[luid] == "" {
			t.Fatalf("no exposure generated for workbook %s: %v", luid, names)
		}
	}
	tests := []struct {
		name       string
		in         OnDemandRefreshInput
		wantTarget string
		want       []onDemandRequest
	}{
		{
			"exposure with embedded extracts",
			OnDemandRefreshInput{Exposure: names[ordersLUID]},
			"exposure " + names[ordersLUID] + `: workbook "Orders" (` + ordersLUID + ")",
			[]onDemandRequest{{ordersLUID, KindWorkbook, "Orders", names[ordersLUID], true}},
		},
		{
			// The embedded extract through the workbook, the shared data
			// source on its own.
			"exposure with embedded and published extracts",
			OnDemandRefreshInput{Exposure: names[customersLUID]},
			"exposure " + names[customersLUID] + `: workbook "Customers" (` + customersLUID + ")",
			[]onDemandRequest{
				{customersLUID, KindWorkbook, "Customers", names[customersLUID], true},
				{suppliesLUID, KindDatasource, "Supplies", names[customersLUID], true},
			},
		},
		{
			// Products reads its own tables live, and the extract is the
			// published data source.
			"exposure whose extract is a published data source",
			OnDemandRefreshInput{Exposure: names[productsLUID]},
			"exposure " + names[productsLUID] + `: workbook "Products" (` + productsLUID + ")",
			[]onDemandRequest{{suppliesLUID, KindDatasource, "Supplies", names[productsLUID], true}},
		},
		{
			"workbook LUID",
			OnDemandRefreshInput{WorkbookLUID: customersLUID},
			`workbook "Customers" (` + customersLUID + ")",
			[]onDemandRequest{
				{customersLUID, KindWorkbook, "Customers", "", true},
				{suppliesLUID, KindDatasource, "Supplies", "", true},
			},
		},
		{
			"data source LUID",
			OnDemandRefreshInput{DatasourceLUID: suppliesLUID},
			`data source "Supplies" (` + suppliesLUID + ")",
			[]onDemandRequest{{suppliesLUID, KindDatasource, "Supplies", "", true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveRefreshTarget(snap, path, tt.in)

			if err != nil {
				t.Fatalf("ResolveRefreshTarget: %v", err)
			}
			if got.Target != tt.wantTarget {
				t.Errorf("target = %q, want %q", got.Target, tt.wantTarget)
			}
			if diff := cmp.Diff(tt.want, onDemandRequests(got.Requests)); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if got.NothingToRefresh != "" || len(got.Notes) > 0 {
				t.Errorf("nothing to refresh %q, notes %q; want neither", got.NothingToRefresh, got.Notes)
			}
		})
	}
}

// A data source's request lists the workbooks that use it, which the
// workflow reads to learn Tableau's current refresh time.
func TestResolveRefreshTargetDatasourceWorkbooks(t *testing.T) {
	snap, path, _ := onDemandFixture(t)

	got, err := ResolveRefreshTarget(snap, path, OnDemandRefreshInput{DatasourceLUID: suppliesLUID})

	if err != nil {
		t.Fatalf("ResolveRefreshTarget: %v", err)
	}
	if diff := cmp.Diff([]string{customersLUID, productsLUID}, got.Requests[0].WorkbookLUIDs); diff != "" {
		t.Errorf("workbooks (-want +got):\n%s", diff)
	}
}

func TestResolveRefreshTargetNothingToRefresh(t *testing.T) {
	snap, path, names := onDemandFixture(t)
	// Make Supplies a live connection, so that Products uses no extract.
	for i := range snap.PublishedDatasources {
		if snap.PublishedDatasources[i].LUID == suppliesLUID {
			snap.PublishedDatasources[i].HasExtracts = false
		}
	}
	tests := []struct {
		name string
		in   OnDemandRefreshInput
		want string
	}{
		{"exposure", OnDemandRefreshInput{Exposure: names[productsLUID]},
			"exposure " + names[productsLUID] + `: workbook "Products" (` + productsLUID + ") uses no extract in the latest snapshot, only live connections, which need no refresh"},
		{"data source", OnDemandRefreshInput{DatasourceLUID: suppliesLUID},
			`data source "Supplies" (` + suppliesLUID + ") is a live connection in the latest snapshot, which needs no refresh"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ResolveRefreshTarget(snap, path, tt.in)

			if err != nil {
				t.Fatalf("ResolveRefreshTarget: %v", err)
			}
			if got.NothingToRefresh != tt.want {
				t.Errorf("nothing to refresh = %q, want %q", got.NothingToRefresh, tt.want)
			}
			if len(got.Requests) != 0 {
				t.Errorf("requests = %v, want none", onDemandRequests(got.Requests))
			}
		})
	}
}

// Without a snapshot the workbook is refreshed alone, labelled by its LUID
// and the exposure, never with the exposure's name as the workbook's.
func TestResolveRefreshTargetWithoutSnapshot(t *testing.T) {
	_, path, names := onDemandFixture(t)
	name := names[customersLUID]

	got, err := ResolveRefreshTarget(nil, path, OnDemandRefreshInput{Exposure: name})

	if err != nil {
		t.Fatalf("ResolveRefreshTarget: %v", err)
	}
	if diff := cmp.Diff([]onDemandRequest{{customersLUID, KindWorkbook, "", name, true}}, onDemandRequests(got.Requests)); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if len(got.Notes) != 1 || !strings.Contains(got.Notes[0], "the worker has no Tableau snapshot yet") {
		t.Errorf("notes = %q, want one about the missing snapshot", got.Notes)
	}
	wantSummary := "Refresh workbook " + customersLUID + " for exposure " + name + " on demand"
	if diff := cmp.Diff(wantSummary, RefreshSummary(got.Requests[0])); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
}

func TestResolveRefreshTargetErrors(t *testing.T) {
	snap, path, names := onDemandFixture(t)
	handWritten := filepath.Join(t.TempDir(), "hand.yml")
	if err := os.WriteFile(handWritten, []byte("version: 2\nexposures:\n  - name: weekly_kpis\n    type: dashboard\n    owner: {name: Ada}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A typo of a generated name: one letter dropped.
	typo := names[ordersLUID][:len(names[ordersLUID])-1]

	tests := []struct {
		name    string
		file    string
		in      OnDemandRefreshInput
		wantErr string
	}{
		{"unknown name", path, OnDemandRefreshInput{Exposure: "no_such_dashboard"}, `unknown exposure "no_such_dashboard"`},
		{"close name", path, OnDemandRefreshInput{Exposure: typo}, "did you mean " + names[ordersLUID]},
		{"hand-written exposure", handWritten, OnDemandRefreshInput{Exposure: "weekly_kpis"}, "has no meta.autoexposures.workbook_luid"},
		{"missing file", filepath.Join(t.TempDir(), "none.yml"), OnDemandRefreshInput{Exposure: "orders"}, "reading the worker's exposures file (AUTOEXPOSURES_EXPOSURES_FILE)"},
		{"no target", path, OnDemandRefreshInput{}, "needs exactly one of"},
		{"two targets", path, OnDemandRefreshInput{WorkbookLUID: ordersLUID, DatasourceLUID: suppliesLUID}, "needs exactly one of"},
		{"negative interval", path, OnDemandRefreshInput{WorkbookLUID: ordersLUID, MinInterval: -1}, "is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ResolveRefreshTarget(snap, tt.file, tt.in)

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) || !appErr.NonRetryable() || appErr.Type() != ErrTypeInvalidInput {
				t.Errorf("error %v is not a non-retryable %s", err, ErrTypeInvalidInput)
			}
		})
	}
}

// The activity resolves against the worker's own store and settings, so
// the caller needs neither.
func TestStartOnDemandRefreshResolvesOnTheWorker(t *testing.T) {
	_, path, names := onDemandFixture(t)
	f := newRefreshFixture(t, nil)
	f.settings.ExposuresPath = path
	if err := f.store.SetLatest(store.KindSnapshot, f.input.Snapshot); err != nil {
		t.Fatal(err)
	}
	snap, err := (&Activities{Store: f.store}).snapshot(f.input.Snapshot)
	if err != nil {
		t.Fatal(err)
	}
	for i := range snap.PublishedDatasources {
		snap.PublishedDatasources[i].HasExtracts = false
	}
	data, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	liveRef, err := f.store.Put(store.KindSnapshot, strings.NewReader(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetLatest(store.KindSnapshot, liveRef); err != nil {
		t.Fatal(err)
	}
	acts := &Activities{Store: f.store, Settings: f.settings}
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(acts.StartOnDemandRefresh)

	t.Run("nothing to refresh", func(t *testing.T) {
		val, err := env.ExecuteActivity(acts.StartOnDemandRefresh, OnDemandRefreshInput{Exposure: names[productsLUID]})
		if err != nil {
			t.Fatalf("StartOnDemandRefresh: %v", err)
		}
		var got OnDemandRefreshResult
		if err := val.Get(&got); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got.NothingToRefresh, "uses no extract") || len(got.Refreshes) != 0 {
			t.Errorf("result = %+v, want nothing to refresh", got)
		}
	})
	t.Run("unknown exposure", func(t *testing.T) {
		_, err := env.ExecuteActivity(acts.StartOnDemandRefresh, OnDemandRefreshInput{Exposure: "no_such_dashboard"})
		if err == nil || !strings.Contains(err.Error(), `unknown exposure "no_such_dashboard"`) {
			t.Errorf("error = %v, want unknown exposure", err)
		}
	})
}
