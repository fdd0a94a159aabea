package lineage

import (
	"cmp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Compute matches every upstream table of every workbook in the snapshot
// to the manifest's relations. It indexes the manifest first, so callers that
// match several snapshots against one manifest use NewIndex and
// Index.Compute instead. A nil manifest matches nothing, and a nil snapshot
// gives an empty result.
func Compute(m *dbt.Manifest, snap *tableau.Snapshot, opts Options) *Result {
	return NewIndex(m, opts).Compute(snap)
}

// Compute matches every upstream table of every workbook in the snapshot.
// The result does not depend on the order of anything in the snapshot.
// Large snapshots are split between GOMAXPROCS goroutines.
func (ix *Index) Compute(snap *tableau.Snapshot) *Result {
	res := &Result{}
	if snap == nil {
		return res
	}

	c := computation{
		ix:        ix,
		published: map[string][]*tableau.PublishedDatasource{},
		outcomes:  map[string][]outcome{},
	}
	for i := range snap.PublishedDatasources {
		d := &snap.PublishedDatasources[i]
		c.published[d.LUID] = append(c.published[d.LUID], d)
	}
	// Published data sources are matched once, before the workers start,
	// so that the workers only read the cache.
	for i := range snap.Workbooks {
		for _, luid := range snap.Workbooks[i].PublishedDatasourceLUIDs {
			c.matchPublished(luid)
		}
	}

	order := make([]int, len(snap.Workbooks))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(snap.Workbooks[a].LUID, snap.Workbooks[b].LUID); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})

	// groups[g] is where the run of workbooks with the g-th LUID starts in
	// order. A workbook listed twice is merged into one lineage.
	var groups []int
	for k, i := range order {
		if k == 0 || snap.Workbooks[i].LUID != snap.Workbooks[order[k-1]].LUID {
			groups = append(groups, k)
		}
	}
	if len(groups) == 0 {
		return res
	}
	res.Workbooks = make([]WorkbookLineage, len(groups))

	workers := min(runtime.GOMAXPROCS(0), maxWorkers, max(1, len(groups)/minWorkbooksPerWorker))
	unmatched := make([][]UnmatchedTable, workers)
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*len(groups)/workers, (w+1)*len(groups)/workers
		wg.Go(func() {
			var scratch []outcome
			for g := lo; g < hi; g++ {
				end := len(order)
				if g+1 < len(groups) {
					end = groups[g+1]
				}
				wl := &res.Workbooks[g]
				for _, i := range order[groups[g]:end] {
					wb := &snap.Workbooks[i]
					wl.WorkbookLUID = wb.LUID
					scratch = c.addWorkbook(wl, wb, &unmatched[w], scratch)
				}
				wl.finish()
			}
		})
	}
	wg.Wait()

	res.Unmatched = slices.Concat(unmatched...)
	slices.SortFunc(res.Unmatched, compareUnmatched)
	res.Unmatched = slices.CompactFunc(res.Unmatched, func(a, b UnmatchedTable) bool { return compareUnmatched(a, b) == 0 })
	return res
}

// Compute splits a snapshot between goroutines only when each gets at
// least minWorkbooksPerWorker workbooks, and uses at most maxWorkers.
const minWorkbooksPerWorker = 2000

var maxWorkers = 8

// computation contains what one Compute call shares between workbooks.
type computation struct {
	ix        *Index
	published map[string][]*tableau.PublishedDatasource
	// outcomes caches the tables of each published data source, which many
	// workbooks may use. It is filled before the workers start.
	outcomes map[string][]outcome
}

// outcome is one upstream table of a data source and what it matched.
type outcome struct {
	ref TableRef
	lookupResult
}

