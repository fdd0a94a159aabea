package lineage

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// node builds an enabled table node whose resource type comes from the
// unique ID.
func node(uniqueID, database, schema, alias string, edits ...func(*dbt.Node)) dbt.Node {
	resourceType, _, _ := strings.Cut(uniqueID, ".")
	n := dbt.Node{
		UniqueID:     uniqueID,
		ResourceType: resourceType,
		Name:         uniqueID[strings.LastIndex(uniqueID, ".")+1:],
		Database:     database,
		Schema:       schema,
		Alias:        alias,
		Materialized: "table",
		Enabled:      true,
	}
	for _, edit := range edits {
		edit(&n)
	}
	return n
}

func source(uniqueID, database, schema, identifier string) dbt.Source {
	return dbt.Source{UniqueID: uniqueID, Database: database, Schema: schema, Identifier: identifier, Enabled: true}
}

func ephemeral(n *dbt.Node) { n.Materialized = "ephemeral" }
func disabled(n *dbt.Node)  { n.Enabled = false }

func relationName(s string) func(*dbt.Node) {
	return func(n *dbt.Node) { n.RelationName = s }
}

func quoteIdentifier(v bool) func(*dbt.Node) {
	return func(n *dbt.Node) { n.Quoting.Identifier = &v }
}

func dependsOn(ids ...string) func(*dbt.Node) {
	return func(n *dbt.Node) { n.DependsOn = ids }
}

func table(database, schema, name string) tableau.Table {
	return tableau.Table{Database: database, Schema: schema, Name: name}
}

// oneTable runs Compute on a snapshot of one workbook whose embedded data
// source reads the given tables and queries.
func oneTable(m *dbt.Manifest, tables []tableau.Table, queries []tableau.CustomSQL) *Result {
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{
		LUID: "wb",
		EmbeddedDatasources: []tableau.EmbeddedDatasource{{
			ID: "ds", Name: "Data", UpstreamTables: tables, CustomSQL: queries,
		}},
	}}}
	return Compute(m, snap, Options{})
}

func ref(tableName string) TableRef {
	return TableRef{Datasource: "Data", DatasourceID: "ds", Table: tableName}
}

func sqlRef(tableName string) TableRef {
	r := ref(tableName)
	r.FromCustomSQL = true
	return r
}

func matched(r TableRef, ids ...string) Match {
	return Match{TableRef: r, UniqueIDs: ids}
}

func unmatched(r TableRef, reason Reason, candidates ...string) UnmatchedTable {
	return UnmatchedTable{WorkbookLUID: "wb", TableRef: r, Reason: reason, Candidates: candidates}
}

func withHint(u UnmatchedTable, hint string) UnmatchedTable {
	u.Hint = hint
	return u
}

const (
	noSchemaHint           = "the name has no schema and Tableau does not report the connection's search path"
	noSchemaCandidatesHint = noSchemaHint + ", so the candidates are the relations of that table name in every schema"
)

