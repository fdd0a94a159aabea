package lineage

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

func TestFindStale(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	ptr := func(tm time.Time) *time.Time { return &tm }

	// stg reads a source; mart reads stg and a seed; other stands alone.
	m := &dbt.Manifest{AdapterType: "postgres",
		Nodes: []dbt.Node{
			node("model.p.stg", "db", "s", "stg", dependsOn("source.p.raw.events")),
			node("seed.p.codes", "db", "s", "codes"),
			node("model.p.mart", "db", "s", "mart", dependsOn("model.p.stg", "seed.p.codes")),
			node("model.p.other", "db", "s", "other"),
		},
		Sources: []dbt.Source{source("source.p.raw.events", "db", "raw", "events")},
	}
	extract := func(luid string, refreshed *time.Time, tables ...string) tableau.Workbook {
		var ts []tableau.Table
		for _, name := range tables {
			ts = append(ts, table("db", "s", name))
		}
		return tableau.Workbook{LUID: luid, EmbeddedDatasources: []tableau.EmbeddedDatasource{
			{ID: "ds-" + luid, Name: "Extract", HasExtracts: true, ExtractLastRefreshTime: refreshed, UpstreamTables: ts},
		}}
	}
	embedded := func(luid string) ExtractRef {
		return ExtractRef{LUID: luid, Name: "Extract", DatasourceID: "ds-" + luid}
	}
	run := func(results ...dbt.RunResult) *dbt.RunResults {
		return &dbt.RunResults{GeneratedAt: at(60), Command: "build", Results: results}
	}
	success := func(id string, minutes int) dbt.RunResult {
		return dbt.RunResult{UniqueID: id, Status: "success", CompletedAt: at(minutes)}
	}

	tests := []struct {
		name string
		snap *tableau.Snapshot
		rr   *dbt.RunResults
		want StaleReport
	}{
		{
			name: "read node rebuilt after refresh",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(10)), "mart")}},
			rr:   run(success("model.p.mart", 20)),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: embedded("w1"), LastRefresh: ptr(at(10)), Exposures: []string{"w1"},
				Models: []string{"model.p.mart"}, RebuiltAt: at(20),
			}}},
		},
		{
			name: "rebuilt before refresh",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(30)), "mart")}},
			rr:   run(success("model.p.mart", 20)),
		},
		{
			name: "rebuilt at refresh time",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(20)), "mart")}},
			rr:   run(success("model.p.mart", 20)),
		},
		{
			// mart is a table that the run did not rebuild, so it still
			// holds what it held before.
			name: "upstream of a table not rebuilt",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(10)), "mart")}},
			rr:   run(success("model.p.stg", 5), success("seed.p.codes", 15), success("model.p.other", 25)),
		},
		{
			name: "upstream rebuilt through the graph",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(10)), "mart")}},
			rr:   run(success("model.p.stg", 5), success("seed.p.codes", 15), success("model.p.mart", 16), success("model.p.other", 25)),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: embedded("w1"), LastRefresh: ptr(at(10)), Exposures: []string{"w1"},
				Models: []string{"model.p.mart", "seed.p.codes"}, RebuiltAt: at(16),
			}}},
		},
		{
			name: "never refreshed",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", nil, "stg")}},
			rr:   run(success("model.p.stg", 5)),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: embedded("w1"), Exposures: []string{"w1"}, Models: []string{"model.p.stg"}, RebuiltAt: at(5),
			}}},
		},
		{
			name: "live connection never stale",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w1", EmbeddedDatasources: []tableau.EmbeddedDatasource{
				{ID: "live", Name: "Live", UpstreamTables: []tableau.Table{table("db", "s", "mart")}},
			}}}},
			rr: run(success("model.p.mart", 20)),
		},
		{
			name: "live data source of an extract workbook",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w1", EmbeddedDatasources: []tableau.EmbeddedDatasource{
				{ID: "live", Name: "Live", UpstreamTables: []tableau.Table{table("db", "s", "other")}},
				{ID: "ds-w1", Name: "Extract", HasExtracts: true, ExtractLastRefreshTime: ptr(at(10)), UpstreamTables: []tableau.Table{table("db", "s", "codes")}},
			}}}},
			rr: run(success("model.p.other", 20)),
		},
		{
			name: "errored and skipped ignored",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(10)), "mart"), extract("w2", ptr(at(10)), "codes")}},
			rr: run(
				dbt.RunResult{UniqueID: "model.p.stg", Status: "error", CompletedAt: at(20)},
				dbt.RunResult{UniqueID: "model.p.mart", Status: "skipped"},
				dbt.RunResult{UniqueID: "model.p.other", Status: "error"},
				dbt.RunResult{UniqueID: "seed.p.codes", Status: "runtime error"},
				dbt.RunResult{UniqueID: "test.p.not_null_mart_id", Status: "fail", CompletedAt: at(21)},
			),
			want: StaleReport{Ignored: []IgnoredResult{
				{UniqueID: "model.p.mart", Status: "skipped", Exposures: []string{"w1"}},
				{UniqueID: "model.p.other", Status: "error"},
				{UniqueID: "model.p.stg", Status: "error", Exposures: []string{"w1"}},
				{UniqueID: "seed.p.codes", Status: "runtime error", Exposures: []string{"w1", "w2"}},
			}},
		},
		{
			name: "partial success rebuilt, no-op and reused not",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(10)), "mart")}},
			rr: run(
				dbt.RunResult{UniqueID: "model.p.mart", Status: "partial success", CompletedAt: at(30)},
				dbt.RunResult{UniqueID: "model.p.stg", Status: "no-op", CompletedAt: at(31)},
				dbt.RunResult{UniqueID: "seed.p.codes", Status: "reused", CompletedAt: at(32)},
			),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: embedded("w1"), LastRefresh: ptr(at(10)), Exposures: []string{"w1"},
				Models: []string{"model.p.mart"}, RebuiltAt: at(30),
			}}},
		},
		{
			name: "success without timing uses the run end",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{extract("w1", ptr(at(50)), "mart")}},
			rr:   run(dbt.RunResult{UniqueID: "model.p.mart", Status: "success"}),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: embedded("w1"), LastRefresh: ptr(at(50)), Exposures: []string{"w1"},
				Models: []string{"model.p.mart"}, RebuiltAt: at(60),
			}}},
		},
		{
			name: "shared published extract once",
			snap: &tableau.Snapshot{
				Workbooks: []tableau.Workbook{
					{LUID: "w2", PublishedDatasourceLUIDs: []string{"pds"}},
					{LUID: "w1", PublishedDatasourceLUIDs: []string{"pds"}},
					{LUID: "w3", PublishedDatasourceLUIDs: []string{"pds-live"}},
				},
				PublishedDatasources: []tableau.PublishedDatasource{
					{LUID: "pds", Name: "Shared", HasExtracts: true, ExtractLastRefreshTime: ptr(at(10)), UpstreamTables: []tableau.Table{table("db", "s", "mart")}},
					{LUID: "pds-live", Name: "Live", UpstreamTables: []tableau.Table{table("db", "s", "mart")}},
				},
			},
			rr: run(success("model.p.stg", 12), success("model.p.mart", 14)),
			want: StaleReport{Extracts: []StaleExtract{{
				ExtractRef: ExtractRef{LUID: "pds", Published: true, Name: "Shared"}, LastRefresh: ptr(at(10)),
				Exposures: []string{"w1", "w2"}, Models: []string{"model.p.mart", "model.p.stg"}, RebuiltAt: at(14),
			}}},
		},
		{
			name: "source only upstream",
			snap: &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w1", EmbeddedDatasources: []tableau.EmbeddedDatasource{
				{ID: "ds-w1", Name: "Extract", HasExtracts: true, UpstreamTables: []tableau.Table{table("db", "raw", "events")}},
			}}}},
			rr: run(success("model.p.stg", 12)),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Command = "build"
			got := FindStale(m, tc.snap, Compute(m, tc.snap, Options{}), tc.rr)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("FindStale (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindStaleComputesMissingResult(t *testing.T) {
	m := &dbt.Manifest{AdapterType: "postgres", Nodes: []dbt.Node{node("model.p.a", "db", "s", "a")}}
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
		{ID: "d", Name: "D", HasExtracts: true, UpstreamTables: []tableau.Table{table("db", "s", "a")}},
	}}}}
	done := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	rr := &dbt.RunResults{Results: []dbt.RunResult{{UniqueID: "model.p.a", Status: "success", CompletedAt: done}}}

	want := StaleReport{Extracts: []StaleExtract{{
		ExtractRef: ExtractRef{LUID: "w", Name: "D", DatasourceID: "d"}, Exposures: []string{"w"}, Models: []string{"model.p.a"}, RebuiltAt: done,
	}}, CommandNote: noCommandNote}
	if diff := cmp.Diff(want, FindStale(m, snap, nil, rr)); diff != "" {
		t.Errorf("FindStale with nil result (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(StaleReport{}, FindStale(m, snap, nil, nil)); diff != "" {
		t.Errorf("FindStale with nil run results (-want +got):\n%s", diff)
	}
}