// addWorkbook adds a workbook's tables and extracts to its lineage, using
// scratch for the outcomes of embedded data sources, and returns scratch
// for the next call.
func (c *computation) addWorkbook(wl *WorkbookLineage, wb *tableau.Workbook, unmatched *[]UnmatchedTable, scratch []outcome) []outcome {
	for i := range wb.EmbeddedDatasources {
		d := &wb.EmbeddedDatasources[i]
		src := TableRef{Datasource: d.Name, DatasourceID: d.ID}
		scratch = c.datasourceOutcomes(scratch[:0], src, d.UpstreamTables, d.CustomSQL)
		wl.add(wb.LUID, scratch, unmatched)
		if d.HasExtracts {
			wl.Extracts = append(wl.Extracts, ExtractRef{LUID: wb.LUID, Name: d.Name, DatasourceID: d.ID})
		}
	}

	for _, luid := range wb.PublishedDatasourceLUIDs {
		// NOTE: a published data source missing from the snapshot
		// contributes no tables. The Tableau client reads every one that a
		// selected workbook uses.
		for _, d := range c.published[luid] {
			if d.HasExtracts {
				wl.Extracts = append(wl.Extracts, ExtractRef{LUID: d.LUID, Published: true, Name: d.Name})
			}
		}
		wl.add(wb.LUID, c.outcomes[luid], unmatched)
	}
	return scratch
}

func (c *computation) matchPublished(luid string) {
	if _, ok := c.outcomes[luid]; ok {
		return
	}
	var out []outcome
	for _, d := range c.published[luid] {
		src := TableRef{Datasource: d.Name, DatasourceID: d.LUID, Published: true}
		out = c.datasourceOutcomes(out, src, d.UpstreamTables, d.CustomSQL)
	}
	c.outcomes[luid] = out
}

// datasourceOutcomes appends to out the upstream tables of one data source
// and the tables of its custom SQL queries, matched.
func (c *computation) datasourceOutcomes(out []outcome, src TableRef, tables []tableau.Table, queries []tableau.CustomSQL) []outcome {
	for _, t := range tables {
		out = append(out, c.tableOutcome(src, t, ""))
	}

	for _, q := range queries {
		ref := src
		ref.FromCustomSQL = true

		// Tables that Tableau parsed from the query are catalog tables.
		if len(q.Tables) > 0 {
			for _, t := range q.Tables {
				out = append(out, c.tableOutcome(ref, t, q.Database))
			}
			continue
		}

		refs, err := extractTables(q.Query, sqlLexRulesOf(q.ConnectionType, c.ix.dialect.name))
		if err != nil || len(refs) == 0 {
			ref.Table = shortQuery(q.Query)
			out = append(out, outcome{ref: ref, lookupResult: lookupResult{reason: ReasonUnparsed}})
			continue
		}
		for _, r := range refs {
			out = append(out, c.sqlOutcome(ref, r, q.Database))
		}
	}
	return out
}

func (c *computation) tableOutcome(ref TableRef, t tableau.Table, connectionDB string) outcome {
	name := c.ix.resolve(t.Name, t.Schema, t.Database, t.FullName, connectionDB)
	ref.Table = name.display()
	return outcome{ref: ref, lookupResult: c.ix.lookup(name)}
}

// sqlOutcome matches a table reference read from custom SQL, whose parts
// keep their quoting. A reference without database is in the connection's
// database, and one with more than three parts (a linked server) is matched
// on its last three.
func (c *computation) sqlOutcome(ref TableRef, r string, connectionDB string) outcome {
	parts, ok := parseName(r, c.ix.dialect.backtickPath)
	if !ok || len(parts) == 0 {
		ref.Table = r
		return outcome{ref: ref, lookupResult: lookupResult{reason: ReasonUnparsed}}
	}
	if len(parts) > 3 {
		parts = parts[len(parts)-3:]
	}

	var name tableName
	name.table = parts[len(parts)-1]
	if len(parts) >= 2 {
		name.schema = parts[len(parts)-2]
	}
	if len(parts) == 3 {
		name.db = parts[0]
	} else if connectionDB != "" {
		name.db = namePart{text: strings.TrimSpace(connectionDB)}
	}
	ref.Table = name.display()
	return outcome{ref: ref, lookupResult: c.ix.lookup(name)}
}

// unknownSchema stands for the missing schema of a table that has a
// database, in the run report.
const unknownSchema = "?"

// display renders the table's name for the run report. A missing schema
// between a database and a table shows as "?", so that "DB.?.orders" does
// not read as the schema-and-table name "DB.orders".
func (t tableName) display() string {
	if t.db.text != "" && t.schema.text == "" && t.schema.mode != modeQuoted && t.table.text != "" {
		return displayName(t.db, namePart{text: unknownSchema}, t.table)
	}
	return displayName(t.db, t.schema, t.table)
}

