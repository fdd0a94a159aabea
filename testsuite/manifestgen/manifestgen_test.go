package manifestgen_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/testsuite/manifestgen"
	"github.com/autoexposures/autoexposures/testsuite/sitegen"
)

func generate(t *testing.T, p manifestgen.Params) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := manifestgen.Write(&buf, p)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Errorf("Write returned %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func TestWriteIsDeterministic(t *testing.T) {
	p := manifestgen.Params{Seed: 7, Models: 300, Sources: 40}
	a := generate(t, p)
	b := generate(t, p)
	if !bytes.Equal(a, b) {
		t.Error("two manifests from the same Params differ")
	}
	p.Seed = 8
	if bytes.Equal(a, generate(t, p)) {
		t.Error("manifests from seeds 7 and 8 are identical")
	}
}

func TestWriteReadsBack(t *testing.T) {
	p := manifestgen.Params{Seed: 1, Models: 2500, Sources: 300, Schemas: 7}
	data := generate(t, p)
	if !json.Valid(data) {
		t.Fatal("generated manifest is not valid JSON")
	}
	m, err := dbt.ReadManifest(bytes.NewReader(data), "generated.json")
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}

	if len(m.Nodes) != p.Models || len(m.Sources) != p.Sources || len(m.Exposures) != 20 {
		t.Errorf("read %d nodes, %d sources, %d exposures; want %d, %d, 20", len(m.Nodes), len(m.Sources), len(m.Exposures), p.Models, p.Sources)
	}
	if m.ProjectName != "warehouse" || m.AdapterType != "snowflake" || m.SchemaVersion != 12 {
		t.Errorf("metadata: project %q adapter %q schema v%d", m.ProjectName, m.AdapterType, m.SchemaVersion)
	}
	for _, n := range m.Nodes {
		var num int
		if _, err := fmt.Sscanf(n.Name, "model_%d", &num); err != nil {
			t.Fatalf("node name %q: %v", n.Name, err)
		}
		db, schema, table := manifestgen.ModelRelation(p.Schemas, num)
		materialized, enabled := manifestgen.ModelState(num)
		got := []any{n.Database, n.Schema, n.Alias, n.Materialized, n.Enabled}
		want := []any{db, schema, table, materialized, enabled}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("node %s (-want +got):\n%s", n.UniqueID, diff)
		}
	}
	for i, s := range m.Sources {
		db, schema, table := manifestgen.SourceRelation(i)
		if s.Database != db || s.Schema != schema || s.Identifier != table || s.SourceName != manifestgen.SourceName(i) {
			t.Errorf("source %d = %+v, want %s.%s.%s in %s", i, s, db, schema, table, manifestgen.SourceName(i))
		}
	}
}

// The relations must be the ones testsuite/sitegen puts in Tableau sites,
// so that a generated site matches a generated manifest.
func TestRelationsMatchSitegen(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 42, 59_999} {
		for _, schemas := range []int{1, 10, 13} {
			db, schema, table := manifestgen.ModelRelation(schemas, n)
			sdb, sschema, stable := sitegen.ModelRelation(schemas, n)
			if diff := cmp.Diff([]string{sdb, sschema, stable}, []string{db, schema, table}); diff != "" {
				t.Errorf("model %d with %d schemas (-sitegen +manifestgen):\n%s", n, schemas, diff)
			}
		}
		db, schema, table := manifestgen.SourceRelation(n)
		sdb, sschema, stable := sitegen.SourceRelation(n)
		if diff := cmp.Diff([]string{sdb, sschema, stable}, []string{db, schema, table}); diff != "" {
			t.Errorf("source %d (-sitegen +manifestgen):\n%s", n, diff)
		}
	}
}
