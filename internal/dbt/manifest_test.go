package dbt_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

// fixture returns the path of a file in testdata/manifests.
func fixture(name string) string {
	return filepath.Join("..", "..", "testdata", "manifests", name)
}

func boolPtr(b bool) *bool { return &b }

func findNode(m *dbt.Manifest, uniqueID string, enabled bool) *dbt.Node {
	for i := range m.Nodes {
		if m.Nodes[i].UniqueID == uniqueID && m.Nodes[i].Enabled == enabled {
			return &m.Nodes[i]
		}
	}
	return nil
}

func findSource(m *dbt.Manifest, uniqueID string) *dbt.Source {
	for i := range m.Sources {
		if m.Sources[i].UniqueID == uniqueID {
			return &m.Sources[i]
		}
	}
	return nil
}

func findExposure(m *dbt.Manifest, uniqueID string) *dbt.Exposure {
	for i := range m.Exposures {
		if m.Exposures[i].UniqueID == uniqueID {
			return &m.Exposures[i]
		}
	}
	return nil
}

// manifestSummary is what the fixture table checks for a whole manifest.
type manifestSummary struct {
	SchemaVersion int
	DbtVersion    string
	ProjectName   string
	AdapterType   string
	GeneratedAt   time.Time
	InvocationID  string
	Counts        map[string]int // by resource type; "disabled" counts disabled nodes and sources
	Sources       int
	Exposures     int
}

