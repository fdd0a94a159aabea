package lineage

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

var extractTablesCases = []struct {
	name string
	sql  string
	want []string
}{
	{"single table", "select * from orders", []string{"orders"}},
	{"three-part name", "SELECT id FROM analytics.prod.fct_orders o", []string{"analytics.prod.fct_orders"}},
	{"spaces around dots", "select * from analytics . prod . orders", []string{"analytics.prod.orders"}},
	{"join kinds", `select * from a
		inner join b on a.id = b.id
		left outer join s.c on c.id = b.id
		cross join d
		natural full join e`, []string{"a", "b", "d", "e", "s.c"}},
	{"comma join", "select * from a, b x, s.c as y where a.id = x.id", []string{"a", "b", "s.c"}},
	{"comma join after on", "select * from a join b on a.id = b.id, c", []string{"a", "b", "c"}},
	{"group and order commas", "select a, b from t group by a, b order by a, b", []string{"t"}},
	{"subquery in from", "select * from (select * from inner_t) sub join outer_t on true", []string{"inner_t", "outer_t"}},
	{"subquery comma join", "select * from (select 1 from a) x, b", []string{"a", "b"}},
	{"subquery in where", "select * from a where id in (select id from b) and exists (select 1 from c)", []string{"a", "b", "c"}},
	{"scalar subquery", "select (select max(x) from b) as m from a", []string{"a", "b"}},
	{"nested parentheses", "select * from a where x = ((select 1 from b))", []string{"a", "b"}},
	{"parenthesized join", "select * from (a join b on a.id = b.id) left join c using (id)", []string{"a", "b", "c"}},
	{"cte excluded", `with recent as (select * from orders where d > '2024-01-01'),
		totals (id, n) as (select id, count(*) from recent group by id)
		select * from totals join customers using (id)`, []string{"customers", "orders"}},
	{"cte case-insensitive", "WITH Recent AS (SELECT * FROM s.orders) SELECT * FROM RECENT", []string{"s.orders"}},
	{"cte materialized", "with x as materialized (select * from t) select * from x", []string{"t"}},
	{"qualified name not cte", "with orders as (select 1) select * from s.orders", []string{"s.orders"}},
	{"with time zone not cte", "select ts::timestamp with time zone, b as c from b", []string{"b"}},
	{"cte in subquery", "select * from (with c as (select * from t) select * from c) z", []string{"t"}},
	{"line comment", "select * -- from hidden\nfrom shown", []string{"shown"}},
	{"block comment", "select * /* from hidden join other */ from shown", []string{"shown"}},
	{"string literal", "select 'from fake' as s from real_t where x = 'join y'", []string{"real_t"}},
	{"doubled quote in string", "select 'it''s from x' from t", []string{"t"}},
	{"dollar-quoted string", "select $$ from fake $$ from t", []string{"t"}},
	{"double-quoted with dot", `select * from "My Schema"."a.b"`, []string{`"My Schema"."a.b"`}},
	{"bracketed with space", "select * from [dbo].[x y]", []string{"[dbo].[x y]"}},
	{"backquoted", "select * from `x` join `proj.ds.t` on true", []string{"`proj.ds.t`", "`x`"}},
	{"escaped quote in identifier", `select * from "a""b"`, []string{`"a""b"`}},
	{"extract function", "select extract(year from d), substring(s from 2 for 3) from t", []string{"t"}},
	{"trim function", "select trim(both ' ' from name) from people", []string{"people"}},
	{"is distinct from", "select * from a where x is not distinct from y", []string{"a"}},
	{"table functions", "select * from generate_series(1, 10) g, table(flatten(input => x)), lateral unnest(arr)", nil},
	{"lateral flatten", "select * from t, lateral flatten(input => t.v) f", []string{"t"}},
	{"window", "select row_number() over (partition by a, b order by c) from t", []string{"t"}},
	{"union", "select a from t1 union all select a from t2", []string{"t1", "t2"}},
	{"only and stage", "select * from only p join @stage s on true", []string{"p"}},
	{"bigquery hyphenated project", "select seller_city from demo-custom-323403.bigquery_demo.sellers sell left join (select * from demo-custom-323403.bigquery_demo.order_items) items on items.seller_id = sell.seller_id",
		[]string{"demo-custom-323403.bigquery_demo.order_items", "demo-custom-323403.bigquery_demo.sellers"}},
	{"tableau parameter", "SELECT c.id FROM customer c INNER JOIN payment p ON p.customer_id = c.id WHERE c.id = <[Parameters].[Parameter 1]>", []string{"customer", "payment"}},
	{"sql server", "select * from db..t with (nolock) cross apply (select top 1 * from s.u) x", []string{"db..t", "s.u"}},
	{"four-part name", "select * from srv.db.dbo.t", []string{"srv.db.dbo.t"}},
	{"duplicates once", "select * from t join T on true join t on true", []string{"T", "t"}},
	{"statements", "select * from a; select * from b", []string{"a", "b"}},
	{"unicode names", "select * from données.clients", []string{"données.clients"}},
	{"no table", "select 1", nil},
	{"unterminated string", "select * from t where x = 'abc", nil},
	{"unterminated comment", "select * from t /* no end", nil},
	{"unterminated quote", `select * from "t`, nil},
	{"unbalanced", "select * from (select * from t", nil},
	{"extra closing", "select * from t)", nil},
	{"empty", "", nil},
}

