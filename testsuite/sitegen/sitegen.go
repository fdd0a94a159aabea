// Package sitegen generates synthetic Tableau sites of any size for the
// simulator, deterministically from a seed, for benchmarks and load tests.
//
// # Table names
//
// Generated tables follow fixed patterns, so that a generated dbt manifest
// can match them (see ModelRelation and SourceRelation):
//
//	model n:   database ANALYTICS, schema MARTS_<n mod Schemas>, table model_<n>
//	source n:  database ANALYTICS, schema RAW, table src_<n>
//	unmatched: database ANALYTICS, schema SCRATCH, table adhoc_<n>
//
// with n from 0 to Models-1 (or Sources-1). Identifiers are written as
// Snowflake stores them for a quoted lower-case table in an unquoted
// upper-case schema: matching must be case-insensitive, as dbt's default
// is. A table's fullName is "[ANALYTICS].[MARTS_3].[model_42]".
package sitegen

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// Database is the database of every generated table.
const Database = "ANALYTICS"

// ConnectionType is the connection type of every generated table.
const ConnectionType = "snowflake"

// Params sizes a generated site. Zero values get the defaults named on each
// field; shares are fractions from 0 to 1.
type Params struct {
	Seed uint64
	// Workbooks is the number of workbooks.
	Workbooks int
	// TablesPerWorkbook is the number of distinct upstream tables each
	// workbook's embedded data sources read, 5 by default.
	TablesPerWorkbook int
	// DatasourcesPerWorkbook is the number of embedded data sources per
	// workbook, 1 by default; the workbook's tables are spread over them.
	DatasourcesPerWorkbook int
	// Models is the number of dbt models tables are drawn from, by default
	// Workbooks*TablesPerWorkbook/4 (at least TablesPerWorkbook), so that
	// workbooks share tables.
	Models int
	// Schemas is the number of MARTS_<n> schemas, 10 by default.
	Schemas int
	// Sources is the number of dbt sources (RAW.src_<n>) that SourceShare
	// draws from, 100 by default.
	Sources int
	// SourceShare is the share of tables that are sources, not models.
	SourceShare float64
	// UnmatchedShare is the share of tables that match no dbt node.
	UnmatchedShare float64
	// ExtractShare is the share of data sources with an extract.
	ExtractShare float64
	// CustomSQLShare is the share of embedded data sources fed by a custom
	// SQL query over some of their tables instead of reading them directly.
	CustomSQLShare float64
	// UnparsedSQLShare is the share of custom SQL queries Tableau could not
	// parse, which list no tables.
	UnparsedSQLShare float64
	// PublishedDatasources is the number of published data sources, each
	// reading TablesPerWorkbook tables, 0 by default.
	PublishedDatasources int
	// PublishedShare is the share of workbooks that use one of them.
	PublishedShare float64
	// Projects is the number of projects, 5 by default.
	Projects int
	// Collections is the number of collections, 3 by default; three
	// workbooks in four are in one of them.
	Collections int
	// DashboardsPerWorkbook is 2 by default.
	DashboardsPerWorkbook int
}

func (p Params) withDefaults() Params {
	if p.TablesPerWorkbook <= 0 {
		p.TablesPerWorkbook = 5
	}
	if p.DatasourcesPerWorkbook <= 0 {
		p.DatasourcesPerWorkbook = 1
	}
	if p.Models <= 0 {
		p.Models = max(p.TablesPerWorkbook, p.Workbooks*p.TablesPerWorkbook/4)
	}
	if p.Schemas <= 0 {
		p.Schemas = 10
	}
	if p.Sources <= 0 {
		p.Sources = 100
	}
	if p.Projects <= 0 {
		p.Projects = 5
	}
	if p.Collections <= 0 {
		p.Collections = 3
	}
	if p.DashboardsPerWorkbook <= 0 {
		p.DashboardsPerWorkbook = 2
	}
	return p
}