const noCommandNote = "the run results do not say which dbt command wrote them (no args.which), so they were read as a dbt build"

// TestFindStaleCommand checks that only the run results of commands that
// build tables make extracts stale, and that the others are reported as
// ignored with the reason.
func TestFindStaleCommand(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	m := &dbt.Manifest{AdapterType: "postgres", Nodes: []dbt.Node{node("model.p.a", "db", "s", "a")}}
	refreshed := t0
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
		{ID: "d", Name: "D", HasExtracts: true, ExtractLastRefreshTime: &refreshed, UpstreamTables: []tableau.Table{table("db", "s", "a")}},
	}}}}
	done := t0.Add(time.Hour)
	stale := []StaleExtract{{
		ExtractRef: ExtractRef{LUID: "w", Name: "D", DatasourceID: "d"}, LastRefresh: &refreshed,
		Exposures: []string{"w"}, Models: []string{"model.p.a"}, RebuiltAt: done,
	}}
	ignored := func(command, name string) StaleReport {
		return StaleReport{Command: command, ResultsIgnored: true,
			CommandNote: "run results ignored: they were written by dbt " + name + ", which rebuilds no table; only dbt run, build, seed, snapshot and retry make extracts stale"}
	}

	tests := []struct {
		command string
		want    StaleReport
	}{
		{"run", StaleReport{Command: "run", Extracts: stale}},
		{"build", StaleReport{Command: "build", Extracts: stale}},
		{"seed", StaleReport{Command: "seed", Extracts: stale}},
		{"snapshot", StaleReport{Command: "snapshot", Extracts: stale}},
		{"retry", StaleReport{Command: "retry", Extracts: stale}},
		{"", StaleReport{Extracts: stale, CommandNote: noCommandNote}},
		{"generate", ignored("generate", "docs generate")},
		{"compile", ignored("compile", "compile")},
		{"test", ignored("test", "test")},
		{"list", ignored("list", "list")},
		{"ls", ignored("ls", "list")},
		{"show", ignored("show", "show")},
		{"parse", ignored("parse", "parse")},
		{"run-operation", ignored("run-operation", "run-operation")},
	}
	for _, tc := range tests {
		t.Run("command "+tc.command, func(t *testing.T) {
			rr := &dbt.RunResults{Command: tc.command, Results: []dbt.RunResult{
				{UniqueID: "model.p.a", Status: "success", CompletedAt: done},
				{UniqueID: "model.p.b", Status: "error", CompletedAt: done},
			}}
			if !tc.want.ResultsIgnored {
				tc.want.Ignored = []IgnoredResult{{UniqueID: "model.p.b", Status: "error"}}
			}
			if diff := cmp.Diff(tc.want, FindStale(m, snap, nil, rr)); diff != "" {
				t.Errorf("FindStale (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFindStaleDisabledCopy checks that a disabled copy of a node, listed
// in Nodes after the enabled node with the same unique ID, does not replace
// the enabled node's dependencies.
func TestFindStaleDisabledCopy(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	m := &dbt.Manifest{AdapterType: "postgres", Nodes: []dbt.Node{
		node("model.p.stg", "db", "s", "stg"),
		node("model.p.mart", "db", "s", "mart", dependsOn("model.p.stg")),
		node("model.p.mart", "db", "archive", "mart", disabled),
	}}
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
		{ID: "d", Name: "D", HasExtracts: true, ExtractLastRefreshTime: &t0, UpstreamTables: []tableau.Table{table("db", "s", "mart")}},
	}}}}
	rr := &dbt.RunResults{Command: "build", Results: []dbt.RunResult{
		{UniqueID: "model.p.stg", Status: "success", CompletedAt: t0.Add(time.Minute)},
		{UniqueID: "model.p.mart", Status: "success", CompletedAt: t0.Add(2 * time.Minute)},
	}}
	want := StaleReport{Command: "build", Extracts: []StaleExtract{{
		ExtractRef: ExtractRef{LUID: "w", Name: "D", DatasourceID: "d"}, LastRefresh: &t0, Exposures: []string{"w"},
		Models: []string{"model.p.mart", "model.p.stg"}, RebuiltAt: t0.Add(2 * time.Minute),
	}}}
	if diff := cmp.Diff(want, FindStale(m, snap, nil, rr)); diff != "" {
		t.Errorf("FindStale (-want +got):\n%s", diff)
	}
}

// TestFindStaleChain checks the rule for new data upstream of the node a
// workbook reads: it counts only through nodes that the run rebuilt or
// that hold no data of their own (views, ephemeral models).
func TestFindStaleChain(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 6, 0, 0, 0, time.UTC)
	at := func(minutes int) time.Time { return t0.Add(time.Duration(minutes) * time.Minute) }
	view := func(n *dbt.Node) { n.Materialized = "view" }
	incremental := func(n *dbt.Node) { n.Materialized = "incremental" }

	// raw.supplies -> stg_supplies (view) -> supplies (table) -> supplies_v (view)
	// stg_supplies -> customers (table), stg_supplies -> eph (ephemeral) -> report (view)
	// stg_supplies -> events (incremental) -> events_v (view); seed codes -> supplies_v
	m := &dbt.Manifest{AdapterType: "postgres",
		Nodes: []dbt.Node{
			node("model.p.stg_supplies", "db", "s", "stg_supplies", view, dependsOn("source.p.raw.supplies")),
			node("model.p.supplies", "db", "s", "supplies", dependsOn("model.p.stg_supplies")),
			node("model.p.supplies_v", "db", "s", "supplies_v", view, dependsOn("model.p.supplies", "seed.p.codes")),
			node("model.p.customers", "db", "s", "customers", dependsOn("model.p.stg_supplies")),
			node("model.p.eph", "db", "s", "eph", ephemeral, dependsOn("model.p.stg_supplies")),
			node("model.p.report", "db", "s", "report", view, dependsOn("model.p.eph")),
			node("model.p.events", "db", "s", "events", incremental, dependsOn("model.p.stg_supplies")),
			node("model.p.events_v", "db", "s", "events_v", view, dependsOn("model.p.events")),
			node("seed.p.codes", "db", "s", "codes"),
		},
		Sources: []dbt.Source{source("source.p.raw.supplies", "db", "raw", "supplies")},
	}
	refreshed := at(10)
	readOne := func(name string) *tableau.Snapshot {
		return &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
			{ID: "d", Name: "D", HasExtracts: true, ExtractLastRefreshTime: &refreshed, UpstreamTables: []tableau.Table{table("db", "s", name)}},
		}}}}
	}
	result := func(id, status string, minutes int) dbt.RunResult {
		return dbt.RunResult{UniqueID: id, Status: status, CompletedAt: at(minutes)}
	}
	stale := func(rebuiltAt int, models ...string) []StaleExtract {
		return []StaleExtract{{
			ExtractRef: ExtractRef{LUID: "w", Name: "D", DatasourceID: "d"}, LastRefresh: &refreshed,
			Exposures: []string{"w"}, Models: models, RebuiltAt: at(rebuiltAt),
		}}
	}

	tests := []struct {
		name    string
		reads   string
		results []dbt.RunResult
		want    StaleReport
	}{
		{
			name:    "skipped table stops the chain",
			reads:   "customers",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20), {UniqueID: "model.p.customers", Status: "skipped"}},
			want:    StaleReport{Ignored: []IgnoredResult{{UniqueID: "model.p.customers", Status: "skipped", Exposures: []string{"w"}}}},
		},
		{
			name:    "errored table stops the chain",
			reads:   "customers",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20), result("model.p.customers", "error", 21)},
			want:    StaleReport{Ignored: []IgnoredResult{{UniqueID: "model.p.customers", Status: "error", Exposures: []string{"w"}}}},
		},
		{
			name:    "table not run stops the chain",
			reads:   "customers",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20)},
		},
		{
			name:    "rebuilt table continues the chain",
			reads:   "customers",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20), result("model.p.customers", "success", 21)},
			want:    StaleReport{Extracts: stale(21, "model.p.customers", "model.p.stg_supplies")},
		},
		{
			name:    "view and ephemeral model continue the chain",
			reads:   "report",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20)},
			want:    StaleReport{Extracts: stale(20, "model.p.stg_supplies")},
		},
		{
			name:    "table between views stops the chain",
			reads:   "supplies_v",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20)},
		},
		{
			name:    "seed read through a view",
			reads:   "supplies_v",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20), result("seed.p.codes", "success", 22)},
			want:    StaleReport{Extracts: stale(22, "seed.p.codes")},
		},
		{
			name:    "incremental model not run stops the chain",
			reads:   "events_v",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20)},
		},
		{
			name:    "incremental model rebuilt continues the chain",
			reads:   "events_v",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 20), result("model.p.events", "success", 23)},
			want:    StaleReport{Extracts: stale(23, "model.p.events", "model.p.stg_supplies")},
		},
		{
			name:    "rebuilt table before refresh with new upstream",
			reads:   "supplies_v",
			results: []dbt.RunResult{result("model.p.stg_supplies", "success", 5), result("model.p.supplies", "success", 8), result("seed.p.codes", "success", 4)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.want.Command = "build"
			rr := &dbt.RunResults{Command: "build", Results: tc.results}
			if diff := cmp.Diff(tc.want, FindStale(m, readOne(tc.reads), nil, rr)); diff != "" {
				t.Errorf("FindStale (-want +got):\n%s", diff)
			}
		})
	}
}