func TestExtractTables(t *testing.T) {
	for _, tc := range extractTablesCases {
		t.Run(tc.name, func(t *testing.T) {
			got := ExtractTables(tc.sql)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ExtractTables(%q) (-want +got):\n%s", tc.sql, diff)
			}
		})
	}
}

// extractTablesDialectCases are queries whose comments, strings or names
// read differently in some dialects. generic is the result without a
// dialect, which shows what the dialect changes.
var extractTablesDialectCases = []struct {
	name    string
	dialect string
	sql     string
	want    []string
	generic []string
}{
	{"snowflake slash comment", "snowflake", "select * from silver.transfers\n// old version: select * from silver.blocks\n",
		[]string{"silver.transfers"}, []string{"silver.blocks", "silver.transfers"}},
	{"snowflake escaped quote", "snowflake", `select * from silver.transfers t join core.fact_blocks b on t.x = b.x where t.memo not like '%\'%'`,
		[]string{"core.fact_blocks", "silver.transfers"}, nil},
	{"snowflake escaped quote hides from", "snowflake", `select 'a\' from silver.blocks where \'' as c from silver.transfers`,
		[]string{"silver.transfers"}, []string{"silver.blocks", "silver.transfers"}},
	{"snowflake escaped backslash", "snowflake", `select 'a\\' from t`, []string{"t"}, []string{"t"}},
	{"snowflake dollar string", "snowflake", "select $$it's from silver.blocks$$ as c from silver.transfers",
		[]string{"silver.transfers"}, []string{"silver.transfers"}},
	{"bigquery escaped quote", "bigquery", `select * from jaffle_shop.orders where name != 'O\'Brien'`,
		[]string{"jaffle_shop.orders"}, nil},
	{"bigquery hash comment", "bigquery", "select * from jaffle_shop.orders # it's a comment\n",
		[]string{"jaffle_shop.orders"}, nil},
	{"bigquery hash comment hides join", "bigquery", "select * from a # join hidden\njoin b using (id)",
		[]string{"a", "b"}, []string{"a", "b", "hidden"}},
	{"bigquery triple-quoted string", "bigquery", "select '''it's from x''' as a from jaffle_shop.orders",
		[]string{"jaffle_shop.orders"}, nil},
	{"bigquery double-quoted string", "bigquery", `select "it\"s from x" from t`, []string{"t"}, nil},
	{"bigquery triple double quotes", "bigquery", `select """from "x" y""" from t`, []string{"t"}, []string{"t"}},
	{"bigquery triple quotes hide a quote", "bigquery", `select """it"s from x""" from t`, []string{"t"}, nil},
	{"mysql hash comment", "mysql", "select * from t # from x\njoin u on true", []string{"t", "u"}, []string{"t", "u", "x"}},
	{"mysql double-quoted string", "mysql", `select "from \"x" from t`, []string{"t"}, nil},
	{"databricks nested comment", "databricks", "select * from t /* outer /* inner */ from x */ join u on true",
		[]string{"t", "u"}, []string{"t", "u", "x"}},
	{"databricks escaped quote", "databricks", `select 'it\'s from x' from t`, []string{"t"}, nil},
	{"postgres nested comment", "postgres", "select * from a /* outer /* inner */ from hidden */ join b on true",
		[]string{"a", "b"}, []string{"a", "b", "hidden"}},
	{"postgres escape string", "postgres", `select E'it\'s from x' from t`, []string{"t"}, nil},
	{"postgres standard string keeps backslash", "postgres", `select 'a\' from t`, []string{"t"}, []string{"t"}},
	{"postgres hash operator", "postgres", "select a # b from t", []string{"t"}, []string{"t"}},
	{"postgres array subscript", "postgres", "select arr[1] from t", []string{"t"}, []string{"t"}},
	{"duckdb as postgres", "duckdb", "select * from a /* /* */ from hidden */ join b on true", []string{"a", "b"}, []string{"a", "b", "hidden"}},
	{"sqlserver temporary table", "sqlserver", "select * into #tmp from main.orders; select * from #tmp join main.customers on 1=1",
		[]string{"main.customers", "main.orders"}, []string{"#tmp", "main.customers", "main.orders"}},
	{"sqlserver nested comment", "sqlserver", "select * from t /* a /* b */ from x */ join u on 1=1", []string{"t", "u"}, []string{"t", "u", "x"}},
	{"sqlserver brackets", "sqlserver", "select * from [main].[ord]]ers]", []string{"[main].[ord]]ers]"}, []string{"[main].[ord]]ers]"}},
	{"tableau connection type", "azure_sql_dw", "select * from ##global join s.t on 1=1", []string{"s.t"}, []string{"##global", "s.t"}},
	{"unknown dialect", "teradata", "select * from #t", []string{"#t"}, []string{"#t"}},
	{"unclosed nested comment", "postgres", "select * from t /* a /* b */", nil, []string{"t"}},
}

