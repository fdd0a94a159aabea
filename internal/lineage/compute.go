package lineage

import (
	"cmp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Compute matches every upstream table of every workbook in the snapshot
// to the manifest's relations. It indexes the manifest first; callers that
// match several snapshots against one manifest use NewIndex and
// Index.Compute instead. A nil manifest matches nothing; a nil snapshot
// gives an empty result.
func Compute(m *dbt.Manifest, snap *tableau.Snapshot, opts Options) *Result {
	return NewIndex(m, opts).Compute(snap)
}

// Compute matches every upstream table of every workbook in the snapshot.
// The result does not depend on the order of anything in the snapshot.
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

	order := make([]int, len(snap.Workbooks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Compare(snap.Workbooks[a].LUID, snap.Workbooks[b].LUID)
	})

	res.Workbooks = make([]WorkbookLineage, 0, len(order))
	for _, i := range order {
		wb := &snap.Workbooks[i]
		// A workbook listed twice is merged into one lineage.
		if n := len(res.Workbooks); n > 0 && res.Workbooks[n-1].WorkbookLUID == wb.LUID {
			c.addWorkbook(&res.Workbooks[n-1], wb, &res.Unmatched)
			continue
		}
		res.Workbooks = append(res.Workbooks, WorkbookLineage{WorkbookLUID: wb.LUID})
		c.addWorkbook(&res.Workbooks[len(res.Workbooks)-1], wb, &res.Unmatched)
	}

	for i := range res.Workbooks {
		res.Workbooks[i].finish()
	}
	slices.SortFunc(res.Unmatched, compareUnmatched)
	res.Unmatched = slices.CompactFunc(res.Unmatched, func(a, b UnmatchedTable) bool { return compareUnmatched(a, b) == 0 })
	return res
}

// computation holds what one Compute call shares between workbooks.
type computation struct {
	ix        *Index
	published map[string][]*tableau.PublishedDatasource
	// outcomes caches the tables of each published data source, which many
	// workbooks may use.
	outcomes map[string][]outcome
}

// outcome is one upstream table of a data source and what it matched.
type outcome struct {
	ref TableRef
	lookupResult
}

func (c *computation) addWorkbook(wl *WorkbookLineage, wb *tableau.Workbook, unmatched *[]UnmatchedTable) {
	for i := range wb.EmbeddedDatasources {
		d := &wb.EmbeddedDatasources[i]
		src := TableRef{Datasource: d.Name, DatasourceID: d.ID}
		wl.add(wb.LUID, c.datasourceOutcomes(src, d.UpstreamTables, d.CustomSQL), unmatched)
		if d.HasExtracts {
			wl.Extracts = append(wl.Extracts, ExtractRef{LUID: wb.LUID, Name: d.Name, DatasourceID: d.ID})
		}
	}

	for _, luid := range wb.PublishedDatasourceLUIDs {
		// NOTE: a published data source missing from the snapshot
		// contributes no tables; the Tableau client reads every one that a
		// selected workbook uses.
		for _, d := range c.published[luid] {
			if d.HasExtracts {
				wl.Extracts = append(wl.Extracts, ExtractRef{LUID: d.LUID, Published: true, Name: d.Name})
			}
		}
		wl.add(wb.LUID, c.publishedOutcomes(luid), unmatched)
	}
}

func (c *computation) publishedOutcomes(luid string) []outcome {
	if out, ok := c.outcomes[luid]; ok {
		return out
	}
	var out []outcome
	for _, d := range c.published[luid] {
		src := TableRef{Datasource: d.Name, DatasourceID: d.LUID, Published: true}
		out = append(out, c.datasourceOutcomes(src, d.UpstreamTables, d.CustomSQL)...)
	}
	c.outcomes[luid] = out
	return out
}

// datasourceOutcomes matches the upstream tables of one data source and
// the tables of its custom SQL queries.
func (c *computation) datasourceOutcomes(src TableRef, tables []tableau.Table, queries []tableau.CustomSQL) []outcome {
	out := make([]outcome, 0, len(tables))
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

		refs, err := extractTables(q.Query)
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
	ref.Table = displayName(name.db, name.schema, name.table)
	return outcome{ref: ref, lookupResult: c.ix.lookup(name)}
}

// sqlOutcome matches a table reference read from custom SQL, whose parts
// keep their quoting. A reference without database is in the connection's
// database; one with more than three parts (a linked server) is matched
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
	ref.Table = displayName(name.db, name.schema, name.table)
	return outcome{ref: ref, lookupResult: c.ix.lookup(name)}
}

// add records the outcomes of one data source in the workbook's lineage.
func (wl *WorkbookLineage) add(workbookLUID string, outcomes []outcome, unmatched *[]UnmatchedTable) {
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
}

func compareTableRef(a, b TableRef) int {
	return cmp.Or(
		cmp.Compare(a.Datasource, b.Datasource),
		cmp.Compare(a.DatasourceID, b.DatasourceID),
		compareBool(a.Published, b.Published),
		cmp.Compare(a.Table, b.Table),
		compareBool(a.FromCustomSQL, b.FromCustomSQL),
	)
}

func compareMatch(a, b Match) int {
	return cmp.Or(
		compareTableRef(a.TableRef, b.TableRef),
		slices.Compare(a.UniqueIDs, b.UniqueIDs),
		compareBool(a.SchemaOnly, b.SchemaOnly),
	)
}

func compareUnmatched(a, b UnmatchedTable) int {
	return cmp.Or(
		cmp.Compare(a.WorkbookLUID, b.WorkbookLUID),
		compareTableRef(a.TableRef, b.TableRef),
		cmp.Compare(a.Reason, b.Reason),
		slices.Compare(a.Candidates, b.Candidates),
	)
}

func compareExtract(a, b ExtractRef) int {
	return cmp.Or(
		compareBool(a.Published, b.Published),
		cmp.Compare(a.LUID, b.LUID),
		cmp.Compare(a.DatasourceID, b.DatasourceID),
		cmp.Compare(a.Name, b.Name),
	)
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
