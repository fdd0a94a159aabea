package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/workflows"
)

func TestProgressLine(t *testing.T) {
	tests := []struct {
		name     string
		progress any
		want     string
	}{
		{"step only", workflows.Progress{Step: workflows.StepStarting}, "starting"},
		{"sync counts", workflows.Progress{Step: workflows.StepReadingLineage, Workbooks: 12, Snapshot: "3f2a1b"}, "reading lineage; snapshot 3f2a1b, workbooks 12"},
		{"post-job run", workflows.Progress{Step: workflows.StepComputing, DbtRunID: "r1", Manifest: "9c0d"}, "computing exposures; dbt run ID r1, manifest 9c0d"},
		{"refresh", workflows.RefreshProgress{Phase: "following", ExtractLUID: "e1", JobID: "j1", JobProgress: 40, NextCheckAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			"following; extract LUID e1, job ID j1, job progress 40, next check at 2026-01-02T03:04:05Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The query result reaches the starter as JSON.
			data, err := json.Marshal(tt.progress)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, progressLine(m)); diff != "" {
				t.Errorf("progressLine (-want +got):\n%s", diff)
			}
		})
	}
}
