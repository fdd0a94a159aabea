package lineage

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/manifestgen"
	"github.com/autoexposures/autoexposures/testsuite/sitegen"
)

// Sizes of the matching benchmark: the manifest and site sizes the design
// sets as the matching target.
const (
	benchModels       = 60_000
	benchSources      = 10_000
	benchSchemas      = 200
	benchWorkbooks    = 20_000
	benchTablesPerWB  = 5
	benchPublished    = 500
	benchNaiveSamples = 200
)

// benchManifest builds a Snowflake manifest like a large real project:
// models spread over many schemas, most of them aliased (name
// "<schema>__<alias>"), one in fifty ephemeral, and sources in their own
// databases.
func benchManifest(models, sources int) *dbt.Manifest {
	m := &dbt.Manifest{AdapterType: "snowflake", ProjectName: "bench"}
	m.Nodes = make([]dbt.Node, 0, models)
	for i := range models {
		schema := fmt.Sprintf("mart_%d", i%benchSchemas)
		alias := fmt.Sprintf("table_%d", i)
		n := dbt.Node{
			UniqueID:     "model.bench." + schema + "__" + alias,
			ResourceType: dbt.ResourceModel,
			Name:         schema + "__" + alias,
			PackageName:  "bench",
			Database:     "ANALYTICS",
			Schema:       schema,
			Alias:        alias,
			RelationName: "ANALYTICS." + schema + "." + alias,
			Materialized: "table",
			Enabled:      true,
		}
		if i%50 == 49 {
			n.Materialized = "ephemeral"
			n.RelationName = ""
		}
		if i > 0 {
			n.DependsOn = []string{m.Nodes[i-1].UniqueID}
		}
		m.Nodes = append(m.Nodes, n)
	}
	m.Sources = make([]dbt.Source, 0, sources)
	for i := range sources {
		db := fmt.Sprintf("RAW_%d", i%10)
		m.Sources = append(m.Sources, dbt.Source{
			UniqueID:     fmt.Sprintf("source.bench.raw_%d.src_%d", i%10, i),
			SourceName:   fmt.Sprintf("raw_%d", i%10),
			Name:         fmt.Sprintf("src_%d", i),
			Database:     db,
			Schema:       "landing",
			Identifier:   fmt.Sprintf("src_%d", i),
			RelationName: fmt.Sprintf("%s.landing.src_%d", db, i),
			Enabled:      true,
		})
	}
	return m
}

// benchSnapshot builds a site whose workbooks read five tables each, in
// the forms Tableau reports them: upper-case fields, bracketed full names
// only, sources, schema-only names and tables that dbt does not build.
// One workbook in ten also uses one of the shared published data sources.
// It returns the snapshot and how many of its embedded tables must match.
func benchSnapshot(seed uint64, models, sources, workbooks int) (*tableau.Snapshot, int) {
	rng := rand.New(rand.NewPCG(seed, 7))
	snap := &tableau.Snapshot{FormatVersion: tableau.SnapshotFormatVersion}
	wantMatches := 0

	// used keeps the tables of one workbook distinct, so that every table
	// is one entry of the result.
	used := map[int]bool{}
	distinct := func(n int) int {
		for {
			if i := rng.IntN(n); !used[i] {
				used[i] = true
				return i
			}
		}
	}
	model := func() (string, string, bool) {
		i := distinct(models)
		return fmt.Sprintf("MART_%d", i%benchSchemas), fmt.Sprintf("TABLE_%d", i), i%50 != 49
	}
	for w := range workbooks {
		clear(used)
		tables := make([]tableau.Table, 0, benchTablesPerWB)
		for range benchTablesPerWB {
			var t tableau.Table
			matches := true
			switch k := rng.IntN(20); {
			case k < 12:
				schema, name, ok := model()
				t = tableau.Table{Database: "ANALYTICS", Schema: schema, Name: name, FullName: "[ANALYTICS].[" + schema + "].[" + name + "]"}
				matches = ok
			case k < 15:
				schema, name, ok := model()
				t = tableau.Table{FullName: "[ANALYTICS].[" + schema + "].[" + name + "]"}
				matches = ok
			case k < 17:
				i := distinct(sources)
				t = tableau.Table{Database: fmt.Sprintf("RAW_%d", i%10), Schema: "LANDING", Name: fmt.Sprintf("SRC_%d", i)}
			case k < 19:
				// Schema-only: unique, because each table name lives in
				// one schema.
				schema, name, ok := model()
				t = tableau.Table{Schema: schema, Name: name, FullName: "[" + schema + "].[" + name + "]"}
				matches = ok
			default:
				t = tableau.Table{Database: "ANALYTICS", Schema: "SCRATCH", Name: fmt.Sprintf("ADHOC_%d", distinct(1000))}
				matches = false
			}
			if matches {
				wantMatches++
			}
			tables = append(tables, t)
		}

		wb := tableau.Workbook{
			LUID: fmt.Sprintf("wb-%08d", w),
			Name: fmt.Sprintf("Workbook %d", w),
			EmbeddedDatasources: []tableau.EmbeddedDatasource{{
				ID: fmt.Sprintf("ds-%08d", w), Name: "Data", HasExtracts: w%3 == 0, UpstreamTables: tables,
			}},
		}
		if w%10 == 0 {
			wb.PublishedDatasourceLUIDs = []string{fmt.Sprintf("pds-%04d", rng.IntN(benchPublished))}
		}
		snap.Workbooks = append(snap.Workbooks, wb)
	}

	for p := range benchPublished {
		schema, name, _ := model()
		snap.PublishedDatasources = append(snap.PublishedDatasources, tableau.PublishedDatasource{
			LUID: fmt.Sprintf("pds-%04d", p), Name: fmt.Sprintf("Shared %d", p), HasExtracts: true,
			UpstreamTables: []tableau.Table{{Database: "ANALYTICS", Schema: schema, Name: name}},
		})
	}
	// The snapshot arrives in Tableau's order, not sorted.
	rng.Shuffle(len(snap.Workbooks), func(a, b int) { snap.Workbooks[a], snap.Workbooks[b] = snap.Workbooks[b], snap.Workbooks[a] })
	return snap, wantMatches
}

