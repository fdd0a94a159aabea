package dbt_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

// The reference reader below decodes a manifest with encoding/json into
// plain structs. It is slow but obviously right, and the streaming reader
// must agree with it on every fixture.

type refQuoting struct {
	Database   *bool `json:"database"`
	Schema     *bool `json:"schema"`
	Identifier *bool `json:"identifier"`
}

type refNode struct {
	UniqueID     string      `json:"unique_id"`
	ResourceType string      `json:"resource_type"`
	Name         string      `json:"name"`
	PackageName  string      `json:"package_name"`
	Database     string      `json:"database"`
	Schema       string      `json:"schema"`
	Alias        string      `json:"alias"`
	Identifier   string      `json:"identifier"`
	SourceName   string      `json:"source_name"`
	RelationName string      `json:"relation_name"`
	Version      any         `json:"version"`
	Quoting      *refQuoting `json:"quoting"`
	Config       *struct {
		Materialized string         `json:"materialized"`
		Enabled      *bool          `json:"enabled"`
		Quoting      *refQuoting    `json:"quoting"`
		Meta         map[string]any `json:"meta"`
		Tags         []string       `json:"tags"`
	} `json:"config"`
	DependsOn *struct {
		Nodes []string `json:"nodes"`
	} `json:"depends_on"`
	Type string         `json:"type"`
	URL  string         `json:"url"`
	Meta map[string]any `json:"meta"`
	Tags []string       `json:"tags"`
}

type refManifest struct {
	Metadata struct {
		SchemaVersion string `json:"dbt_schema_version"`
		DbtVersion    string `json:"dbt_version"`
		InvocationID  string `json:"invocation_id"`
		AdapterType   string `json:"adapter_type"`
		ProjectName   string `json:"project_name"`
	} `json:"metadata"`
	Nodes     map[string]refNode   `json:"nodes"`
	Sources   map[string]refNode   `json:"sources"`
	Exposures map[string]refNode   `json:"exposures"`
	Disabled  map[string][]refNode `json:"disabled"`
}

func (q *refQuoting) toQuoting() dbt.Quoting {
	if q == nil {
		return dbt.Quoting{}
	}
	return dbt.Quoting{Database: q.Database, Schema: q.Schema, Identifier: q.Identifier}
}

func (n refNode) add(m *dbt.Manifest, id string, disabled bool) {
	enabled := !disabled
	materialized := ""
	quoting := n.Quoting.toQuoting()
	if n.Config != nil {
		if n.Config.Enabled != nil && !*n.Config.Enabled {
			enabled = false
		}
		materialized = n.Config.Materialized
		if n.Config.Quoting != nil {
			quoting = n.Config.Quoting.toQuoting()
		}
	}
	var depends []string
	if n.DependsOn != nil {
		depends = n.DependsOn.Nodes
	}
	switch n.ResourceType {
	case dbt.ResourceSource:
		m.Sources = append(m.Sources, dbt.Source{
			UniqueID: id, SourceName: n.SourceName, Name: n.Name, PackageName: n.PackageName,
			Database: n.Database, Schema: n.Schema, Identifier: n.Identifier, RelationName: n.RelationName,
			Enabled: enabled, Quoting: quoting,
		})
	case dbt.ResourceModel, dbt.ResourceSeed, dbt.ResourceSnapshot:
		m.Nodes = append(m.Nodes, dbt.Node{
			UniqueID: id, ResourceType: n.ResourceType, Name: n.Name, PackageName: n.PackageName,
			Database: n.Database, Schema: n.Schema, Alias: n.Alias, RelationName: n.RelationName,
			Materialized: materialized, Enabled: enabled, Version: versionText(n.Version),
			Quoting: quoting, DependsOn: depends,
		})
	}
}

func versionText(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return string(v)
	}
	return ""
}