// add records the outcomes of one data source in the workbook's lineage.
func (wl *WorkbookLineage) add(workbookLUID string, outcomes []outcome, unmatched *[]UnmatchedTable) {
	if wl.Matches == nil && len(outcomes) > 0 {
		wl.Matches = make([]Match, 0, len(outcomes))
		wl.DependsOn = make([]string, 0, len(outcomes))
	}
	for _, o := range outcomes {
		if o.uniqueIDs != nil {
			wl.Matches = append(wl.Matches, Match{TableRef: o.ref, UniqueIDs: slices.Clone(o.uniqueIDs), SchemaOnly: o.schemaOnly})
			wl.DependsOn = append(wl.DependsOn, o.uniqueIDs...)
			continue
		}
		*unmatched = append(*unmatched, UnmatchedTable{
			WorkbookLUID: workbookLUID,
			TableRef:     o.ref,
			Reason:       o.reason,
			Candidates:   slices.Clone(o.candidates),
			Hint:         o.hint,
		})
	}
}

// finish sorts the workbook's lists and drops duplicates.
func (wl *WorkbookLineage) finish() {
	slices.Sort(wl.DependsOn)
	wl.DependsOn = slices.Compact(wl.DependsOn)

	slices.SortFunc(wl.Matches, compareMatch)
	wl.Matches = slices.CompactFunc(wl.Matches, func(a, b Match) bool { return compareMatch(a, b) == 0 })

	slices.SortFunc(wl.Extracts, compareExtract)
	wl.Extracts = slices.Compact(wl.Extracts)

	// Empty lists are nil, whatever was preallocated.
	if len(wl.DependsOn) == 0 {
		wl.DependsOn = nil
	}
	if len(wl.Matches) == 0 {
		wl.Matches = nil
	}
}

// The comparisons return at the first difference: they run for every
// pair that sorting 100,000 tables compares.

func compareTableRef(a, b TableRef) int {
	if c := strings.Compare(a.Datasource, b.Datasource); c != 0 {
		return c
	}
	if c := strings.Compare(a.DatasourceID, b.DatasourceID); c != 0 {
		return c
	}
	if c := compareBool(a.Published, b.Published); c != 0 {
		return c
	}
	if c := strings.Compare(a.Table, b.Table); c != 0 {
		return c
	}
	return compareBool(a.FromCustomSQL, b.FromCustomSQL)
}

func compareMatch(a, b Match) int {
	if c := compareTableRef(a.TableRef, b.TableRef); c != 0 {
		return c
	}
	if c := slices.Compare(a.UniqueIDs, b.UniqueIDs); c != 0 {
		return c
	}
	return compareBool(a.SchemaOnly, b.SchemaOnly)
}

func compareUnmatched(a, b UnmatchedTable) int {
	if c := strings.Compare(a.WorkbookLUID, b.WorkbookLUID); c != 0 {
		return c
	}
	if c := compareTableRef(a.TableRef, b.TableRef); c != 0 {
		return c
	}
	if c := strings.Compare(string(a.Reason), string(b.Reason)); c != 0 {
		return c
	}
	if c := slices.Compare(a.Candidates, b.Candidates); c != 0 {
		return c
	}
	return strings.Compare(a.Hint, b.Hint)
}

func compareExtract(a, b ExtractRef) int {
	if c := compareBool(a.Published, b.Published); c != 0 {
		return c
	}
	if c := strings.Compare(a.LUID, b.LUID); c != 0 {
		return c
	}
	if c := strings.Compare(a.DatasourceID, b.DatasourceID); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// maxQueryDisplay is how many characters of an unparsed query the report
// shows in place of a table name.
const maxQueryDisplay = 120

// shortQuery collapses the whitespace of a query and cuts it to
// maxQueryDisplay characters, so that the report can name the query.
func shortQuery(q string) string {
	s := strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(s) <= maxQueryDisplay {
		return s
	}
	r := []rune(s)
	return string(r[:maxQueryDisplay]) + "…"
}