func TestExtractTablesFor(t *testing.T) {
	for _, tc := range extractTablesDialectCases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ExtractTablesFor(tc.sql, tc.dialect)); diff != "" {
				t.Errorf("ExtractTablesFor(%q, %q) (-want +got):\n%s", tc.sql, tc.dialect, diff)
			}
			if diff := cmp.Diff(tc.generic, ExtractTables(tc.sql)); diff != "" {
				t.Errorf("ExtractTables(%q) (-want +got):\n%s", tc.sql, diff)
			}
		})
	}
}

// TestComputeCustomSQLDialect checks that custom SQL is read under the
// rules of its connection type, and of the manifest's adapter when the
// query has none.
func TestComputeCustomSQLDialect(t *testing.T) {
	const query = "select * from s.a\n// from s.hidden\nwhere x <> 'it\\'s from s.hidden'"
	m := func(adapter string) *dbt.Manifest {
		return &dbt.Manifest{AdapterType: adapter, Nodes: []dbt.Node{node("model.p.a", "db", "s", "a"), node("model.p.hidden", "db", "s", "hidden")}}
	}
	tests := []struct {
		name           string
		adapter        string
		connectionType string
		want           []string
	}{
		{"connection type", "postgres", "snowflake", []string{"model.p.a"}},
		{"adapter", "snowflake", "", []string{"model.p.a"}},
		{"unknown connection type uses adapter", "snowflake", "sqlproxy", []string{"model.p.a"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := oneTable(m(tc.adapter), nil, []tableau.CustomSQL{{Database: "db", ConnectionType: tc.connectionType, Query: query}})
			if diff := cmp.Diff(tc.want, res.Workbooks[0].DependsOn); diff != "" {
				t.Errorf("DependsOn (-want +got):\n%s", diff)
			}
			if len(res.Unmatched) != 0 {
				t.Errorf("Unmatched = %+v, want none", res.Unmatched)
			}
		})
	}
}

// fuzzDialects are the dialects the fuzz test reads every input under.
var fuzzDialects = []string{"", "snowflake", "bigquery", "mysql", "databricks", "postgres", "redshift", "sqlserver"}

// FuzzExtractTables checks, under every dialect, that any input gives a
// sorted list without duplicates whose every entry reads back as a dotted
// name, and that matching the query as custom SQL reports every table it
// found.
func FuzzExtractTables(f *testing.F) {
	for _, tc := range extractTablesCases {
		f.Add(tc.sql)
	}
	for _, tc := range extractTablesDialectCases {
		f.Add(tc.sql)
	}
	m := &dbt.Manifest{AdapterType: "bigquery", Nodes: []dbt.Node{node("model.p.t", "db", "s", "t")}}
	ix := NewIndex(m, Options{})
	f.Fuzz(func(t *testing.T, sql string) {
		for _, dialect := range fuzzDialects {
			snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
				{ID: "d", CustomSQL: []tableau.CustomSQL{{Database: "db", ConnectionType: dialect, Query: sql}}},
			}}}}
			res := ix.Compute(snap)
			if reported := len(res.Workbooks[0].Matches) + len(res.Unmatched); reported == 0 {
				t.Fatalf("Compute reported nothing for custom SQL %q in dialect %q", sql, dialect)
			}

			got := ExtractTablesFor(sql, dialect)
			if !slices.IsSorted(got) {
				t.Fatalf("ExtractTablesFor(%q, %q) = %q, not sorted", sql, dialect, got)
			}
			if len(slices.Compact(slices.Clone(got))) != len(got) {
				t.Fatalf("ExtractTablesFor(%q, %q) = %q, has duplicates", sql, dialect, got)
			}
			for _, ref := range got {
				if strings.TrimSpace(ref) == "" {
					t.Fatalf("ExtractTablesFor(%q, %q) returned an empty name in %q", sql, dialect, got)
				}
				if _, ok := parseName(ref, true); !ok && !strings.Contains(ref, "..") {
					t.Fatalf("ExtractTablesFor(%q, %q) returned %q, which does not parse as a name", sql, dialect, ref)
				}
			}
		}
	})
}