// normalizeNumbers turns json.Number into int64 or float64, as the
// streaming reader returns them.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil {
			return i
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		for k, x := range v {
			v[k] = normalizeNumbers(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalizeNumbers(x)
		}
	}
	return v
}

func readReference(t *testing.T, data []byte) *dbt.Manifest {
	t.Helper()
	var ref refManifest
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&ref); err != nil {
		t.Fatalf("reference decode: %v", err)
	}
	m := &dbt.Manifest{
		DbtVersion:   ref.Metadata.DbtVersion,
		InvocationID: ref.Metadata.InvocationID,
		AdapterType:  ref.Metadata.AdapterType,
		ProjectName:  ref.Metadata.ProjectName,
	}
	for id, n := range ref.Nodes {
		n.add(m, id, false)
	}
	for id, n := range ref.Sources {
		n.add(m, id, false)
	}
	for id, list := range ref.Disabled {
		for _, n := range list {
			n.add(m, id, true)
		}
	}
	for id, e := range ref.Exposures {
		exp := dbt.Exposure{UniqueID: id, Name: e.Name, PackageName: e.PackageName, Type: e.Type, URL: e.URL, Tags: e.Tags}
		if e.Meta != nil {
			exp.Meta = normalizeNumbers(e.Meta).(map[string]any)
		}
		if e.Config != nil {
			for k, v := range e.Config.Meta {
				if exp.Meta == nil {
					exp.Meta = map[string]any{}
				}
				exp.Meta[k] = normalizeNumbers(v)
			}
			for _, tag := range e.Config.Tags {
				if !contains(exp.Tags, tag) {
					exp.Tags = append(exp.Tags, tag)
				}
			}
		}
		if e.DependsOn != nil {
			exp.DependsOn = e.DependsOn.Nodes
		}
		m.Exposures = append(m.Exposures, exp)
	}
	return m
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// compareToReference compares what lineage reads; metadata parsed into
// typed values is checked by the fixture table.
var compareToReference = cmp.Options{
	cmpopts.IgnoreFields(dbt.Manifest{}, "SchemaVersion", "GeneratedAt", "ProjectName"),
	cmpopts.EquateEmpty(),
	cmpopts.SortSlices(func(a, b dbt.Node) bool {
		if a.UniqueID != b.UniqueID {
			return a.UniqueID < b.UniqueID
		}
		return a.Enabled && !b.Enabled
	}),
	cmpopts.SortSlices(func(a, b dbt.Source) bool { return a.UniqueID < b.UniqueID }),
	cmpopts.SortSlices(func(a, b dbt.Exposure) bool { return a.UniqueID < b.UniqueID }),
}