func TestComputeRules(t *testing.T) {
	snowflake := &dbt.Manifest{AdapterType: "snowflake",
		Nodes: []dbt.Node{
			node("model.p.fct_orders", "ANALYTICS", "PROD", "fct_orders"),
			node("model.p.mixed", "ANALYTICS", "PROD", "MixedCase", relationName(`ANALYTICS.PROD."MixedCase"`)),
			node("model.p.quoted_cfg", "ANALYTICS", "PROD", "lower_quoted", quoteIdentifier(true)),
		},
	}
	postgres := &dbt.Manifest{AdapterType: "postgres",
		Nodes: []dbt.Node{
			node("model.p.payments", "shop", "public", "transactions"),
			node("model.p.my_table", "shop", "public", "MyTable"),
		},
		Sources: []dbt.Source{source("source.p.bank.transactions", "shop", "raw", "transactions")},
	}
	schemaOnly := &dbt.Manifest{AdapterType: "snowflake",
		Nodes: []dbt.Node{
			node("model.p.unique_one", "DB1", "SILVER", "unique_one"),
			node("model.p.prices", "MOVEMENT", "SILVER", "prices"),
		},
		Sources: []dbt.Source{source("source.p.cross.prices", "CROSSCHAIN", "SILVER", "prices")},
	}
	sameRelation := &dbt.Manifest{AdapterType: "duckdb",
		Nodes:   []dbt.Node{node("seed.p.raw_customers", "jaffle", "raw", "raw_customers")},
		Sources: []dbt.Source{source("source.p.ecom.raw_customers", "jaffle", "raw", "raw_customers")},
	}
	inert := &dbt.Manifest{AdapterType: "snowflake",
		Nodes: []dbt.Node{
			node("model.p.eph", "DB", "S", "eph", ephemeral),
			node("model.p.off", "DB", "S", "off", disabled),
			node("model.p.live", "DB", "S", "both"),
			node("model.p.both_eph", "DB", "T", "both", ephemeral),
		},
		Sources: []dbt.Source{{UniqueID: "source.p.x.off_src", Database: "DB", Schema: "S", Identifier: "off_src"}},
	}

	tests := []struct {
		name      string
		m         *dbt.Manifest
		tables    []tableau.Table
		queries   []tableau.CustomSQL
		matches   []Match
		unmatched []UnmatchedTable
	}{
		{
			name:    "snowflake unquoted any case",
			m:       snowflake,
			tables:  []tableau.Table{table("analytics", "prod", "FCT_ORDERS"), table("ANALYTICS", "PROD", "Fct_Orders")},
			matches: []Match{matched(ref("ANALYTICS.PROD.Fct_Orders"), "model.p.fct_orders"), matched(ref("analytics.prod.FCT_ORDERS"), "model.p.fct_orders")},
		},
		{
			name:      "snowflake quoted from relation name exact",
			m:         snowflake,
			tables:    []tableau.Table{table("ANALYTICS", "PROD", "MixedCase"), table("ANALYTICS", "PROD", "MIXEDCASE")},
			matches:   []Match{matched(ref("ANALYTICS.PROD.MixedCase"), "model.p.mixed")},
			unmatched: []UnmatchedTable{unmatched(ref("ANALYTICS.PROD.MIXEDCASE"), ReasonNoRelation)},
		},
		{
			name:      "snowflake quoting config",
			m:         snowflake,
			tables:    []tableau.Table{table("ANALYTICS", "PROD", "lower_quoted"), table("ANALYTICS", "PROD", "LOWER_QUOTED")},
			matches:   []Match{matched(ref("ANALYTICS.PROD.lower_quoted"), "model.p.quoted_cfg")},
			unmatched: []UnmatchedTable{unmatched(ref("ANALYTICS.PROD.LOWER_QUOTED"), ReasonNoRelation)},
		},
		{
			name:      "snowflake custom sql folds unquoted",
			m:         snowflake,
			queries:   []tableau.CustomSQL{{Query: `select * from analytics.prod.fct_orders join analytics.prod."fct_orders" on true`}},
			matches:   []Match{matched(sqlRef("analytics.prod.fct_orders"), "model.p.fct_orders")},
			unmatched: []UnmatchedTable{unmatched(sqlRef(`analytics.prod."fct_orders"`), ReasonNoRelation)},
		},
		{
			name:   "alias not dbt name",
			m:      postgres,
			tables: []tableau.Table{table("shop", "public", "transactions"), table("shop", "raw", "transactions"), table("shop", "public", "payments")},
			matches: []Match{
				matched(ref("shop.public.transactions"), "model.p.payments"),
				matched(ref("shop.raw.transactions"), "source.p.bank.transactions"),
			},
			unmatched: []UnmatchedTable{unmatched(ref("shop.public.payments"), ReasonNoRelation)},
		},
		{
			name:    "postgres quoted by default",
			m:       postgres,
			tables:  []tableau.Table{table("shop", "public", "MyTable"), table("shop", "public", "mytable")},
			queries: []tableau.CustomSQL{{Database: "shop", Query: `select * from Public.Transactions, public."MyTable", public.MyTable`}},
			matches: []Match{
				matched(sqlRef("shop.Public.Transactions"), "model.p.payments"),
				matched(sqlRef(`shop.public."MyTable"`), "model.p.my_table"),
				matched(ref("shop.public.MyTable"), "model.p.my_table"),
			},
			unmatched: []UnmatchedTable{
				unmatched(sqlRef("shop.public.MyTable"), ReasonNoRelation),
				unmatched(ref("shop.public.mytable"), ReasonNoRelation),
			},
		},
		{
			name: "redshift ignores case when quoted",
			m: &dbt.Manifest{AdapterType: "redshift", Nodes: []dbt.Node{
				node("model.p.t", "dev", "public", "MyTable", relationName(`"dev"."public"."MyTable"`)),
			}},
			tables:  []tableau.Table{table("DEV", "PUBLIC", "mytable")},
			matches: []Match{matched(ref("DEV.PUBLIC.mytable"), "model.p.t")},
		},
		{
			name: "bigquery exact and backquoted path",
			m: &dbt.Manifest{AdapterType: "bigquery", Nodes: []dbt.Node{
				node("model.p.t", "my-proj", "Sales", "Orders", relationName("`my-proj`.`Sales`.`Orders`")),
			}},
			tables:    []tableau.Table{table("my-proj", "Sales", "Orders"), table("my-proj", "sales", "orders")},
			queries:   []tableau.CustomSQL{{Query: "select * from `my-proj.Sales.Orders`"}},
			matches:   []Match{matched(sqlRef(`"my-proj"."Sales"."Orders"`), "model.p.t"), matched(ref("my-proj.Sales.Orders"), "model.p.t")},
			unmatched: []UnmatchedTable{unmatched(ref("my-proj.sales.orders"), ReasonNoRelation)},
		},
		{
			name: "databricks without catalog",
			m: &dbt.Manifest{AdapterType: "databricks", Nodes: []dbt.Node{
				node("model.p.t", "", "Gold", "Sales", relationName("`gold`.`sales`")),
			}},
			tables:  []tableau.Table{table("hive_metastore", "gold", "sales")},
			matches: []Match{matched(ref("hive_metastore.gold.sales"), "model.p.t")},
		},
		{
			name: "sqlserver bracketed full name",
			m: &dbt.Manifest{AdapterType: "sqlserver", Nodes: []dbt.Node{
				node("model.p.t", "Sales", "dbo", "Orders"),
			}},
			tables:  []tableau.Table{{FullName: "[SALES].[DBO].[ORDERS]"}},
			matches: []Match{matched(ref("SALES.DBO.ORDERS"), "model.p.t")},
		},
		{
			name:    "full name fills missing fields",
			m:       snowflake,
			tables:  []tableau.Table{{Name: "FCT_ORDERS", FullName: `"ANALYTICS"."PROD"."FCT_ORDERS"`}},
			matches: []Match{matched(ref("ANALYTICS.PROD.FCT_ORDERS"), "model.p.fct_orders")},
		},
		{
			name:    "full name in the name field",
			m:       snowflake,
			tables:  []tableau.Table{{Name: "[PROD].[FCT_ORDERS]", Database: "ANALYTICS"}, {Name: "[ANALYTICS].[PROD].[FCT_ORDERS]"}},
			matches: []Match{matched(ref("ANALYTICS.PROD.FCT_ORDERS"), "model.p.fct_orders")},
		},
		{
			name:    "connection database for parsed custom sql",
			m:       snowflake,
			queries: []tableau.CustomSQL{{Database: "ANALYTICS", Query: "select 1", Tables: []tableau.Table{{Schema: "PROD", Name: "FCT_ORDERS"}}}},
			matches: []Match{matched(sqlRef("ANALYTICS.PROD.FCT_ORDERS"), "model.p.fct_orders")},
		},
		{
			name:    "schema only unique",
			m:       schemaOnly,
			tables:  []tableau.Table{table("", "silver", "unique_one")},
			matches: []Match{{TableRef: ref("silver.unique_one"), UniqueIDs: []string{"model.p.unique_one"}, SchemaOnly: true}},
		},
		{
			name:      "schema only ambiguous",
			m:         schemaOnly,
			tables:    []tableau.Table{table("", "silver", "prices"), table("movement", "silver", "prices")},
			matches:   []Match{matched(ref("movement.silver.prices"), "model.p.prices")},
			unmatched: []UnmatchedTable{unmatched(ref("silver.prices"), ReasonAmbiguous, "model.p.prices", "source.p.cross.prices")},
		},
		{
			name:   "seed and source same relation",
			m:      sameRelation,
			tables: []tableau.Table{table("JAFFLE", "RAW", "RAW_CUSTOMERS"), table("", "raw", "raw_customers")},
			matches: []Match{
				matched(ref("JAFFLE.RAW.RAW_CUSTOMERS"), "seed.p.raw_customers", "source.p.ecom.raw_customers"),
				{TableRef: ref("raw.raw_customers"), UniqueIDs: []string{"seed.p.raw_customers", "source.p.ecom.raw_customers"}, SchemaOnly: true},
			},
		},
		{
			name:    "ephemeral and disabled",
			m:       inert,
			tables:  []tableau.Table{table("DB", "S", "EPH"), table("DB", "S", "OFF"), table("DB", "S", "OFF_SRC"), table("", "T", "BOTH"), table("DB", "S", "BOTH")},
			matches: []Match{matched(ref("DB.S.BOTH"), "model.p.live")},
			unmatched: []UnmatchedTable{
				unmatched(ref("DB.S.EPH"), ReasonEphemeral, "model.p.eph"),
				unmatched(ref("DB.S.OFF"), ReasonDisabled, "model.p.off"),
				unmatched(ref("DB.S.OFF_SRC"), ReasonDisabled, "source.p.x.off_src"),
				unmatched(ref("T.BOTH"), ReasonEphemeral, "model.p.both_eph"),
			},
		},
		{
			name:   "no schema lists candidates",
			m:      postgres,
			tables: []tableau.Table{table("shop", "", "transactions"), table("", "", "nothing")},
			unmatched: []UnmatchedTable{
				withHint(unmatched(ref("nothing"), ReasonNoRelation), noSchemaHint),
				withHint(unmatched(ref("shop.?.transactions"), ReasonNoRelation, "model.p.payments", "source.p.bank.transactions"), noSchemaCandidatesHint),
			},
		},
		{
			name:    "one-part name in custom sql",
			m:       postgres,
			queries: []tableau.CustomSQL{{Database: "shop", Query: "select * from transactions"}},
			unmatched: []UnmatchedTable{
				withHint(unmatched(sqlRef("shop.?.transactions"), ReasonNoRelation, "model.p.payments", "source.p.bank.transactions"), noSchemaCandidatesHint),
			},
		},
		{
			name:   "other database lists candidates",
			m:      snowflake,
			tables: []tableau.Table{table("DEV", "PROD", "FCT_ORDERS"), table("DEV", "PROD", "nothing")},
			unmatched: []UnmatchedTable{
				withHint(unmatched(ref("DEV.PROD.FCT_ORDERS"), ReasonNoRelation, "model.p.fct_orders"), "same schema and table in database ANALYTICS"),
				unmatched(ref("DEV.PROD.nothing"), ReasonNoRelation),
			},
		},
		{
			name:      "unparsed custom sql",
			m:         postgres,
			queries:   []tableau.CustomSQL{{Query: "select *\n  from 'unterminated"}},
			unmatched: []UnmatchedTable{unmatched(sqlRef("select * from 'unterminated"), ReasonUnparsed)},
		},
		{
			name: "cte and subquery in custom sql",
			m:    postgres,
			queries: []tableau.CustomSQL{{Database: "shop", Query: `with t as (select * from public.transactions)
				select * from t join (select * from raw.transactions) r on true`}},
			matches: []Match{
				matched(sqlRef("shop.public.transactions"), "model.p.payments"),
				matched(sqlRef("shop.raw.transactions"), "source.p.bank.transactions"),
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := oneTable(tc.m, tc.tables, tc.queries)
			if len(got.Workbooks) != 1 {
				t.Fatalf("got %d workbooks, want 1", len(got.Workbooks))
			}
			if diff := cmp.Diff(tc.matches, got.Workbooks[0].Matches); diff != "" {
				t.Errorf("matches (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.unmatched, got.Unmatched); diff != "" {
				t.Errorf("unmatched (-want +got):\n%s", diff)
			}
		})
	}
}

// TestComputePublishedAndExtracts checks that published data sources add
// their tables and that extracts are listed per workbook.
func TestComputePublishedAndExtracts(t *testing.T) {
	m := &dbt.Manifest{AdapterType: "postgres", Nodes: []dbt.Node{
		node("model.p.a", "db", "s", "a"),
		node("model.p.b", "db", "s", "b"),
	}}
	refreshed := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	snap := &tableau.Snapshot{
		Workbooks: []tableau.Workbook{
			{
				LUID:                     "wb-2",
				PublishedDatasourceLUIDs: []string{"pds-1", "pds-live"},
				EmbeddedDatasources: []tableau.EmbeddedDatasource{
					{ID: "e-live", Name: "Live", UpstreamTables: []tableau.Table{table("db", "s", "a")}},
				},
			},
			{
				LUID:                     "wb-1",
				PublishedDatasourceLUIDs: []string{"pds-1"},
				EmbeddedDatasources: []tableau.EmbeddedDatasource{
					{ID: "e-x", Name: "Extract", HasExtracts: true, ExtractLastRefreshTime: &refreshed, UpstreamTables: []tableau.Table{table("db", "s", "a")}},
				},
			},
		},
		PublishedDatasources: []tableau.PublishedDatasource{
			{LUID: "pds-1", Name: "Shared", HasExtracts: true, UpstreamTables: []tableau.Table{table("db", "s", "b"), table("db", "s", "gone")}},
			{LUID: "pds-live", Name: "Shared live", UpstreamTables: []tableau.Table{table("db", "s", "a")}},
		},
	}
	shared := TableRef{Datasource: "Shared", DatasourceID: "pds-1", Published: true}
	sharedB, sharedGone := shared, shared
	sharedB.Table, sharedGone.Table = "db.s.b", "db.s.gone"
	sharedLive := TableRef{Datasource: "Shared live", DatasourceID: "pds-live", Published: true, Table: "db.s.a"}

	want := &Result{
		Workbooks: []WorkbookLineage{
			{
				WorkbookLUID: "wb-1",
				DependsOn:    []string{"model.p.a", "model.p.b"},
				Matches: []Match{
					{TableRef: TableRef{Datasource: "Extract", DatasourceID: "e-x", Table: "db.s.a"}, UniqueIDs: []string{"model.p.a"}},
					{TableRef: sharedB, UniqueIDs: []string{"model.p.b"}},
				},
				Extracts: []ExtractRef{
					{LUID: "wb-1", Name: "Extract", DatasourceID: "e-x"},
					{LUID: "pds-1", Published: true, Name: "Shared"},
				},
			},
			{
				WorkbookLUID: "wb-2",
				DependsOn:    []string{"model.p.a", "model.p.b"},
				Matches: []Match{
					{TableRef: TableRef{Datasource: "Live", DatasourceID: "e-live", Table: "db.s.a"}, UniqueIDs: []string{"model.p.a"}},
					{TableRef: sharedB, UniqueIDs: []string{"model.p.b"}},
					{TableRef: sharedLive, UniqueIDs: []string{"model.p.a"}},
				},
				Extracts: []ExtractRef{{LUID: "pds-1", Published: true, Name: "Shared"}},
			},
		},
		Unmatched: []UnmatchedTable{
			{WorkbookLUID: "wb-1", TableRef: sharedGone, Reason: ReasonNoRelation},
			{WorkbookLUID: "wb-2", TableRef: sharedGone, Reason: ReasonNoRelation},
		},
	}
	if diff := cmp.Diff(want, Compute(m, snap, Options{})); diff != "" {
		t.Errorf("Compute (-want +got):\n%s", diff)
	}
}

// TestComputeOrderIndependent shuffles every list of a snapshot and
// expects the same result.
func TestComputeOrderIndependent(t *testing.T) {
	m := &dbt.Manifest{AdapterType: "snowflake",
		Nodes: []dbt.Node{
			node("model.p.a", "DB", "S", "A"), node("model.p.b", "DB", "S", "B"), node("seed.p.c", "DB", "RAW", "C"),
		},
		Sources: []dbt.Source{source("source.p.r.c", "DB", "RAW", "C")},
	}
	base := func() *tableau.Snapshot {
		return &tableau.Snapshot{
			Workbooks: []tableau.Workbook{
				{LUID: "w1", PublishedDatasourceLUIDs: []string{"p1", "p2"}, EmbeddedDatasources: []tableau.EmbeddedDatasource{
					{ID: "d1", Name: "One", HasExtracts: true, UpstreamTables: []tableau.Table{table("db", "s", "a"), table("db", "s", "zz"), table("db", "raw", "c")}},
					{ID: "d2", Name: "One", CustomSQL: []tableau.CustomSQL{{Query: "select * from s.b, raw.c, nowhere.x"}}},
				}},
				{LUID: "w2", PublishedDatasourceLUIDs: []string{"p2"}},
				{LUID: "w1", EmbeddedDatasources: []tableau.EmbeddedDatasource{
					{ID: "d3", Name: "Again", UpstreamTables: []tableau.Table{table("db", "s", "b"), table("", "s", "q")}},
				}},
			},
			PublishedDatasources: []tableau.PublishedDatasource{
				{LUID: "p1", Name: "P", HasExtracts: true, UpstreamTables: []tableau.Table{table("db", "s", "a"), table("db", "s", "b")}},
				{LUID: "p2", Name: "P", UpstreamTables: []tableau.Table{table("other", "s", "a")}},
			},
		}
	}
	want := Compute(m, base(), Options{})

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		snap := base()
		rng.Shuffle(len(snap.Workbooks), func(a, b int) { snap.Workbooks[a], snap.Workbooks[b] = snap.Workbooks[b], snap.Workbooks[a] })
		rng.Shuffle(len(snap.PublishedDatasources), func(a, b int) {
			snap.PublishedDatasources[a], snap.PublishedDatasources[b] = snap.PublishedDatasources[b], snap.PublishedDatasources[a]
		})
		for w := range snap.Workbooks {
			wb := &snap.Workbooks[w]
			rng.Shuffle(len(wb.PublishedDatasourceLUIDs), func(a, b int) {
				wb.PublishedDatasourceLUIDs[a], wb.PublishedDatasourceLUIDs[b] = wb.PublishedDatasourceLUIDs[b], wb.PublishedDatasourceLUIDs[a]
			})
			rng.Shuffle(len(wb.EmbeddedDatasources), func(a, b int) {
				wb.EmbeddedDatasources[a], wb.EmbeddedDatasources[b] = wb.EmbeddedDatasources[b], wb.EmbeddedDatasources[a]
			})
			for d := range wb.EmbeddedDatasources {
				ts := wb.EmbeddedDatasources[d].UpstreamTables
				rng.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
			}
		}
		if diff := cmp.Diff(want, Compute(m, snap, Options{})); diff != "" {
			t.Fatalf("shuffle %d changed the result (-want +got):\n%s", i, diff)
		}
	}

	if len(want.Workbooks) != 2 {
		t.Errorf("got %d workbooks, want the two LUIDs merged into 2", len(want.Workbooks))
	}
}

