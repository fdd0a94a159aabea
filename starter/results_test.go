package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/workflows"
)

func TestWriteExposuresCountsNamesLeftOut(t *testing.T) {
	var out bytes.Buffer
	writeExposures(&out, activities.ComputeExposuresResult{
		Exposures:       25,
		Added:           22,
		AddedNames:      []string{"a", "b"},
		Removed:         1,
		RemovedNames:    []string{"gone"},
		MatchedTables:   40,
		UnmatchedTables: 3,
		Unmatched:       []string{"wb1: db.s.t (no_relation)"},
		FileChanged:     true,
		ExposuresPath:   "models/exposures/tableau.yml",
		ReportPath:      "models/exposures/tableau.report.json",
	})
	for _, want := range []string{
		"exposures: 25 in models/exposures/tableau.yml (written)",
		"added:     22: a, b and 20 more",
		"removed:   1: gone",
		"tables:    40 matched, 3 unmatched",
		"unmatched: wb1: db.s.t (no_relation)",
		"... and 2 more in the report",
		"report:    models/exposures/tableau.report.json",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output does not contain %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "changed:") {
		t.Errorf("output lists changed exposures although none changed:\n%s", out.String())
	}
}

func TestWriteRefreshes(t *testing.T) {
	tests := []struct {
		name string
		in   workflows.RefreshTriggerResult
		want string
	}{
		{"none stale", workflows.RefreshTriggerResult{}, "refreshes: none needed"},
		{"switched off", workflows.RefreshTriggerResult{Disabled: true, Stale: 2, ReportPath: "out/x.stale.json"}, "refreshes: off (AUTOEXPOSURES_REFRESH); 2 stale extracts listed in out/x.stale.json"},
		{"started", workflows.RefreshTriggerResult{Stale: 3, OutOfScope: 1, Refreshes: []string{"refresh-a", "refresh-b"}}, "refreshes: 3 stale extracts, 1 out of scope, 2 refresh workflows: refresh-a, refresh-b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			writeRefreshes(&out, tt.in)
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("output does not contain %q:\n%s", tt.want, out.String())
			}
		})
	}
}
