package activities_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
)

func TestComputeExposuresWritesOutputs(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	read := f.sync(t, tableauAll, 2)
	loaded, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
		DbtRunID: "run-1", ManifestLocation: manifestFile, RunResultsLocation: buildRunResults(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	in := activities.ComputeExposuresInput{DbtRunID: "run-1", Manifest: loaded.Manifest, Snapshot: read.Snapshot, RunResults: loaded.RunResults}

	first, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName, in)
	if err != nil {
		t.Fatal(err)
	}

	if first.Exposures != 3 || first.Added != 3 || first.Changed != 0 || first.Removed != 0 {
		t.Errorf("first run counts = %+v, want 3 exposures, all added", first)
	}
	if !first.FileChanged {
		t.Error("first run: FileChanged = false, want true")
	}
	if first.UnmatchedTables != 1 || len(first.Unmatched) != 1 || !strings.Contains(first.Unmatched[0], "events") {
		t.Errorf("unmatched = %d %v, want the scratch workbook's events table", first.UnmatchedTables, first.Unmatched)
	}
	if first.StaleExtracts != 2 {
		t.Errorf("StaleExtracts = %d, want the 2 extracts refreshed before the run", first.StaleExtracts)
	}
	yaml, err := os.ReadFile(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"name: orders_overview", "ref('orders')", "ref('customers')", "ref('supplies')"} {
		if !strings.Contains(string(yaml), want) {
			t.Errorf("exposures file lacks %q:\n%s", want, yaml)
		}
	}

	var report activities.RunReport
	data, err := os.ReadFile(f.settings.Report())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if report.DbtRunID != "run-1" || report.Manifest != loaded.Manifest || report.Snapshot != read.Snapshot || report.Exposures != 3 {
		t.Errorf("report header = %+v, want run-1 with the inputs' refs and 3 exposures", report)
	}
	if _, err := f.store.Open(first.Report); err != nil {
		t.Errorf("report not in the store: %v", err)
	}

	// The same inputs again leave the file untouched.
	info, err := os.Stat(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	second, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName, in)
	if err != nil {
		t.Fatal(err)
	}
	if second.FileChanged || second.Added != 0 || second.Changed != 0 || second.Removed != 0 {
		t.Errorf("second run = %+v, want nothing changed", second)
	}
	again, err := os.Stat(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	if !again.ModTime().Equal(info.ModTime()) {
		t.Errorf("exposures file rewritten: modified %s, then %s", info.ModTime(), again.ModTime())
	}
}

// buildRunResults writes the bundled run results as if `dbt build` had
// written them. The bundled file comes from `dbt docs generate`, which
// rebuilds nothing, so it makes no extract stale.
func buildRunResults(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(runResults)
	if err != nil {
		t.Fatal(err)
	}
	var rr map[string]any
	if err := json.Unmarshal(data, &rr); err != nil {
		t.Fatal(err)
	}
	rr["args"].(map[string]any)["which"] = "build"
	out, err := json.Marshal(rr)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run_results.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestComputeExposuresMissingInputs(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	missing := store.Ref{Kind: store.KindSnapshot, Hash: strings.Repeat("c", 64), Size: 10}
	manifest, err := f.store.Put(store.KindManifest, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		in   activities.ComputeExposuresInput
		want string
	}{
		{"no refs", activities.ComputeExposuresInput{}, "needs a manifest and a snapshot"},
		{"invalid manifest", activities.ComputeExposuresInput{Manifest: manifest, Snapshot: missing}, "manifest"},
		{"snapshot not stored", activities.ComputeExposuresInput{Manifest: loadManifest(t, f), Snapshot: missing}, "the state directory lost it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName, tt.in)

			appErr := applicationError(t, err)
			if !appErr.NonRetryable() {
				t.Errorf("error %v is retryable, want non-retryable", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want it to contain %q", err, tt.want)
			}
			if _, statErr := os.Stat(f.settings.ExposuresPath); statErr == nil {
				t.Error("an exposures file was written")
			}
		})
	}
}

func loadManifest(t *testing.T, f *fixture) store.Ref {
	t.Helper()
	data, err := os.Open(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	defer data.Close()
	ref, err := f.store.Put(store.KindManifest, data)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func TestComputeExposuresCurationAndEnrichedManifest(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	dir := t.TempDir()
	curation := dir + "/autoexposures.yml"
	if err := os.WriteFile(curation, []byte(`version: 1
exclude:
  names: ["Supplies*"]
workbooks:
  - luid: a1000000-0000-4000-8000-000000000001
    name: orders_board
`), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := f.settings
	settings.CurationPath = curation
	settings.EnrichedManifestPath = dir + "/target/manifest.enriched.json"
	acts := &activities.Activities{Tableau: f.client, Store: f.store, Settings: settings}

	read := f.sync(t, tableauAll, 4)
	in := activities.ComputeExposuresInput{Manifest: loadManifest(t, f), Snapshot: read.Snapshot}
	got, err := run[activities.ComputeExposuresResult](t, envFor(acts), activities.ComputeExposuresName, in)
	if err != nil {
		t.Fatal(err)
	}

	if got.Exposures != 2 {
		t.Errorf("Exposures = %d, want 2 with the supplies workbook excluded", got.Exposures)
	}
	yaml, err := os.ReadFile(settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yaml), "name: orders_board") || strings.Contains(string(yaml), "supplies_live") {
		t.Errorf("exposures file does not follow the curation file:\n%s", yaml)
	}
	if got.EnrichedManifestPath != settings.EnrichedManifestPath {
		t.Errorf("EnrichedManifestPath = %q, want %q", got.EnrichedManifestPath, settings.EnrichedManifestPath)
	}
	data, err := os.ReadFile(settings.EnrichedManifestPath)
	if err != nil {
		t.Fatal(err)
	}
	var enriched struct {
		Exposures map[string]json.RawMessage `json:"exposures"`
	}
	if err := json.Unmarshal(data, &enriched); err != nil {
		t.Fatalf("enriched manifest is not JSON: %v", err)
	}
	found := false
	for id := range enriched.Exposures {
		if strings.HasSuffix(id, ".orders_board") {
			found = true
		}
	}
	if !found {
		t.Errorf("enriched manifest has no orders_board exposure; exposures: %d", len(enriched.Exposures))
	}
}

func TestComputeExposuresInvalidCuration(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	curation := t.TempDir() + "/autoexposures.yml"
	if err := os.WriteFile(curation, []byte("version: 1\nfolders: [x]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	settings := f.settings
	settings.CurationPath = curation
	acts := &activities.Activities{Tableau: f.client, Store: f.store, Settings: settings}
	read := f.sync(t, tableauAll, 4)

	_, err := run[activities.ComputeExposuresResult](t, envFor(acts), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{Manifest: loadManifest(t, f), Snapshot: read.Snapshot})

	appErr := applicationError(t, err)
	if !appErr.NonRetryable() {
		t.Errorf("error %v is retryable, want non-retryable", err)
	}
	for _, want := range []string{"folders", "AUTOEXPOSURES_CURATION_FILE"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error = %v, want it to mention %s", err, want)
		}
	}
}

// The enriched manifest records each exposure's original_file_path
// relative to the dbt project, as dbt itself does.
func TestComputeExposuresEnrichedManifestFilePath(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	read := f.sync(t, tableauAll, 4)
	manifest := loadManifest(t, f)

	tests := []struct {
		name       string
		exposures  string // relative to the test's directory
		projectDir string // relative to the test's directory; empty leaves it unset
		want       string
	}{
		{"inside the project", "project/models/exposures/tableau.yml", "project", "models/exposures/tableau.yml"},
		{"project dir unset", "project/models/exposures/tableau.yml", "", "models/autoexposures.yml"},
		{"outside the project", "elsewhere/tableau.yml", "project", "models/autoexposures.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			settings := f.settings
			settings.ExposuresPath = filepath.Join(dir, tt.exposures)
			settings.ReportPath = filepath.Join(dir, "report.json")
			settings.EnrichedManifestPath = filepath.Join(dir, "manifest.enriched.json")
			if tt.projectDir != "" {
				settings.DbtProjectDir = filepath.Join(dir, tt.projectDir)
			}
			acts := &activities.Activities{Tableau: f.client, Store: f.store, Settings: settings}
			in := activities.ComputeExposuresInput{Manifest: manifest, Snapshot: read.Snapshot}
			if _, err := run[activities.ComputeExposuresResult](t, envFor(acts), activities.ComputeExposuresName, in); err != nil {
				t.Fatal(err)
			}

			data, err := os.ReadFile(settings.EnrichedManifestPath)
			if err != nil {
				t.Fatal(err)
			}
			var enriched struct {
				Exposures map[string]struct {
					OriginalFilePath string `json:"original_file_path"`
				} `json:"exposures"`
			}
			if err := json.Unmarshal(data, &enriched); err != nil {
				t.Fatalf("enriched manifest is not JSON: %v", err)
			}
			if len(enriched.Exposures) == 0 {
				t.Fatal("enriched manifest has no exposures")
			}
			for id, e := range enriched.Exposures {
				if e.OriginalFilePath != tt.want {
					t.Errorf("exposure %s: original_file_path = %q, want %q", id, e.OriginalFilePath, tt.want)
				}
			}
		})
	}
}