func TestComputeNilInputs(t *testing.T) {
	if diff := cmp.Diff(&Result{}, Compute(nil, nil, Options{})); diff != "" {
		t.Errorf("Compute(nil, nil) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&Result{}, Compute(nil, &tableau.Snapshot{}, Options{})); diff != "" {
		t.Errorf("Compute(nil, empty snapshot) (-want +got):\n%s", diff)
	}
	got := Compute(nil, &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
		{ID: "d", Name: "D", UpstreamTables: []tableau.Table{table("db", "s", "t")}},
	}}}}, Options{})
	want := &Result{
		Workbooks: []WorkbookLineage{{WorkbookLUID: "w"}},
		Unmatched: []UnmatchedTable{{WorkbookLUID: "w", TableRef: TableRef{Datasource: "D", DatasourceID: "d", Table: "db.s.t"}, Reason: ReasonNoRelation}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compute(nil manifest) (-want +got):\n%s", diff)
	}
}

func TestDialectPartMatches(t *testing.T) {
	tests := []struct {
		adapter   string
		part      namePart
		dbtName   string
		dbtQuoted bool
		want      bool
	}{
		{"snowflake", namePart{"orders", modeCatalog}, "orders", false, true},
		{"snowflake", namePart{"orders", modeQuoted}, "orders", false, false},
		{"snowflake", namePart{"ORDERS", modeQuoted}, "orders", false, true},
		{"snowflake", namePart{"Orders", modeQuoted}, "Orders", true, true},
		{"snowflake", namePart{"orders", modeUnquoted}, "Orders", true, false},
		{"postgres", namePart{"ORDERS", modeUnquoted}, "orders", true, true},
		{"postgres", namePart{"Orders", modeCatalog}, "Orders", true, true},
		{"postgres", namePart{"orders", modeCatalog}, "Orders", true, false},
		{"postgres", namePart{"ORDERS", modeCatalog}, "orders", false, true},
		{"redshift", namePart{"ORDERS", modeQuoted}, "Orders", true, true},
		{"duckdb", namePart{"ORDERS", modeQuoted}, "orders", true, true},
		{"databricks", namePart{"Orders", modeQuoted}, "orders", true, true},
		{"sqlserver", namePart{"ORDERS", modeQuoted}, "orders", true, true},
		{"bigquery", namePart{"orders", modeUnquoted}, "Orders", false, false},
		{"bigquery", namePart{"Orders", modeCatalog}, "Orders", false, true},
		{"some_new_warehouse", namePart{"ORDERS", modeQuoted}, "orders", true, true},
	}
	for _, tc := range tests {
		d := dialectFor(tc.adapter)
		got := d.partMatches(tc.part, d.stored(tc.dbtName, tc.dbtQuoted), tc.dbtQuoted)
		if got != tc.want {
			t.Errorf("%s: %+v against dbt %q (quoted %v) = %v, want %v", tc.adapter, tc.part, tc.dbtName, tc.dbtQuoted, got, tc.want)
		}
	}
}

