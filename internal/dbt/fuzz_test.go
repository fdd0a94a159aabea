package dbt

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// chunkReader returns at most n bytes per Read, to put read boundaries
// inside tokens.
type chunkReader struct {
	r io.Reader
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.r.Read(p)
}

var valueSeeds = []string{
	`{}`, `[]`, `""`, `0`, `-0`, `1.5e-3`, `true`, `false`, `null`,
	`{"a": [1, 2, {"b": null}], "c": "d"}`,
	`"escapes \" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude80 \ud800 \udc00x"`,
	`"trailing backslashes \\\\"`, `["\\", "\\\"", "a\\\\\"b"]`,
	`{"raw_code": "select \"x\" from y -- \\\\"}`,
	`[[[[[]]]]]`, `{"a":{"b":{"c":{}}}}`, `  {"k" : "v" }  `,
	`{"a" 1}`, `[1,]`, `{"a":1,}`, `"unterminated`, `[1 2]`, `01`, `1.`, `-`, `tru`, `nul`, `{"a":}`,
	"\"control \x01 char\"", `[}`, `{]`, `"\x"`, `"\u12"`, `9223372036854775808`, `1e400`,
}

// FuzzScannerValue checks the scanner against encoding/json: readValue
// accepts exactly the valid JSON and returns the same value, skipValue
// accepts all valid JSON, and read boundaries change nothing.
func FuzzScannerValue(f *testing.F) {
	for _, s := range valueSeeds {
		f.Add([]byte(s), uint8(1))
		f.Add([]byte(s), uint8(7))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		if len(data) > 4096 {
			return // keeps numbers under the scanner's 1024-byte limit
		}
		if bytes.Count(data, []byte("["))+bytes.Count(data, []byte("{")) >= maxDepth {
			return
		}
		n := int(chunk)%16 + 1
		valid := json.Valid(data)

		s := newScanner(&chunkReader{bytes.NewReader(data), n})
		got, err := s.readValue()
		ok := err == nil
		if ok {
			end, endErr := s.atEnd()
			ok = end && endErr == nil
		}
		rangeErr := err != nil && strings.Contains(err.Error(), "out of range")
		if ok != valid && !rangeErr {
			t.Fatalf("readValue ok=%v (err %v), json.Valid=%v for %q", ok, err, valid, data)
		}
		if ok && utf8.Valid(data) {
			dec := json.NewDecoder(bytes.NewReader(data))
			dec.UseNumber()
			var want any
			if err := dec.Decode(&want); err != nil {
				t.Fatalf("encoding/json: %v", err)
			}
			if diff := cmp.Diff(normalizeNumbers(want), got); diff != "" {
				t.Fatalf("readValue differs from encoding/json for %q (-want +got):\n%s", data, diff)
			}
		}

		skip := newScanner(&chunkReader{bytes.NewReader(data), n})
		err = skip.skipValue()
		if valid {
			if err != nil {
				t.Fatalf("skipValue rejected valid JSON %q: %v", data, err)
			}
			if end, _ := skip.atEnd(); !end {
				t.Fatalf("skipValue stopped at byte %d of valid JSON %q", skip.offset(), data)
			}
		}
	})
}

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

const fuzzManifest = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.8.6", "generated_at": "2024-11-02T04:30:04.614989Z", "project_name": "p", "adapter_type": "postgres"},
"nodes": {"model.p.a": {"resource_type": "model", "name": "a", "package_name": "p", "database": "db", "schema": "s", "alias": "A", "version": 2,
  "raw_code": "select \"x\" from {{ ref('b') }} -- \\", "columns": {"id": {"description": "the \u00e9 id"}},
  "config": {"enabled": true, "materialized": "table", "quoting": {"identifier": true}}, "depends_on": {"macros": [], "nodes": ["model.p.b"]}}},
"sources": {"source.p.s.t": {"resource_type": "source", "source_name": "s", "name": "t", "identifier": "T", "quoting": {"database": null}, "config": {"enabled": false}}},
"exposures": {"exposure.p.e": {"name": "e", "url": "https://x", "meta": {"k": [1, 2.5, "v", null]}, "tags": ["a"], "config": {"meta": {"k2": true}, "tags": ["b"]}, "depends_on": {"nodes": ["model.p.a"]}}},
"disabled": {"model.p.d": [{"resource_type": "model", "name": "d", "config": {"enabled": false}}]},
"parent_map": {"model.p.a": ["model.p.b"]}}`

// FuzzReadManifest checks that any input gives a manifest or an error
// matching ErrInvalidArtifact, never a panic, and the same outcome whatever
// the read boundaries.
func FuzzReadManifest(f *testing.F) {
	f.Add([]byte(fuzzManifest), uint8(3))
	f.Add([]byte(fuzzManifest[:len(fuzzManifest)/2]), uint8(1))
	f.Add([]byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v2.json"}}`), uint8(2))
	f.Add([]byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}}`), uint8(2))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0}, uint8(1))
	f.Add([]byte(``), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		whole, wholeErr := ReadManifest(bytes.NewReader(data), "fuzz.json")
		if wholeErr != nil && !errors.Is(wholeErr, ErrInvalidArtifact) {
			t.Fatalf("error does not match ErrInvalidArtifact: %v", wholeErr)
		}
		split, splitErr := ReadManifest(&chunkReader{bytes.NewReader(data), int(chunk)%16 + 1}, "fuzz.json")
		if (wholeErr == nil) != (splitErr == nil) || (wholeErr != nil && wholeErr.Error() != splitErr.Error()) {
			t.Fatalf("whole read: %v, split read: %v", wholeErr, splitErr)
		}
		if diff := cmp.Diff(whole, split); diff != "" {
			t.Fatalf("split read differs (-whole +split):\n%s", diff)
		}
	})
}

func TestFuzzManifestSeed(t *testing.T) {
	m, err := ReadManifest(strings.NewReader(fuzzManifest), "seed.json")
	if err != nil {
		t.Fatal(err)
	}
	identifierQuoted := true
	want := &Manifest{
		SchemaVersion: 12, DbtVersion: "1.8.6", ProjectName: "p", AdapterType: "postgres",
		GeneratedAt: m.GeneratedAt,
		Nodes: []Node{
			{UniqueID: "model.p.a", ResourceType: "model", Name: "a", PackageName: "p", Database: "db", Schema: "s",
				Alias: "A", Materialized: "table", Enabled: true, Version: "2",
				Quoting: Quoting{Identifier: &identifierQuoted}, DependsOn: []string{"model.p.b"}},
			{UniqueID: "model.p.d", ResourceType: "model", Name: "d"},
		},
		Sources: []Source{{UniqueID: "source.p.s.t", SourceName: "s", Name: "t", Identifier: "T"}},
		Exposures: []Exposure{{UniqueID: "exposure.p.e", Name: "e", URL: "https://x",
			Meta: map[string]any{"k": []any{int64(1), 2.5, "v", nil}, "k2": true},
			Tags: []string{"a", "b"}, DependsOn: []string{"model.p.a"}}},
	}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if m.GeneratedAt.IsZero() {
		t.Error("GeneratedAt is zero")
	}
}