// ModelRelation returns the relation of generated model n for a site with
// the given number of schemas: database, schema and table name.
func ModelRelation(schemas, n int) (database, schema, table string) {
	return Database, fmt.Sprintf("MARTS_%d", n%schemas), fmt.Sprintf("model_%d", n)
}

// SourceRelation returns the relation of generated source n.
func SourceRelation(n int) (database, schema, table string) {
	return Database, "RAW", fmt.Sprintf("src_%d", n)
}

// Token is the personal access token every generated site accepts.
var Token = tableausim.Token{Name: "sitegen-token", Secret: "sitegen-secret-NOT-A-REAL-TOKEN"}

// baseTime anchors generated timestamps, so that they do not depend on the
// day the generator runs.
var baseTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

type generator struct {
	p   Params
	rng *rand.Rand
}

// Generate builds a site from p. The same p always gives the same site.
func Generate(p Params) *tableausim.Site {
	p = p.withDefaults()
	g := &generator{p: p, rng: rand.New(rand.NewPCG(p.Seed, 0x5ca1ab1e))}

	site := &tableausim.Site{}
	site.FormatVersion = tableau.SnapshotFormatVersion
	site.ServerURL = "https://tableau.sitegen.test"
	site.Site = "sitegen"
	site.SiteLUID = g.luid()
	site.Simulator.Tokens = []tableausim.Token{Token}

	owners := make([]tableau.Owner, 20)
	for i := range owners {
		owners[i] = tableau.Owner{
			Name:     fmt.Sprintf("User %d", i),
			Email:    fmt.Sprintf("user%d@sitegen.test", i),
			Username: fmt.Sprintf("user%d", i),
		}
	}
	projects := make([]string, p.Projects)
	projectLUIDs := make([]string, p.Projects)
	for i := range projects {
		projects[i] = fmt.Sprintf("Project %d", i)
		projectLUIDs[i] = g.luid()
	}

	for i := range p.PublishedDatasources {
		d := tableau.PublishedDatasource{
			LUID:           g.luid(),
			ID:             g.luid(),
			Name:           fmt.Sprintf("Published source %d", i),
			ProjectName:    projects[i%p.Projects],
			Owner:          owners[g.rng.IntN(len(owners))],
			UpstreamTables: g.tables(p.TablesPerWorkbook),
		}
		d.HasExtracts, d.ExtractLastRefreshTime = g.extract()
		site.PublishedDatasources = append(site.PublishedDatasources, d)
	}

	for i := range p.Collections {
		site.Collections = append(site.Collections, tableau.Collection{
			LUID: g.luid(),
			Name: fmt.Sprintf("Collection %d", i),
		})
	}

	for i := range p.Workbooks {
		w := g.workbook(i, owners, projects, projectLUIDs, site.PublishedDatasources)
		if i%4 != 3 {
			c := &site.Collections[i%p.Collections]
			c.WorkbookLUIDs = append(c.WorkbookLUIDs, w.LUID)
		}
		site.Workbooks = append(site.Workbooks, w)
	}
	return site
}

