package lineage

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

func readManifest(t *testing.T, name string) *dbt.Manifest {
	t.Helper()
	m, err := dbt.ReadManifestFile(filepath.Join("..", "..", "testdata", "manifests", name))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func readSnapshot(t *testing.T, name string) *tableau.Snapshot {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var snap tableau.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatalf("decoding %s: %v", name, err)
	}
	return &snap
}

// in builds the TableRef of a table of an embedded data source.
func in(datasource, id, tableName string) TableRef {
	return TableRef{Datasource: datasource, DatasourceID: id, Table: tableName}
}

func sqlIn(datasource, id, tableName string) TableRef {
	r := in(datasource, id, tableName)
	r.FromCustomSQL = true
	return r
}

const (
	jaffleOrdersLUID = "b0000000-0000-4000-8000-000000000001"
	jaffleRawLUID    = "b0000000-0000-4000-8000-000000000002"
	jafflePublished  = "d0000000-0000-4000-8000-000000000001"
)

func TestGoldenManifests(t *testing.T) {
	jaffleRaw := TableRef{Datasource: "Jaffle raw", DatasourceID: jafflePublished, Published: true}
	jaffleRawOrders, jaffleRawPayments := jaffleRaw, jaffleRaw
	jaffleRawOrders.Table = "jaffle_shop.raw.raw_orders"
	jaffleRawPayments.Table = "jaffle_shop.raw.raw_payments"

	voiSeeds := TableRef{Datasource: "Seeds", DatasourceID: "a1000000-0000-4000-8000-000000000001", Published: true}
	voiRawOrders, voiRawPayments := voiSeeds, voiSeeds
	voiRawOrders.Table = "sample_db.public.raw_orders"
	voiRawPayments.Table = "SAMPLE_DB.PUBLIC.RAW_PAYMENTS"

	tests := []struct {
		manifest string
		snapshot string
		want     *Result
	}{
		{
			// duckdb compares every identifier without case. A seed and a
			// source on the same table are both reported.
			manifest: "artifacts-parser_jaffle_shop_v12_dbt1.12.json",
			snapshot: "jaffle_shop.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{
					{
						WorkbookLUID: jaffleOrdersLUID,
						DependsOn: []string{
							"model.jaffle_shop.customers", "model.jaffle_shop.order_items", "model.jaffle_shop.orders",
							"seed.jaffle_shop.raw_customers", "source.jaffle_shop.ecom.raw_customers",
						},
						Matches: []Match{
							{TableRef: in("Orders", "emb-orders", "JAFFLE_SHOP.MAIN.CUSTOMERS"), UniqueIDs: []string{"model.jaffle_shop.customers"}},
							{TableRef: sqlIn("Orders", "emb-orders", `jaffle_shop."main"."Order_Items"`), UniqueIDs: []string{"model.jaffle_shop.order_items"}},
							{TableRef: in("Orders", "emb-orders", "jaffle_shop.main.orders"), UniqueIDs: []string{"model.jaffle_shop.orders"}},
							{TableRef: sqlIn("Orders", "emb-orders", "jaffle_shop.main.orders"), UniqueIDs: []string{"model.jaffle_shop.orders"}},
							{
								TableRef:   in("Orders", "emb-orders", "raw.raw_customers"),
								UniqueIDs:  []string{"seed.jaffle_shop.raw_customers", "source.jaffle_shop.ecom.raw_customers"},
								SchemaOnly: true,
							},
						},
						Extracts: []ExtractRef{{LUID: jaffleOrdersLUID, Name: "Orders", DatasourceID: "emb-orders"}},
					},
					{
						WorkbookLUID: jaffleRawLUID,
						DependsOn:    []string{"model.jaffle_shop.stg_orders", "seed.jaffle_shop.raw_orders", "source.jaffle_shop.ecom.raw_orders"},
						Matches: []Match{
							{TableRef: jaffleRawOrders, UniqueIDs: []string{"seed.jaffle_shop.raw_orders", "source.jaffle_shop.ecom.raw_orders"}},
							{TableRef: in("Staging (live)", "emb-live", "jaffle_shop.main.stg_orders"), UniqueIDs: []string{"model.jaffle_shop.stg_orders"}},
						},
						Extracts: []ExtractRef{{LUID: jafflePublished, Published: true, Name: "Jaffle raw"}},
					},
				},
				Unmatched: []UnmatchedTable{
					{WorkbookLUID: jaffleRawLUID, TableRef: jaffleRawPayments, Reason: ReasonNoRelation},
					{WorkbookLUID: jaffleRawLUID, TableRef: in("Staging (live)", "emb-live", "locations"), Reason: ReasonNoRelation, Candidates: []string{"model.jaffle_shop.locations"}, Hint: noSchemaCandidatesHint},
				},
			},
		},
		{
			// Postgres: the model payments is the table transactions.
			// Unquoted SQL folds to lower case, and quoted SQL is exact.
			manifest: "dbt-metabase_manifest-v12.json",
			snapshot: "dbt_metabase.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{{
					WorkbookLUID: "c0000000-0000-4000-8000-000000000001",
					DependsOn:    []string{"model.sandbox.orders", "model.sandbox.payments", "source.sandbox.inventory.skus"},
					Matches: []Match{
						{TableRef: sqlIn("Payments (Postgres)", "pg-1", "dbtmetabase.Public.Orders"), UniqueIDs: []string{"model.sandbox.orders"}},
						{TableRef: in("Payments (Postgres)", "pg-1", "dbtmetabase.inventory.skus"), UniqueIDs: []string{"source.sandbox.inventory.skus"}},
						{TableRef: in("Payments (Postgres)", "pg-1", "dbtmetabase.public.transactions"), UniqueIDs: []string{"model.sandbox.payments"}},
					},
				}},
				Unmatched: []UnmatchedTable{
					{
						WorkbookLUID: "c0000000-0000-4000-8000-000000000001",
						TableRef:     sqlIn("Payments (Postgres)", "pg-1", `dbtmetabase.public."Customers"`),
						Reason:       ReasonNoRelation,
					},
					{
						WorkbookLUID: "c0000000-0000-4000-8000-000000000001",
						TableRef:     in("Payments (Postgres)", "pg-1", "dbtmetabase.public.payments"),
						Reason:       ReasonNoRelation,
					},
					{
						WorkbookLUID: "c0000000-0000-4000-8000-000000000001",
						TableRef:     sqlIn("Payments (Postgres)", "pg-1", "select * from public.customers where last_name = 'O''Brien"),
						Reason:       ReasonUnparsed,
					},
				},
			},
		},
		{
			// Snowflake: upper-case catalog names match the unquoted
			// lower-case aliases, and a snapshot in a lower-case database
			// folds to the same name. Tableau's parsed custom SQL takes
			// the connection's database.
			manifest: "dpguthrie-exposures-crawler_manifest-v4_snowflake.json",
			snapshot: "dpguthrie.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{{
					WorkbookLUID: "e0000000-0000-4000-8000-000000000001",
					DependsOn: []string{
						"model.dbt_artifacts.dim_dbt__models", "model.tpch.dim_customers", "model.tpch.dim_suppliers",
						"model.tpch.fct_orders", "model.tpch.order_items", "seed.tpch.snowflake_contract_rates",
						"snapshot.tpch.tpch_customer_snapshot", "source.tpch.tpch.orders",
					},
					Matches: []Match{
						{TableRef: in("TPCH", "sf-1", "ANALYTICS.ORDER_ITEMS"), UniqueIDs: []string{"model.tpch.order_items"}, SchemaOnly: true},
						{TableRef: sqlIn("TPCH", "sf-1", "DOUG_DEMO_V2.ANALYTICS.DIM_CUSTOMERS"), UniqueIDs: []string{"model.tpch.dim_customers"}},
						{TableRef: in("TPCH", "sf-1", "DOUG_DEMO_V2.ANALYTICS.DIM_DBT__MODELS"), UniqueIDs: []string{"model.dbt_artifacts.dim_dbt__models"}},
						{TableRef: sqlIn("TPCH", "sf-1", "DOUG_DEMO_V2.ANALYTICS.Dim_Suppliers"), UniqueIDs: []string{"model.tpch.dim_suppliers"}},
						{TableRef: in("TPCH", "sf-1", "DOUG_DEMO_V2.ANALYTICS.FCT_ORDERS"), UniqueIDs: []string{"model.tpch.fct_orders"}},
						{TableRef: in("TPCH", "sf-1", "DOUG_DEMO_V2.ANALYTICS.SNOWFLAKE_CONTRACT_RATES"), UniqueIDs: []string{"seed.tpch.snowflake_contract_rates"}},
						{TableRef: in("TPCH", "sf-1", "DOUG_DEMO_V2.SNAPSHOTS.TPCH_CUSTOMER_SNAPSHOT"), UniqueIDs: []string{"snapshot.tpch.tpch_customer_snapshot"}},
						{TableRef: in("TPCH", "sf-1", "TPCH.ORDERS"), UniqueIDs: []string{"source.tpch.tpch.orders"}, SchemaOnly: true},
					},
				}},
				Unmatched: []UnmatchedTable{{
					WorkbookLUID: "e0000000-0000-4000-8000-000000000001",
					TableRef:     sqlIn("TPCH", "sf-1", `DOUG_DEMO_V2.analytics."dim_parts"`),
					Reason:       ReasonNoRelation,
				}},
			},
		},
		{
			// Flipside: 100 aliased models, sources with the same schema and
			// table name in other databases, disabled and ephemeral models.
			manifest: "flipside-movement-models_manifest-v12_snowflake.json",
			snapshot: "flipside.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{{
					WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
					DependsOn: []string{
						"model.movement_models.core__dim_labels", "model.movement_models.core__fact_transfers",
						"model.movement_models.silver__complete_token_prices",
						"source.movement_models.crosschain.dim_labels", "source.movement_models.crosschain_silver.complete_token_prices",
					},
					Matches: []Match{
						{TableRef: in("Labels", "mv-2", "CROSSCHAIN.CORE.DIM_LABELS"), UniqueIDs: []string{"source.movement_models.crosschain.dim_labels"}},
						{TableRef: in("Labels", "mv-2", "MOVEMENT.CORE.DIM_LABELS"), UniqueIDs: []string{"model.movement_models.core__dim_labels"}},
						{TableRef: in("Labels", "mv-2", "MOVEMENT.CORE.FACT_TRANSFERS"), UniqueIDs: []string{"model.movement_models.core__fact_transfers"}},
						{TableRef: in("Prices", "mv-1", "CROSSCHAIN.SILVER.COMPLETE_TOKEN_PRICES"), UniqueIDs: []string{"source.movement_models.crosschain_silver.complete_token_prices"}},
						{TableRef: in("Prices", "mv-1", "MOVEMENT.SILVER.COMPLETE_TOKEN_PRICES"), UniqueIDs: []string{"model.movement_models.silver__complete_token_prices"}},
					},
				}},
				Unmatched: []UnmatchedTable{
					{
						WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
						TableRef:     in("Labels", "mv-2", "CORE.DIM_LABELS"),
						Reason:       ReasonAmbiguous,
						Candidates:   []string{"model.movement_models.core__dim_labels", "source.movement_models.crosschain.dim_labels"},
					},
					{
						WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
						TableRef:     in("Labels", "mv-2", "MOVEMENT.CORE.EZ_TRANSFERS"),
						Reason:       ReasonDisabled,
						Candidates:   []string{"model.movement_models.core__ez_transfers"},
					},
					{
						WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
						TableRef:     in("Labels", "mv-2", "MOVEMENT.GNOSIS.MAINNET"),
						Reason:       ReasonEphemeral,
						Candidates:   []string{"model.livequery_models.gnosis__mainnet"},
					},
					{
						WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
						TableRef:     in("Prices", "mv-1", "MOVEMENT.SILVER.SILVER__LABELS"),
						Reason:       ReasonNoRelation,
					},
					{
						WorkbookLUID: "f0000000-0000-4000-8000-000000000001",
						TableRef:     in("Prices", "mv-1", "SILVER.COMPLETE_TOKEN_PRICES"),
						Reason:       ReasonAmbiguous,
						Candidates:   []string{"model.movement_models.silver__complete_token_prices", "source.movement_models.crosschain_silver.complete_token_prices"},
					},
				},
			},
		},
		{
			// Snowflake in a lower-case database, with catalog names in
			// either case and custom SQL that Tableau did not parse.
			manifest: "voi-exposures-crawler_manifest-v8_snowflake.json",
			snapshot: "voi.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{{
					WorkbookLUID: "a0000000-0000-4000-8000-000000000001",
					DependsOn:    []string{"model.jaffle_shop.customers", "model.jaffle_shop.stg_payments", "seed.jaffle_shop.raw_orders", "seed.jaffle_shop.raw_payments"},
					Matches: []Match{
						{TableRef: in("Customers", "voi-1", "SAMPLE_DB.PUBLIC.CUSTOMERS"), UniqueIDs: []string{"model.jaffle_shop.customers"}},
						{TableRef: sqlIn("Customers", "voi-1", "SAMPLE_DB.public.stg_payments"), UniqueIDs: []string{"model.jaffle_shop.stg_payments"}},
						{TableRef: voiRawPayments, UniqueIDs: []string{"seed.jaffle_shop.raw_payments"}},
						{TableRef: voiRawOrders, UniqueIDs: []string{"seed.jaffle_shop.raw_orders"}},
					},
					Extracts: []ExtractRef{{LUID: "a0000000-0000-4000-8000-000000000001", Name: "Customers", DatasourceID: "voi-1"}},
				}},
			},
		},
		{
			// BigQuery: names compare exactly, a backquoted path is split,
			// and a hyphenated project reads without quotes.
			manifest: "artifacts-parser_jaffle_shop_v8_dbt1.4.1.json",
			snapshot: "bigquery.snapshot.json",
			want: &Result{
				Workbooks: []WorkbookLineage{{
					WorkbookLUID: "9b000000-0000-4000-8000-000000000001",
					DependsOn:    []string{"model.jaffle_shop.customers", "model.jaffle_shop.orders", "model.jaffle_shop.stg_payments", "seed.jaffle_shop.raw_orders"},
					Matches: []Match{
						{TableRef: sqlIn("BigQuery", "bq-1", `"dbt-dev-dan"."jaffle_shop"."orders"`), UniqueIDs: []string{"model.jaffle_shop.orders"}},
						{TableRef: in("BigQuery", "bq-1", "dbt-dev-dan.jaffle_shop.customers"), UniqueIDs: []string{"model.jaffle_shop.customers"}},
						{TableRef: sqlIn("BigQuery", "bq-1", "dbt-dev-dan.jaffle_shop.raw_orders"), UniqueIDs: []string{"seed.jaffle_shop.raw_orders"}},
						{TableRef: sqlIn("BigQuery", "bq-1", "dbt-dev-dan.jaffle_shop.stg_payments"), UniqueIDs: []string{"model.jaffle_shop.stg_payments"}},
					},
				}},
				Unmatched: []UnmatchedTable{{
					WorkbookLUID: "9b000000-0000-4000-8000-000000000001",
					TableRef:     in("BigQuery", "bq-1", "dbt-dev-dan.jaffle_shop.Customers"),
					Reason:       ReasonNoRelation,
				}},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.snapshot, func(t *testing.T) {
			got := Compute(readManifest(t, tc.manifest), readSnapshot(t, tc.snapshot), Options{})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Compute (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGoldenStaleJaffleShop runs staleness on the jaffle_shop manifest and
// the run results of the same dbt invocation, read as a dbt build (the
// derived fixture in testdata) and as what it was, dbt docs generate.
func TestGoldenStaleJaffleShop(t *testing.T) {
	m := readManifest(t, "artifacts-parser_jaffle_shop_v12_dbt1.12.json")
	snap := readSnapshot(t, "jaffle_shop.snapshot.json")
	docs, err := dbt.ReadRunResultsFile(filepath.Join("..", "..", "testdata", "manifests", "artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"))
	if err != nil {
		t.Fatal(err)
	}
	wantDocs := StaleReport{Command: "generate", ResultsIgnored: true,
		CommandNote: "run results ignored: they were written by dbt docs generate, which rebuilds no table; only dbt run, build, seed, snapshot and retry make extracts stale"}
	if diff := cmp.Diff(wantDocs, FindStale(m, snap, Compute(m, snap, Options{}), docs)); diff != "" {
		t.Errorf("FindStale on dbt docs generate results (-want +got):\n%s", diff)
	}

	rr, err := dbt.ReadRunResultsFile(filepath.Join("testdata", "jaffle_shop_run_results_build.json"))
	if err != nil {
		t.Fatal(err)
	}

	embeddedRefresh := time.Date(2026, 8, 10, 7, 3, 39, 800000000, time.UTC)
	publishedRefresh := time.Date(2026, 8, 9, 12, 0, 0, 0, time.UTC)
	want := StaleReport{Command: "build", Extracts: []StaleExtract{
		{
			// Only the models that completed after 07:03:39.8 count,
			// because the staging models upstream finished before it.
			ExtractRef:  ExtractRef{LUID: jaffleOrdersLUID, Name: "Orders", DatasourceID: "emb-orders"},
			LastRefresh: &embeddedRefresh,
			Exposures:   []string{jaffleOrdersLUID},
			Models:      []string{"model.jaffle_shop.customers", "model.jaffle_shop.order_items", "model.jaffle_shop.orders"},
			RebuiltAt:   time.Date(2026, 8, 10, 7, 3, 39, 848504000, time.UTC),
		},
		{
			ExtractRef:  ExtractRef{LUID: jafflePublished, Published: true, Name: "Jaffle raw"},
			LastRefresh: &publishedRefresh,
			Exposures:   []string{jaffleRawLUID},
			Models:      []string{"seed.jaffle_shop.raw_orders"},
			RebuiltAt:   time.Date(2026, 8, 10, 7, 3, 39, 728132000, time.UTC),
		},
	}}
	if diff := cmp.Diff(want, FindStale(m, snap, Compute(m, snap, Options{}), rr)); diff != "" {
		t.Errorf("FindStale (-want +got):\n%s", diff)
	}
}

// TestGoldenDisabledCopy reads the dbt-metabase manifest with a disabled
// copy of the orders model under the same unique ID (as a per-target
// variant in the disabled section, with another schema and no
// dependencies). The enabled model must still match and keep its place in
// the dependency graph, and the copy only explains why its own relation
// matches nothing.
func TestGoldenDisabledCopy(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "manifests", "dbt-metabase_manifest-v12.json"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	orders := raw["nodes"].(map[string]any)["model.sandbox.orders"].(map[string]any)
	variant := map[string]any{}
	for k, v := range orders {
		variant[k] = v
	}
	variant["schema"] = "archive"
	variant["relation_name"] = `"dbtmetabase"."archive"."orders"`
	variant["config"] = map[string]any{"enabled": false, "materialized": "table"}
	variant["depends_on"] = map[string]any{"macros": []any{}, "nodes": []any{}}
	raw["disabled"] = map[string]any{"model.sandbox.orders": []any{variant}}
	edited, err := json.Marshal(raw)
	if err != nil {
		t.Fatal(err)
	}
	m, err := dbt.ReadManifest(bytes.NewReader(edited), "dbt-metabase with a disabled copy")
	if err != nil {
		t.Fatal(err)
	}

	refreshed := time.Date(2026, 8, 10, 7, 0, 0, 0, time.UTC)
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{{LUID: "w", EmbeddedDatasources: []tableau.EmbeddedDatasource{{
		ID: "e1", Name: "Orders", HasExtracts: true, ExtractLastRefreshTime: &refreshed,
		UpstreamTables: []tableau.Table{table("dbtmetabase", "public", "orders"), table("dbtmetabase", "archive", "orders")},
	}}}}}
	res := Compute(m, snap, Options{})
	wantUnmatched := []UnmatchedTable{{
		WorkbookLUID: "w", TableRef: TableRef{Datasource: "Orders", DatasourceID: "e1", Table: "dbtmetabase.archive.orders"},
		Reason: ReasonDisabled, Candidates: []string{"model.sandbox.orders"},
	}}
	if diff := cmp.Diff(wantUnmatched, res.Unmatched); diff != "" {
		t.Errorf("Unmatched (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"model.sandbox.orders"}, res.Workbooks[0].DependsOn); diff != "" {
		t.Errorf("DependsOn (-want +got):\n%s", diff)
	}

	rr := &dbt.RunResults{Command: "build", Results: []dbt.RunResult{
		{UniqueID: "model.sandbox.stg_orders", Status: "success", CompletedAt: refreshed.Add(30 * time.Minute)},
		{UniqueID: "model.sandbox.orders", Status: "success", CompletedAt: refreshed.Add(31 * time.Minute)},
	}}
	want := StaleReport{Command: "build", Extracts: []StaleExtract{{
		ExtractRef: ExtractRef{LUID: "w", Name: "Orders", DatasourceID: "e1"}, LastRefresh: &refreshed, Exposures: []string{"w"},
		Models: []string{"model.sandbox.orders", "model.sandbox.stg_orders"}, RebuiltAt: refreshed.Add(31 * time.Minute),
	}}}
	if diff := cmp.Diff(want, FindStale(m, snap, res, rr)); diff != "" {
		t.Errorf("FindStale (-want +got):\n%s", diff)
	}
}