var supportedFixtures = []string{
	"artifacts-parser_jaffle_shop_v12_dbt1.12.json",
	"artifacts-parser_jaffle_shop_v8_dbt1.4.1.json",
	"dbt-metabase_manifest-v12.json",
	"dpguthrie-exposures-crawler_manifest-v4_snowflake.json",
	"flipside-movement-models_manifest-v12_snowflake.json",
	"voi-exposures-crawler_manifest-v8_snowflake.json",
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadManifestMatchesReference(t *testing.T) {
	for _, file := range supportedFixtures {
		data, err := os.ReadFile(fixture(file))
		if err != nil {
			t.Fatal(err)
		}
		want := readReference(t, data)
		inputs := map[string][]byte{"plain": data, "gzip": gzipBytes(t, data)}
		for form, input := range inputs {
			// A one-byte reader puts a read boundary inside every token.
			readers := map[string]func() *bytes.Reader{"whole": func() *bytes.Reader { return bytes.NewReader(input) }}
			for rname, open := range readers {
				for _, oneByte := range []bool{false, true} {
					name := file + "/" + form + "/" + rname
					if oneByte {
						name += "/one-byte-reads"
					}
					t.Run(name, func(t *testing.T) {
						var r interface{ Read([]byte) (int, error) } = open()
						if oneByte {
							r = iotest.OneByteReader(r)
						}
						got, err := dbt.ReadManifest(r, file)
						if err != nil {
							t.Fatalf("ReadManifest: %v", err)
						}
						if diff := cmp.Diff(want, got, compareToReference); diff != "" {
							t.Errorf("streaming reader differs from encoding/json (-want +got):\n%s", diff)
						}
					})
				}
			}
		}
	}
}

// editedManifest returns the dbt-metabase v12 fixture after edit has
// changed its decoded form, re-encoded without indentation.
func editedManifest(t testing.TB, edit func(m map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture("dbt-metabase_manifest-v12.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func object(m map[string]any, path ...string) map[string]any {
	for _, p := range path {
		m = m[p].(map[string]any)
	}
	return m
}

func TestReadManifestEditedFields(t *testing.T) {
	data := editedManifest(t, func(m map[string]any) {
		payments := object(m, "nodes", "model.sandbox.payments")
		object(payments, "config")["quoting"] = map[string]any{"database": false, "identifier": true, "column": true}
		payments["version"] = json.Number("2")

		orders := object(m, "nodes", "model.sandbox.orders")
		object(orders, "config")["materialized"] = "ephemeral"
		orders["version"] = "v1"

		customers := object(m, "nodes", "model.sandbox.customers")
		object(customers, "config")["enabled"] = false
		customers["description"] = strings.Repeat(`"quoted" \ backslash `, 1000)

		source := object(m, "sources")
		for _, v := range source {
			v.(map[string]any)["quoting"] = map[string]any{"schema": true}
			v.(map[string]any)["identifier"] = "Ünïcode \"table\" \u2028 🚀"
		}
		exposure := object(m, "exposures", "exposure.sandbox.the_dashboard")
		exposure["meta"] = map[string]any{"tableau_luid": "abc", "n": json.Number("3"), "f": json.Number("1.5"), "nested": map[string]any{"list": []any{true, nil, "x"}}}
		exposure["config"] = map[string]any{"meta": map[string]any{"tableau_luid": "from-config"}, "tags": []any{"metabase", "automatic"}}
	})
	want := readReference(t, data)
	got, err := dbt.ReadManifest(iotest.HalfReader(bytes.NewReader(data)), "edited.json")
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if diff := cmp.Diff(want, got, compareToReference); diff != "" {
		t.Errorf("streaming reader differs from encoding/json (-want +got):\n%s", diff)
	}

	// The reference shares the rules under test, so check them directly too.
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"payments identifier quoted", *findNode(got, "model.sandbox.payments", true).Quoting.Identifier, true},
		{"payments database unquoted", *findNode(got, "model.sandbox.payments", true).Quoting.Database, false},
		{"payments schema quoting default", findNode(got, "model.sandbox.payments", true).Quoting.Schema, (*bool)(nil)},
		{"payments numeric version", findNode(got, "model.sandbox.payments", true).Version, "2"},
		{"orders string version", findNode(got, "model.sandbox.orders", true).Version, "v1"},
		{"orders ephemeral has no relation", findNode(got, "model.sandbox.orders", true).HasRelation(), false},
		{"customers disabled", findNode(got, "model.sandbox.customers", false) != nil, true},
		{"source identifier unescaped", got.Sources[0].Identifier, "Ünïcode \"table\" \u2028 🚀"},
		{"source schema quoted", *got.Sources[0].Quoting.Schema, true},
		{"exposure config meta wins", findExposure(got, "exposure.sandbox.the_dashboard").Meta["tableau_luid"], "from-config"},
		{"exposure integer meta", findExposure(got, "exposure.sandbox.the_dashboard").Meta["n"], int64(3)},
		{"exposure tags merged", findExposure(got, "exposure.sandbox.the_dashboard").Tags, []string{"metabase", "automatic"}},
	}
	for _, c := range checks {
		if diff := cmp.Diff(c.want, c.got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.name, diff)
		}
	}
}