func summarize(m *dbt.Manifest) manifestSummary {
	s := manifestSummary{
		SchemaVersion: m.SchemaVersion,
		DbtVersion:    m.DbtVersion,
		ProjectName:   m.ProjectName,
		AdapterType:   m.AdapterType,
		GeneratedAt:   m.GeneratedAt,
		InvocationID:  m.InvocationID,
		Counts:        map[string]int{},
		Sources:       len(m.Sources),
		Exposures:     len(m.Exposures),
	}
	for _, n := range m.Nodes {
		s.Counts[n.ResourceType]++
		if !n.Enabled {
			s.Counts["disabled"]++
		}
	}
	return s
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestReadManifestFixtures(t *testing.T) {
	tests := []struct {
		file      string
		want      manifestSummary
		nodes     []dbt.Node
		sources   []dbt.Source
		exposures []dbt.Exposure
	}{
		{
			file: "dbt-metabase_manifest-v12.json",
			want: manifestSummary{
				SchemaVersion: 12, DbtVersion: "1.8.6", ProjectName: "sandbox", AdapterType: "postgres",
				GeneratedAt:  mustTime(t, "2024-11-02T04:30:04.614989Z"),
				InvocationID: "0e7bbbfc-b3b3-43c4-9348-e9159fe8ebec",
				Counts:       map[string]int{"model": 6, "seed": 3},
				Sources:      1, Exposures: 8,
			},
			nodes: []dbt.Node{{
				UniqueID: "model.sandbox.payments", ResourceType: "model", Name: "payments", PackageName: "sandbox",
				Database: "dbtmetabase", Schema: "public", Alias: "transactions",
				RelationName: `"dbtmetabase"."public"."transactions"`, Materialized: "table", Enabled: true,
				DependsOn: []string{"model.sandbox.stg_payments"},
			}},
			exposures: []dbt.Exposure{{
				UniqueID: "exposure.sandbox.transactions", Name: "transactions", PackageName: "sandbox", Type: "analysis",
				URL:       "http://localhost:3000/card/33",
				Meta:      map[string]any{"average_query_time": "0:00.115", "last_used_at": "2024-10-12T03:43:09.869884Z"},
				Tags:      []string{"metabase"},
				DependsOn: []string{"model.sandbox.payments"},
			}},
		},
		{
			file: "dpguthrie-exposures-crawler_manifest-v4_snowflake.json",
			want: manifestSummary{
				SchemaVersion: 4, DbtVersion: "1.0.8", ProjectName: "tpch", AdapterType: "snowflake",
				GeneratedAt:  mustTime(t, "2022-07-06T15:22:47.346292Z"),
				InvocationID: "fd31f446-2966-4b29-ac92-85d9c8e99626",
				Counts:       map[string]int{"model": 46, "seed": 1, "snapshot": 3},
				Sources:      15, Exposures: 1,
			},
			nodes: []dbt.Node{
				{
					UniqueID: "model.tpch.fct_orders", ResourceType: "model", Name: "fct_orders", PackageName: "tpch",
					Database: "DOUG_DEMO_V2", Schema: "ANALYTICS", Alias: "fct_orders",
					RelationName: "DOUG_DEMO_V2.ANALYTICS.fct_orders", Materialized: "table", Enabled: true,
					DependsOn: []string{"model.tpch.order_items"},
				},
				{
					UniqueID: "snapshot.tpch.tpch_customer_snapshot", ResourceType: "snapshot", Name: "tpch_customer_snapshot",
					PackageName: "tpch", Database: "doug_demo_v2", Schema: "snapshots", Alias: "tpch_customer_snapshot",
					RelationName: "doug_demo_v2.snapshots.tpch_customer_snapshot", Materialized: "snapshot", Enabled: true,
					DependsOn: []string{"source.tpch.tpch.customer"},
				},
			},
			sources: []dbt.Source{{
				UniqueID: "source.tpch.deutsche_boerse.trading_data", SourceName: "deutsche_boerse", Name: "trading_data",
				PackageName: "tpch", Database: "analytics", Schema: "boerse", Identifier: "trading_data",
				RelationName: "analytics.boerse.trading_data", Enabled: true,
			}},
			exposures: []dbt.Exposure{{
				UniqueID: "exposure.tpch.orders_dashboard", Name: "orders_dashboard", PackageName: "tpch", Type: "dashboard",
				URL: "https://example.com", Meta: map[string]any{}, DependsOn: []string{"model.tpch.fct_orders"},
			}},
		},
		{
			file: "flipside-movement-models_manifest-v12_snowflake.json",
			want: manifestSummary{
				SchemaVersion: 12, DbtVersion: "1.8.8", ProjectName: "movement_models", AdapterType: "snowflake",
				GeneratedAt:  mustTime(t, "2026-01-08T13:01:44.305713Z"),
				InvocationID: "06f6e735-fd68-4dbe-a2af-9f197723bd9d",
				Counts:       map[string]int{"model": 135, "seed": 2, "disabled": 3},
				Sources:      20,
			},
			nodes: []dbt.Node{
				{
					UniqueID: "model.movement_models.silver__complete_provider_asset_metadata", ResourceType: "model",
					Name: "silver__complete_provider_asset_metadata", PackageName: "movement_models",
					Database: "MOVEMENT", Schema: "silver", Alias: "complete_provider_asset_metadata",
					RelationName: "MOVEMENT.silver.complete_provider_asset_metadata", Materialized: "view", Enabled: true,
					DependsOn: []string{"model.movement_models.bronze__complete_provider_asset_metadata"},
				},
				{
					// From the manifest's disabled section.
					UniqueID: "model.movement_models.silver__transfers_native", ResourceType: "model",
					Name: "silver__transfers_native", PackageName: "movement_models",
					Database: "MOVEMENT", Schema: "silver", Alias: "transfers_native",
					RelationName: "MOVEMENT.silver.transfers_native", Materialized: "incremental", Enabled: false,
				},
			},
			sources: []dbt.Source{{
				UniqueID: "source.movement_models.crosschain.dim_date_hours", SourceName: "crosschain", Name: "dim_date_hours",
				PackageName: "movement_models", Database: "crosschain", Schema: "core", Identifier: "dim_date_hours",
				RelationName: "crosschain.core.dim_date_hours", Enabled: true,
			}},
		},
		{
			file: "artifacts-parser_jaffle_shop_v8_dbt1.4.1.json",
			want: manifestSummary{
				SchemaVersion: 8, DbtVersion: "1.4.1", ProjectName: "jaffle_shop", AdapterType: "bigquery",
				GeneratedAt:  mustTime(t, "2023-01-30T17:33:12.991190Z"),
				InvocationID: "10da8c3e-10e6-4ba3-9716-9ec21d07c2ab",
				Counts:       map[string]int{"model": 5, "seed": 3},
			},
			nodes: []dbt.Node{{
				UniqueID: "model.jaffle_shop.customers", ResourceType: "model", Name: "customers", PackageName: "jaffle_shop",
				Database: "dbt-dev-dan", Schema: "jaffle_shop", Alias: "customers",
				RelationName: "`dbt-dev-dan`.`jaffle_shop`.`customers`", Materialized: "table", Enabled: true,
				DependsOn: []string{"model.jaffle_shop.stg_customers", "model.jaffle_shop.stg_orders", "model.jaffle_shop.stg_payments"},
			}},
		},
		{
			file: "voi-exposures-crawler_manifest-v8_snowflake.json",
			want: manifestSummary{
				SchemaVersion: 8, DbtVersion: "1.4.8", ProjectName: "jaffle_shop", AdapterType: "snowflake",
				GeneratedAt:  mustTime(t, "2023-09-26T16:22:56.390684Z"),
				InvocationID: "13fefa72-6e1e-4460-b686-61f851c52f3d",
				Counts:       map[string]int{"model": 5, "seed": 3},
			},
		},
		{
			file: "artifacts-parser_jaffle_shop_v12_dbt1.12.json",
			want: manifestSummary{
				SchemaVersion: 12, DbtVersion: "1.12.0", ProjectName: "jaffle_shop", AdapterType: "duckdb",
				GeneratedAt:  mustTime(t, "2026-08-10T07:03:39.506774Z"),
				InvocationID: "24ad943b-c71e-497c-be0b-d037a3c525ad",
				Counts:       map[string]int{"model": 13, "seed": 6},
				Sources:      6,
			},
			nodes: []dbt.Node{{
				UniqueID: "seed.jaffle_shop.raw_customers", ResourceType: "seed", Name: "raw_customers", PackageName: "jaffle_shop",
				Database: "jaffle_shop", Schema: "raw", Alias: "raw_customers",
				RelationName: `"jaffle_shop"."raw"."raw_customers"`, Materialized: "seed", Enabled: true,
			}},
			sources: []dbt.Source{{
				UniqueID: "source.jaffle_shop.ecom.raw_customers", SourceName: "ecom", Name: "raw_customers",
				PackageName: "jaffle_shop", Database: "jaffle_shop", Schema: "raw", Identifier: "raw_customers",
				RelationName: `"jaffle_shop"."raw"."raw_customers"`, Enabled: true,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			m, err := dbt.ReadManifestFile(fixture(tt.file))
			if err != nil {
				t.Fatalf("ReadManifestFile: %v", err)
			}
			if diff := cmp.Diff(tt.want, summarize(m)); diff != "" {
				t.Errorf("summary (-want +got):\n%s", diff)
			}
			for _, want := range tt.nodes {
				got := findNode(m, want.UniqueID, want.Enabled)
				if got == nil {
					t.Errorf("node %s (enabled %v) not found", want.UniqueID, want.Enabled)
					continue
				}
				if diff := cmp.Diff(want, *got); diff != "" {
					t.Errorf("node %s (-want +got):\n%s", want.UniqueID, diff)
				}
			}
			for _, want := range tt.sources {
				got := findSource(m, want.UniqueID)
				if got == nil {
					t.Errorf("source %s not found", want.UniqueID)
					continue
				}
				if diff := cmp.Diff(want, *got); diff != "" {
					t.Errorf("source %s (-want +got):\n%s", want.UniqueID, diff)
				}
			}
			for _, want := range tt.exposures {
				got := findExposure(m, want.UniqueID)
				if got == nil {
					t.Errorf("exposure %s not found", want.UniqueID)
					continue
				}
				if diff := cmp.Diff(want, *got); diff != "" {
					t.Errorf("exposure %s (-want +got):\n%s", want.UniqueID, diff)
				}
			}
		})
	}
}

func TestNodeHasRelation(t *testing.T) {
	m, err := dbt.ReadManifestFile(fixture("flipside-movement-models_manifest-v12_snowflake.json"))
	if err != nil {
		t.Fatal(err)
	}
	disabled := findNode(m, "model.movement_models.silver__transfers_native", false)
	if disabled == nil || disabled.HasRelation() {
		t.Errorf("disabled model silver__transfers_native: HasRelation should be false, node %+v", disabled)
	}
	enabled := findNode(m, "model.movement_models.silver__complete_provider_asset_metadata", true)
	if enabled == nil || !enabled.HasRelation() {
		t.Errorf("view silver__complete_provider_asset_metadata: HasRelation should be true, node %+v", enabled)
	}
}

// Every file in testdata/manifests is either read or rejected for a stated
// reason, so that a new fixture cannot go untested.
func TestEveryFixtureClassified(t *testing.T) {
	rejected := map[string]string{
		"dbt-metabase_manifest-v2.json":                            "schema v2, dbt 0.20.0), older than supported",
		"artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json": "a dbt run_results.json (schema v6",
	}
	files, err := filepath.Glob(fixture("*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		name := filepath.Base(path)
		_, err := dbt.ReadManifestFile(path)
		reason, isRejected := rejected[name]
		switch {
		case isRejected && err == nil:
			t.Errorf("%s: read as a manifest, want an error containing %q", name, reason)
		case isRejected && !strings.Contains(err.Error(), reason):
			t.Errorf("%s: error %q does not contain %q", name, err, reason)
		case !isRejected && err != nil:
			t.Errorf("%s: %v", name, err)
		case !isRejected && !slices.Contains(supportedFixtures, name):
			t.Errorf("%s: read, but not in supportedFixtures, so not compared with encoding/json", name)
		}
	}
}

func TestProjectNameInferred(t *testing.T) {
	const body = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v8.json", "project_id": %q},
	"nodes": {
		"model.a.x": {"resource_type": "model", "package_name": "a"},
		"model.a.y": {"resource_type": "model", "package_name": "a"},
		"model.b.z": {"resource_type": "model", "package_name": "b"}}}`
	tests := []struct {
		name      string
		projectID string
		want      string
	}{
		// md5("b"): the package that hashes to project_id wins.
		{"project_id matches", "92eb5ffee6ae2fec3ad71c777531578f", "b"},
		{"no project_id", "", "a"},
		{"project_id matches nothing", "00000000000000000000000000000000", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := dbt.ReadManifest(strings.NewReader(fmt.Sprintf(body, tt.projectID)), "manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			if m.ProjectName != tt.want {
				t.Errorf("ProjectName = %q, want %q", m.ProjectName, tt.want)
			}
		})
	}
}

// TestReadManifestDisabledCopies checks that an enabled node keeps its
// place in Nodes when the disabled section repeats its unique ID (one copy
// per configuration that disables it), whichever section comes first, and
// that the copies are kept apart in DisabledVariants.
func TestReadManifestDisabledCopies(t *testing.T) {
	const (
		metadata = `"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.8.6", "project_name": "p", "adapter_type": "postgres"}`
		nodes    = `"nodes": {
			"model.p.stg": {"resource_type": "model", "name": "stg", "package_name": "p", "database": "db", "schema": "public", "alias": "stg", "config": {"materialized": "view"}, "depends_on": {"nodes": []}},
			"model.p.orders": {"resource_type": "model", "name": "orders", "package_name": "p", "database": "db", "schema": "public", "alias": "orders", "config": {"materialized": "table"}, "depends_on": {"nodes": ["model.p.stg"]}}}`
		sources = `"sources": {
			"source.p.raw.events": {"resource_type": "source", "name": "events", "source_name": "raw", "package_name": "p", "database": "db", "schema": "raw", "identifier": "events", "config": {"enabled": true}}}`
		disabled = `"disabled": {
			"model.p.orders": [
				{"resource_type": "model", "name": "orders", "package_name": "p", "database": "db", "schema": "archive", "alias": "orders", "config": {"enabled": false, "materialized": "table"}, "depends_on": {"nodes": []}},
				{"resource_type": "model", "name": "orders", "package_name": "p", "database": "db", "schema": "dev", "alias": "orders", "config": {"enabled": false, "materialized": "table"}, "depends_on": {"nodes": []}}],
			"model.p.old": [
				{"resource_type": "model", "name": "old", "package_name": "p", "database": "db", "schema": "public", "alias": "old", "config": {"enabled": false}},
				{"resource_type": "model", "name": "old", "package_name": "p", "database": "db", "schema": "dev", "alias": "old", "config": {"enabled": false}}],
			"source.p.raw.events": [
				{"resource_type": "source", "name": "events", "source_name": "raw", "package_name": "p", "database": "db", "schema": "raw_dev", "identifier": "events", "config": {"enabled": false}}]}`
	)
	orders := dbt.Node{UniqueID: "model.p.orders", ResourceType: "model", Name: "orders", PackageName: "p", Database: "db", Schema: "public", Alias: "orders",
		Materialized: "table", Enabled: true, DependsOn: []string{"model.p.stg"}}
	copyOf := func(id, name, schema string) dbt.Node {
		return dbt.Node{UniqueID: id, ResourceType: "model", Name: name, PackageName: "p", Database: "db", Schema: schema, Alias: name, Materialized: "table"}
	}
	oldPublic, oldDev := copyOf("model.p.old", "old", "public"), copyOf("model.p.old", "old", "dev")
	oldPublic.Materialized, oldDev.Materialized = "", ""
	eventsDev := dbt.Source{UniqueID: "source.p.raw.events", SourceName: "raw", Name: "events", PackageName: "p", Database: "db", Schema: "raw_dev", Identifier: "events"}

	tests := []struct {
		name     string
		sections []string
	}{
		{"disabled last", []string{metadata, nodes, sources, disabled}},
		{"disabled first", []string{metadata, disabled, sources, nodes}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := dbt.ReadManifest(strings.NewReader("{"+strings.Join(tt.sections, ",\n")+"}"), "manifest.json")
			if err != nil {
				t.Fatal(err)
			}
			ids := map[string]int{}
			for _, n := range m.Nodes {
				ids[n.UniqueID]++
			}
			if diff := cmp.Diff(map[string]int{"model.p.stg": 1, "model.p.orders": 1, "model.p.old": 1}, ids); diff != "" {
				t.Errorf("unique IDs in Nodes (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&orders, findNode(m, "model.p.orders", true)); diff != "" {
				t.Errorf("enabled orders (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(&oldPublic, findNode(m, "model.p.old", false)); diff != "" {
				t.Errorf("first disabled copy of old (-want +got):\n%s", diff)
			}
			wantVariants := []dbt.Node{copyOf("model.p.orders", "orders", "archive"), copyOf("model.p.orders", "orders", "dev"), oldDev}
			if diff := cmp.Diff(wantVariants, m.DisabledVariants); diff != "" {
				t.Errorf("DisabledVariants (-want +got):\n%s", diff)
			}
			if len(m.Sources) != 1 || !m.Sources[0].Enabled {
				t.Errorf("Sources = %+v, want the enabled source only", m.Sources)
			}
			if diff := cmp.Diff([]dbt.Source{eventsDev}, m.DisabledSourceVariants); diff != "" {
				t.Errorf("DisabledSourceVariants (-want +got):\n%s", diff)
			}
		})
	}
}
