package demo

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// TestBuildRunResultsDerivedFromSource applies the derivation that
// assets/SOURCES.md describes to the real run results and expects the
// bundled build copy, so that the copy differs from its source only there.
func TestBuildRunResultsDerivedFromSource(t *testing.T) {
	var want map[string]any
	if err := json.Unmarshal(RunResults(), &want); err != nil {
		t.Fatal(err)
	}
	const shift = 113 * 24 * time.Hour
	move := func(v any) any {
		at, err := time.Parse(time.RFC3339Nano, v.(string))
		if err != nil {
			t.Fatalf("time %v in the source: %v", v, err)
		}
		return at.Add(shift).UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	meta := want["metadata"].(map[string]any)
	meta["generated_at"] = move(meta["generated_at"])
	meta["invocation_started_at"] = move(meta["invocation_started_at"])
	meta["invocation_id"] = "b6e4f0d2-8a3c-4e1b-9d7f-5c2a1e0b3f48"
	args := want["args"].(map[string]any)
	args["which"] = "build"
	args["invocation_command"] = `dbt build --vars {"load_source_data": true}`
	for _, r := range want["results"].([]any) {
		result := r.(map[string]any)
		for _, tm := range result["timing"].([]any) {
			timing := tm.(map[string]any)
			timing["started_at"] = move(timing["started_at"])
			timing["completed_at"] = move(timing["completed_at"])
		}
		if strings.HasPrefix(result["unique_id"].(string), "test.") {
			result["status"] = "pass"
			result["failures"] = float64(0)
		}
	}

	var got map[string]any
	if err := json.Unmarshal(BuildRunResults(), &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("assets/%s is not the documented derivation of assets/%s (-want +got):\n%s", BuildRunResultsFile, RunResultsFile, diff)
	}
}

// TestBuildRunResultsMakeDemoExtractsStale checks what the demo relies on:
// the build copy makes every extract of the demo site stale, including the
// one whose refresh the site sets to fail, while the real docs-generate
// results make none stale.
func TestBuildRunResultsMakeDemoExtractsStale(t *testing.T) {
	manifest, err := dbt.ReadManifest(bytes.NewReader(Manifest()), ManifestFile)
	if err != nil {
		t.Fatal(err)
	}
	site, err := tableausim.ParseSite(Site())
	if err != nil {
		t.Fatal(err)
	}
	snap := &site.Snapshot

	tests := []struct {
		name        string
		file        string
		data        []byte
		wantStale   []string
		wantIgnored bool
	}{
		{"build copy", BuildRunResultsFile, BuildRunResults(), []string{
			"3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b01", // Customer Lifetime Value
			"3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b05", // Café ops: raw feed, set to fail
			"6c4e2a18-93b5-4f0d-8e7a-1b2c3d4e5f60", // Jaffle Orders (certified)
		}, false},
		{"docs generate", RunResultsFile, RunResults(), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := dbt.ReadRunResults(bytes.NewReader(tt.data), tt.file)
			if err != nil {
				t.Fatal(err)
			}
			report := lineage.FindStale(manifest, snap, nil, rr)
			if report.ResultsIgnored != tt.wantIgnored {
				t.Errorf("ResultsIgnored = %v, want %v (%s)", report.ResultsIgnored, tt.wantIgnored, report.CommandNote)
			}
			var got []string
			for _, e := range report.Extracts {
				got = append(got, e.LUID)
			}
			slices.Sort(got)
			if diff := cmp.Diff(tt.wantStale, got); diff != "" {
				t.Errorf("stale extracts (-want +got):\n%s", diff)
			}
		})
	}

	failing := "3f2a9c10-1b7d-4e25-9a6c-0d8e7f6a5b05"
	if outcome := site.Simulator.RefreshOutcomes[failing]; outcome != tableausim.OutcomeFailure {
		t.Errorf("the demo site sets the refresh of %s to %q, want %q", failing, outcome, tableausim.OutcomeFailure)
	}
}
