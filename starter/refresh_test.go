package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/activities"
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

func TestWriteRefreshResult(t *testing.T) {
	tests := []struct {
		name string
		res  activities.RefreshResult
		want string
	}{
		{
			"skipped says why",
			activities.RefreshResult{ExtractLUID: "d5", Kind: activities.KindDatasource, Name: "Supplies", Outcome: activities.OutcomeSkipped,
				SkipReason: "refreshed at 2026-12-04T08:00:00Z (per Tableau), within the minimum interval of 1h0m0s"},
			`datasource "Supplies" (d5): skipped: refreshed at 2026-12-04T08:00:00Z (per Tableau), within the minimum interval of 1h0m0s` + "\n",
		},
		{
			// Without a snapshot the workbook's name is unknown: the line
			// names the exposure as the exposure, not as the workbook.
			"exposure without a workbook name",
			activities.RefreshResult{ExtractLUID: "b2", Kind: activities.KindWorkbook, Exposure: "customers_dashboard", Outcome: activities.OutcomeSucceeded, JobID: "j1", Polls: 2},
			"workbook b2 for exposure customers_dashboard: succeeded\n  Tableau job j1, 2 status reads\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer

			writeRefreshResult(&b, tt.res)

			if diff := cmp.Diff(tt.want, b.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOnDemandSummary(t *testing.T) {
	tests := []struct {
		in   activities.OnDemandRefreshInput
		want string
	}{
		{activities.OnDemandRefreshInput{Exposure: "orders_daily"}, "Refresh the extracts of exposure orders_daily on demand"},
		{activities.OnDemandRefreshInput{WorkbookLUID: "b2"}, "Refresh the extracts of workbook b2 on demand"},
		{activities.OnDemandRefreshInput{DatasourceLUID: "d5"}, "Refresh data source d5 on demand"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, onDemandSummary(tt.in)); diff != "" {
			t.Errorf("summary of %+v (-want +got):\n%s", tt.in, diff)
		}
	}
}
