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

// FuzzExtractTables checks that any input gives a sorted list without
// duplicates whose every entry reads back as a dotted name, and that
// matching the query as custom SQL reports every table it found.
func FuzzExtractTables(f *testing.F) {
	for _, tc := range extractTablesCases {
		f.Add(tc.sql)
	}
	m := &dbt.Manifest{AdapterType: "bigquery", Nodes: []dbt.Node{node("model.p.t", "db", "s", "t")}}
	ix := NewIndex(m, Options{})
	f.Fuzz(func(t *testing.T, sql string) {
		snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{
			{ID: "d", CustomSQL: []tableau.CustomSQL{{Database: "db", Query: sql}}},
		}}}}
		res := ix.Compute(snap)
		if reported := len(res.Workbooks[0].Matches) + len(res.Unmatched); reported == 0 {
			t.Fatalf("Compute reported nothing for custom SQL %q", sql)
		}

		got := ExtractTables(sql)
		if !slices.IsSorted(got) {
			t.Fatalf("ExtractTables(%q) = %q, not sorted", sql, got)
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("ExtractTables(%q) = %q, has duplicates", sql, got)
		}
		for _, ref := range got {
			if strings.TrimSpace(ref) == "" {
				t.Fatalf("ExtractTables(%q) returned an empty name in %q", sql, got)
			}
			if _, ok := parseName(ref, true); !ok && !strings.Contains(ref, "..") {
				t.Fatalf("ExtractTables(%q) returned %q, which does not parse as a name", sql, ref)
			}
		}
	})
}