func TestParseName(t *testing.T) {
	tests := []struct {
		in           string
		backtickPath bool
		want         []namePart
		ok           bool
	}{
		{"[DB].[SCHEMA].[TABLE]", false, []namePart{{"DB", modeQuoted}, {"SCHEMA", modeQuoted}, {"TABLE", modeQuoted}}, true},
		{`"a.b"."c""d"`, false, []namePart{{"a.b", modeQuoted}, {`c"d`, modeQuoted}}, true},
		{"[x]]y]", false, []namePart{{"x]y", modeQuoted}}, true},
		{"`p.d.t`", true, []namePart{{"p", modeQuoted}, {"d", modeQuoted}, {"t", modeQuoted}}, true},
		{"`p.d.t`", false, []namePart{{"p.d.t", modeQuoted}}, true},
		{" db . sch . t ", false, []namePart{{"db", modeUnquoted}, {"sch", modeUnquoted}, {"t", modeUnquoted}}, true},
		{"[People$]", false, []namePart{{"People$", modeQuoted}}, true},
		{`"open`, false, nil, false},
		{"a.", false, nil, false},
		{`"a"b`, false, nil, false},
		{"", false, nil, false},
	}
	for _, tc := range tests {
		got, ok := parseName(tc.in, tc.backtickPath)
		if ok != tc.ok {
			t.Errorf("parseName(%q) ok = %v, want %v", tc.in, ok, tc.ok)
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(namePart{})); diff != "" {
			t.Errorf("parseName(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

// TestComputeWorkersAgree checks that splitting a large snapshot between
// goroutines gives the result of one goroutine.
func TestComputeWorkersAgree(t *testing.T) {
	m := benchManifest(2000, 500)
	snap, _ := benchSnapshot(3, 2000, 500, 2*minWorkbooksPerWorker)
	ix := NewIndex(m, Options{})

	saved := maxWorkers
	maxWorkers = 1
	want := ix.Compute(snap)
	maxWorkers = saved

	got := ix.Compute(snap)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Compute with workers (-one +several):\n%s", diff)
	}
	if len(got.Workbooks) != 2*minWorkbooksPerWorker {
		t.Errorf("got %d workbooks, want %d", len(got.Workbooks), 2*minWorkbooksPerWorker)
	}
}

func TestDialectQuoting(t *testing.T) {
	yes, no := true, false
	names := [3]string{"db", "sch", "MyTable"}
	tests := []struct {
		name         string
		adapter      string
		relationName string
		quoting      dbt.Quoting
		want         [3]bool
	}{
		{"snowflake default", "snowflake", "", dbt.Quoting{}, [3]bool{false, false, false}},
		{"postgres default", "postgres", "", dbt.Quoting{}, [3]bool{true, true, true}},
		{"config over default", "snowflake", "", dbt.Quoting{Identifier: &yes}, [3]bool{false, false, true}},
		{"relation name over config", "snowflake", `db.sch."MyTable"`, dbt.Quoting{Identifier: &no}, [3]bool{false, false, true}},
		{"relation name unquoted", "postgres", "db.sch.MyTable", dbt.Quoting{}, [3]bool{false, false, false}},
		{"relation name without database", "databricks", "`sch`.`MyTable`", dbt.Quoting{}, [3]bool{false, true, true}},
		{"relation name of other names", "postgres", `"other"."sch"."MyTable"`, dbt.Quoting{Database: &no}, [3]bool{false, true, true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ns := names
			if tc.adapter == "databricks" {
				ns[0] = ""
			}
			got := dialectFor(tc.adapter).quoting(tc.relationName, ns, tc.quoting)
			if got != tc.want {
				t.Errorf("quoting(%q, %q) = %v, want %v", tc.relationName, ns, got, tc.want)
			}
		})
	}
}