// naiveLookup is the baseline: a scan of every node and source per table,
// comparing names without case.
func naiveLookup(m *dbt.Manifest, db, schema, name string) []string {
	var out []string
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if n.HasRelation() && equalFoldASCII(n.Alias, name) && equalFoldASCII(n.Schema, schema) && equalFoldASCII(n.Database, db) {
			out = append(out, n.UniqueID)
		}
	}
	for i := range m.Sources {
		s := &m.Sources[i]
		if equalFoldASCII(s.Identifier, name) && equalFoldASCII(s.Schema, schema) && equalFoldASCII(s.Database, db) {
			out = append(out, s.UniqueID)
		}
	}
	return out
}

// BenchmarkMatching measures Index.Compute on 20,000 workbooks of five
// tables against a manifest of 60,000 models and 10,000 sources. It
// reports, from the same run, the time to build the index and an estimate
// of a naive scan of the manifest per table, extrapolated from a sample.
func BenchmarkMatching(b *testing.B) {
	m := benchManifest(benchModels, benchSources)
	snap, wantMatches := benchSnapshot(1, benchModels, benchSources, benchWorkbooks)

	// Naive baseline on a sample of the tables, scaled to all of them.
	var sample []tableau.Table
	for _, wb := range snap.Workbooks {
		for _, t := range wb.EmbeddedDatasources[0].UpstreamTables {
			if t.Database != "" && t.Schema != "" && len(sample) < benchNaiveSamples {
				sample = append(sample, t)
			}
		}
	}
	start := time.Now()
	for _, t := range sample {
		naiveLookup(m, t.Database, t.Schema, t.Name)
	}
	naive := time.Since(start) * time.Duration(len(snap.Workbooks)*benchTablesPerWB) / time.Duration(len(sample))

	var indexTime, matchTime, matchCPU time.Duration
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		ix := NewIndex(m, Options{})
		t1 := time.Now()
		cpu0 := processCPU()
		res := ix.Compute(snap)
		matchCPU += processCPU() - cpu0
		t2 := time.Now()
		indexTime += t1.Sub(t0)
		matchTime += t2.Sub(t1)

		b.StopTimer()
		got := 0
		for _, wl := range res.Workbooks {
			for _, match := range wl.Matches {
				if !match.Published {
					got++
				}
			}
		}
		if got != wantMatches {
			b.Fatalf("matched %d embedded tables, want %d", got, wantMatches)
		}
		b.StartTimer()
	}

	n := float64(b.N)
	index := float64(indexTime.Microseconds()) / 1000 / n
	match := float64(matchTime.Microseconds()) / 1000 / n
	b.ReportMetric(index, "index-ms/op")
	b.ReportMetric(match, "match-ms/op")
	b.ReportMetric(float64(matchCPU.Microseconds())/1000/n, "match-cpu-ms/op")
	b.ReportMetric(match/index, "match/index")
	b.ReportMetric(float64(naive.Milliseconds()), "naive-est-ms")
	b.ReportMetric(float64(naive)/(float64(matchTime)/n), "naive/match")
}

// processCPU returns the user and system CPU time of the process so far,
// garbage collection included. On a machine shared with other work it
// moves less than wall time.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// generatedInputs contains the generated manifest and site, built once for
// the benchmarks that use them.
var generatedInputs struct {
	once sync.Once
	m    *dbt.Manifest
	snap *tableau.Snapshot
	err  error
}

