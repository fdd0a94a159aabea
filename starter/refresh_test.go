package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// The refresh fixture site: Orders has two embedded extracts, Customers an
// embedded extract and the shared Supplies data source, Products a live
// connection and Supplies.
const (
	refreshSiteFile = "../activities/testdata/refresh_site.json"
	ordersLUID      = "5b1f0c2e-0000-4000-8000-0000000000a1"
	customersLUID   = "5b1f0c2e-0000-4000-8000-0000000000b2"
	productsLUID    = "5b1f0c2e-0000-4000-8000-0000000000d4"
	suppliesLUID    = "d5000000-0000-4000-8000-0000000000c3"
)

func TestRefreshRejectsBadFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no target", nil, "pass exactly one of --exposure, --workbook and --datasource"},
		{"two targets", []string{"--workbook", "a", "--datasource", "b"}, "pass exactly one of"},
		{"negative interval", []string{"--workbook", "a", "--min-interval", "-1h"}, "--min-interval=-1h0m0s is negative"},
		{"zero timeout", []string{"--workbook", "a", "--timeout", "0s"}, "--timeout=0s must be positive"},
		{"positional argument", []string{"--workbook", "a", "extra"}, `unexpected argument "extra"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer

			code := runRefresh(context.Background(), tt.args, &stdout, &stderr)

			if code != exitUsage {
				t.Errorf("exit code = %d, want %d", code, exitUsage)
			}
			if !strings.Contains(stderr.String(), tt.wantErr) {
				t.Errorf("stderr = %q, want it to contain %q", stderr.String(), tt.wantErr)
			}
			if !strings.Contains(stderr.String(), "Usage: starter refresh") {
				t.Errorf("stderr has no usage line: %q", stderr.String())
			}
		})
	}
}

// refreshState writes the exposures file that the worker would write for
// the fixture site and the jaffle_shop manifest, and a state directory
// whose latest snapshot is that site. It returns the settings and the
// exposure names by workbook LUID.
func refreshState(t *testing.T) (refreshEnv, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	m, err := dbt.ReadManifestFile("../testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json")
	if err != nil {
		t.Fatal(err)
	}
	siteJSON, err := os.ReadFile(refreshSiteFile)
	if err != nil {
		t.Fatal(err)
	}
	var snap tableau.Snapshot
	if err := json.Unmarshal(siteJSON, &snap); err != nil {
		t.Fatal(err)
	}
	out, err := exposures.Generate(exposures.Input{Manifest: m, Snapshot: &snap})
	if err != nil {
		t.Fatalf("generating exposures: %v", err)
	}
	env := refreshEnv{ExposuresPath: filepath.Join(dir, "tableau.yml"), StateDir: filepath.Join(dir, "state")}
	if err := os.WriteFile(env.ExposuresPath, out.YAML, 0o644); err != nil {
		t.Fatal(err)
	}

	st, err := store.New(env.StateDir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := st.Put(store.KindSnapshot, bytes.NewReader(siteJSON))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetLatest(store.KindSnapshot, ref); err != nil {
		t.Fatal(err)
	}

	names := map[string]string{}
	for _, e := range out.Exposures {
		names[e.WorkbookLUID] = e.Name
	}
	return env, names
}

// refreshTarget is what the tests compare in a request.
type refreshTarget struct {
	LUID string
	Kind string
}

func targets(reqs []activities.RefreshRequest) []refreshTarget {
	var out []refreshTarget
	for _, r := range reqs {
		out = append(out, refreshTarget{r.ExtractLUID, r.Kind})
	}
	return out
}

func TestExposureRefreshes(t *testing.T) {
	env, names := refreshState(t)
	tests := []struct {
		workbook string
		want     []refreshTarget
	}{
		{ordersLUID, []refreshTarget{{ordersLUID, activities.KindWorkbook}}},
		// The embedded extract through the workbook, the shared data source
		// on its own.
		{customersLUID, []refreshTarget{{customersLUID, activities.KindWorkbook}, {suppliesLUID, activities.KindDatasource}}},
		// The live connection needs no refresh.
		{productsLUID, []refreshTarget{{suppliesLUID, activities.KindDatasource}}},
	}
	for _, tt := range tests {
		name := names[tt.workbook]
		t.Run(name, func(t *testing.T) {
			if name == "" {
				t.Fatalf("no exposure generated for workbook %s: %v", tt.workbook, names)
			}

			got, notes, err := exposureRefreshes(env, name)

			if err != nil {
				t.Fatalf("exposureRefreshes: %v", err)
			}
			if len(notes) > 0 {
				t.Errorf("notes = %q, want none", notes)
			}
			if diff := cmp.Diff(tt.want, targets(got)); diff != "" {
				t.Errorf("refreshes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExposureRefreshesWithoutSnapshot(t *testing.T) {
	env, names := refreshState(t)
	env.StateDir = filepath.Join(t.TempDir(), "missing")

	got, notes, err := exposureRefreshes(env, names[customersLUID])

	if err != nil {
		t.Fatalf("exposureRefreshes: %v", err)
	}
	if diff := cmp.Diff([]refreshTarget{{customersLUID, activities.KindWorkbook}}, targets(got)); diff != "" {
		t.Errorf("refreshes (-want +got):\n%s", diff)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "no state directory") {
		t.Errorf("notes = %q, want one about the missing state directory", notes)
	}
}

func TestExposureRefreshesErrors(t *testing.T) {
	env, _ := refreshState(t)
	handWritten := filepath.Join(t.TempDir(), "hand.yml")
	if err := os.WriteFile(handWritten, []byte("version: 2\nexposures:\n  - name: weekly_kpis\n    type: dashboard\n    owner: {name: Ada}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		file     string
		exposure string
		wantErr  string
	}{
		{"unknown name", env.ExposuresPath, "no_such_dashboard", `no exposure named "no_such_dashboard"`},
		{"hand-written exposure", handWritten, "weekly_kpis", "has no meta.autoexposures.workbook_luid"},
		{"missing file", filepath.Join(t.TempDir(), "none.yml"), "orders", "reading the exposures file (AUTOEXPOSURES_EXPOSURES_FILE)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := env
			e.ExposuresPath = tt.file

			_, _, err := exposureRefreshes(e, tt.exposure)

			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}