func (g *generator) workbook(i int, owners []tableau.Owner, projects, projectLUIDs []string, published []tableau.PublishedDatasource) tableau.Workbook {
	p := g.p
	project := g.rng.IntN(len(projects))
	w := tableau.Workbook{
		LUID:        g.luid(),
		Name:        fmt.Sprintf("Workbook %d", i),
		ProjectName: projects[project],
		ProjectLUID: projectLUIDs[project],
		Owner:       owners[g.rng.IntN(len(owners))],
		WebURL:      fmt.Sprintf("https://tableau.sitegen.test/#/site/sitegen/workbooks/%d", 100000+i),
		UpdatedAt:   baseTime.Add(-time.Duration(g.rng.IntN(365*24)) * time.Hour),
	}
	if g.rng.IntN(3) == 0 {
		w.Tags = []string{"certified"}
	}
	for d := range p.DashboardsPerWorkbook {
		name := fmt.Sprintf("Dashboard %d", d)
		w.Dashboards = append(w.Dashboards, tableau.Dashboard{
			ID:   g.luid(),
			LUID: g.luid(),
			Name: name,
			Path: fmt.Sprintf("Workbook%d/Dashboard%d", i, d),
		})
	}

	tables := g.tables(p.TablesPerWorkbook)
	for d := range p.DatasourcesPerWorkbook {
		var own []tableau.Table
		for k := d; k < len(tables); k += p.DatasourcesPerWorkbook {
			own = append(own, tables[k])
		}
		ds := tableau.EmbeddedDatasource{ID: g.luid(), Name: fmt.Sprintf("Data source %d", d)}
		ds.HasExtracts, ds.ExtractLastRefreshTime = g.extract()
		if len(own) > 0 && g.chance(p.CustomSQLShare) {
			ds.CustomSQL = []tableau.CustomSQL{g.customSQL(own)}
		} else {
			ds.UpstreamTables = own
		}
		w.EmbeddedDatasources = append(w.EmbeddedDatasources, ds)
	}

	if len(published) > 0 && g.chance(p.PublishedShare) {
		w.PublishedDatasourceLUIDs = []string{published[g.rng.IntN(len(published))].LUID}
	}
	return w
}

// tables draws n distinct tables.
func (g *generator) tables(n int) []tableau.Table {
	seen := map[string]bool{}
	var out []tableau.Table
	for len(out) < n {
		t := g.table()
		if seen[t.FullName] {
			continue
		}
		seen[t.FullName] = true
		out = append(out, t)
	}
	return out
}

func (g *generator) table() tableau.Table {
	p := g.p
	var db, schema, name string
	switch {
	case g.chance(p.UnmatchedShare):
		db, schema, name = Database, "SCRATCH", fmt.Sprintf("adhoc_%d", g.rng.IntN(1_000_000))
	case g.chance(p.SourceShare):
		db, schema, name = SourceRelation(g.rng.IntN(p.Sources))
	default:
		db, schema, name = ModelRelation(p.Schemas, g.rng.IntN(p.Models))
	}
	return tableau.Table{
		Name:           name,
		Schema:         schema,
		FullName:       fmt.Sprintf("[%s].[%s].[%s]", db, schema, name),
		Database:       db,
		ConnectionType: ConnectionType,
	}
}

func (g *generator) customSQL(tables []tableau.Table) tableau.CustomSQL {
	q := tableau.CustomSQL{
		ID:             g.luid(),
		Name:           "Custom SQL Query",
		Database:       Database,
		ConnectionType: ConnectionType,
	}
	sql := "select *\nfrom " + qualified(tables[0]) + " t0"
	for k, t := range tables[1:] {
		sql += fmt.Sprintf("\njoin %s t%d on t%d.id = t0.id", qualified(t), k+1, k+1)
	}
	if g.chance(g.p.UnparsedSQLShare) {
		// A dialect feature Tableau's parser rejects, so Tableau lists no
		// tables for the query.
		sql += "\nqualify row_number() over (partition by t0.id order by t0.id) = 1"
	} else {
		q.Tables = tables
	}
	q.Query = sql
	return q
}

func qualified(t tableau.Table) string {
	return t.Database + "." + t.Schema + "." + t.Name
}

func (g *generator) extract() (bool, *time.Time) {
	if !g.chance(g.p.ExtractShare) {
		return false, nil
	}
	t := baseTime.Add(-time.Duration(g.rng.IntN(30*24*60)) * time.Minute)
	return true, &t
}

func (g *generator) chance(share float64) bool {
	return share > 0 && g.rng.Float64() < share
}

// luid draws a random UUID (version 4 layout) from the generator's source.
func (g *generator) luid() string {
	a, b := g.rng.Uint64(), g.rng.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x",
		a>>32, (a>>16)&0xffff, a&0x0fff, 0x8000|(b>>48)&0x3fff, b&0xffffffffffff)
}