// generated returns the manifest that testsuite/manifestgen writes, with
// 60,000 models and 10,000 sources, written to a file and read back with
// the dbt reader. It also returns a 20,000-workbook site of
// testsuite/sitegen with custom SQL, published data sources and unmatched
// tables, whose table names follow the manifest's.
func generated(b *testing.B) (*dbt.Manifest, *tableau.Snapshot) {
	g := &generatedInputs
	g.once.Do(func() {
		dir, err := os.MkdirTemp("", "lineage-bench-")
		if err != nil {
			g.err = err
			return
		}
		defer os.RemoveAll(dir)

		path := filepath.Join(dir, "manifest.json")
		if _, err := manifestgen.WriteFile(path, manifestgen.Params{Seed: 1}); err != nil {
			g.err = err
			return
		}
		g.m, g.err = dbt.ReadManifestFile(path)
		if g.err != nil {
			return
		}
		site := sitegen.Generate(sitegen.Params{
			Seed:                 1,
			Workbooks:            benchWorkbooks,
			TablesPerWorkbook:    benchTablesPerWB,
			Models:               len(g.m.Nodes),
			Sources:              len(g.m.Sources),
			SourceShare:          0.1,
			UnmatchedShare:       0.05,
			ExtractShare:         0.3,
			CustomSQLShare:       0.1,
			UnparsedSQLShare:     0.2,
			PublishedDatasources: benchPublished,
			PublishedShare:       0.1,
		})
		g.snap = &site.Snapshot
	})
	if g.err != nil {
		b.Fatal(g.err)
	}
	return g.m, g.snap
}

// BenchmarkMatchingGenerated measures Compute on the generated manifest and
// site.
func BenchmarkMatchingGenerated(b *testing.B) {
	m, snap := generated(b)

	var indexTime, matchTime, matchCPU time.Duration
	var matched, unmatched int
	b.ResetTimer()
	for b.Loop() {
		t0 := time.Now()
		ix := NewIndex(m, Options{})
		t1 := time.Now()
		cpu0 := processCPU()
		res := ix.Compute(snap)
		matchCPU += processCPU() - cpu0
		t2 := time.Now()
		indexTime += t1.Sub(t0)
		matchTime += t2.Sub(t1)

		matched, unmatched = 0, len(res.Unmatched)
		for _, wl := range res.Workbooks {
			matched += len(wl.Matches)
		}
	}
	if matched == 0 {
		b.Fatal("no table matched: the generators no longer agree on table names")
	}

	n := float64(b.N)
	index := float64(indexTime.Microseconds()) / 1000 / n
	match := float64(matchTime.Microseconds()) / 1000 / n
	b.ReportMetric(index, "index-ms/op")
	b.ReportMetric(match, "match-ms/op")
	b.ReportMetric(float64(matchCPU.Microseconds())/1000/n, "match-cpu-ms/op")
	b.ReportMetric(match/index, "match/index")
	b.ReportMetric(float64(matched), "matched")
	b.ReportMetric(float64(unmatched), "unmatched")
}

// BenchmarkFindStaleGenerated measures FindStale on the generated manifest
// and site, with a run in which every enabled model completed, one in a
// hundred with an error, at times spread around the extracts' refreshes.
// The baseline is Compute on the same inputs.
func BenchmarkFindStaleGenerated(b *testing.B) {
	m, snap := generated(b)
	res := Compute(m, snap, Options{})

	var refreshes []time.Time
	for _, wb := range snap.Workbooks {
		for _, d := range wb.EmbeddedDatasources {
			if d.ExtractLastRefreshTime != nil {
				refreshes = append(refreshes, *d.ExtractLastRefreshTime)
			}
		}
	}
	slices.SortFunc(refreshes, time.Time.Compare)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if len(refreshes) > 0 {
		start = refreshes[len(refreshes)/2].Add(-time.Hour)
	}
	rr := &dbt.RunResults{GeneratedAt: start.Add(2 * time.Hour)}
	for i, n := range m.Nodes {
		if !n.HasRelation() {
			continue
		}
		status := "success"
		if i%100 == 0 {
			status = "error"
		}
		rr.Results = append(rr.Results, dbt.RunResult{UniqueID: n.UniqueID, Status: status, CompletedAt: start.Add(time.Duration(i) * 100 * time.Millisecond)})
	}

	t0 := time.Now()
	Compute(m, snap, Options{})
	compute := time.Since(t0)

	var report StaleReport
	b.ResetTimer()
	for b.Loop() {
		report = FindStale(m, snap, res, rr)
	}
	b.StopTimer()

	perOp := float64(b.Elapsed()) / float64(b.N)
	b.ReportMetric(float64(len(report.Extracts)), "stale-extracts")
	b.ReportMetric(float64(len(report.Ignored)), "ignored")
	b.ReportMetric(float64(compute.Microseconds())/1000, "compute-ms")
	b.ReportMetric(perOp/float64(compute), "stale/compute")
}
