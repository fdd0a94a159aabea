package dbt_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// withSchema replaces the schema URL in a fixture's metadata.
func withSchema(t testing.TB, data []byte, from, to string) []byte {
	t.Helper()
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("fixture has no %s", from)
	}
	return bytes.Replace(data, []byte(from), []byte(to), 1)
}

func TestReadManifestErrors(t *testing.T) {
	manifest := readFixture(t, "dbt-metabase_manifest-v12.json")
	runResults := readFixture(t, "artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json")
	const v12 = "https://schemas.getdbt.com/dbt/manifest/v12.json"
	gz := gzipBytes(t, manifest)

	tests := []struct {
		name  string
		input []byte
		// want lists substrings the message must contain, besides the file name.
		want []string
	}{
		{"empty file", nil, []string{"an empty file", "dbt manifest.json of schema v4 to v12"}},
		{"white space only", []byte(" \n\t"), []string{"an empty file"}},
		{"html page", []byte("<!DOCTYPE html><html>"), []string{"not JSON", `'<'`}},
		{"yaml", []byte("version: 2\nmodels: []\n"), []string{"not JSON"}},
		{"json array", []byte(`[{"metadata": {}}]`), []string{"JSON an array at the top level"}},
		{"json string", []byte(`"manifest"`), []string{"JSON a string at the top level"}},
		{"no metadata", []byte(`{"nodes": {}}`), []string{"without metadata.dbt_schema_version"}},
		{"semantic manifest", []byte(`{"semantic_models": [], "metrics": [], "project_configuration": {}}`), []string{"a dbt semantic_manifest.json"}},
		{"run results", runResults, []string{"a dbt run_results.json (schema v6, dbt 1.12.0)", "pass the manifest.json"}},
		{"catalog", []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json", "dbt_version": "1.8.6"}, "nodes": {}, "sources": {}, "errors": null}`),
			[]string{"a dbt catalog.json from dbt docs generate (schema v1, dbt 1.8.6)"}},
		{"sources freshness", []byte(`{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/sources/v3.json"}, "results": [], "elapsed_time": 1}`),
			[]string{"a dbt sources.json from dbt source freshness (schema v3)"}},
		{"manifest v2", readFixture(t, "dbt-metabase_manifest-v2.json"), []string{"schema v2, dbt 0.20.0", "older than supported", "v4 to v12", "regenerate it with dbt 1.0 or later"}},
		{"manifest v3", withSchema(t, manifest, v12, "https://schemas.getdbt.com/dbt/manifest/v3.json"), []string{"schema v3", "older than supported"}},
		{"manifest v13", withSchema(t, manifest, v12, "https://schemas.getdbt.com/dbt/manifest/v13.json"), []string{"schema v13", "newer than supported", "upgrade autoexposures"}},
		{"schema url garbage", withSchema(t, manifest, v12, "manifest twelve"), []string{`dbt_schema_version "manifest twelve" is not a dbt schema URL`}},
		{"truncated", manifest[:bytes.Index(manifest, []byte(`"model.sandbox.payments": {`))+200], []string{"truncated JSON", `in nodes["model.sandbox.payments"]`}},
		{"truncated in macros", manifest[:len(manifest)/2], []string{"truncated JSON", "in macros"}},
		{"truncated in metadata", manifest[:100], []string{"truncated JSON", "in metadata"}},
		{"truncated gzip", gz[:len(gz)/2], []string{"a truncated or corrupt gzip stream", "unexpected EOF"}},
		{"corrupt gzip header", append([]byte{0x1f, 0x8b, 0x00}, make([]byte, 20)...), []string{"a corrupt gzip file"}},
		{"gzip checksum", corruptTrailer(gz), []string{"a truncated or corrupt gzip stream", "checksum"}},
		{"trailing data", append(bytes.Clone(manifest), "{}"...), []string{"data after the end of the JSON object"}},
		{"missing colon", []byte(`{"metadata" {}}`), []string{"not valid JSON", `expected ':'`}},
		{"unbalanced skipped value", bytes.Replace(manifest, []byte(`"macros": {`), []byte(`"macros": [`), 1), []string{"not valid JSON", `unexpected '}'`}},
		{"deep nesting", deepNesting(manifest, 100000), []string{"nested deeper than 1000 levels"}},
		{"alias is a number", bytes.Replace(manifest, []byte(`"alias": "transactions"`), []byte(`"alias": 5`), 1),
			[]string{`whose nodes["model.sandbox.payments"].alias is a number`, "a string or null was expected"}},
		{"enabled is a string", bytes.Replace(manifest, []byte(`"enabled": true`), []byte(`"enabled": "yes"`), 1),
			[]string{".config.enabled is a string", "true, false or null was expected"}},
		{"depends_on nodes is a string", replaceInNode(t, manifest, "model.sandbox.payments", `"nodes": [`, `"nodes": "model.sandbox.stg_payments", "was": [`),
			[]string{`nodes["model.sandbox.payments"].depends_on.nodes is a string`, "a list of strings or null was expected"}},
		{"exposure meta is a list", replaceInNode(t, manifest, "exposure.sandbox.transactions", `"meta": {`, `"meta": [`),
			[]string{`exposures["exposure.sandbox.transactions"].meta is an array`}},
		{"generated_at invalid", bytes.Replace(manifest, []byte(`"generated_at": "2024-11-02T04:30:04.614989Z"`), []byte(`"generated_at": "yesterday"`), 1),
			[]string{`metadata.generated_at is "yesterday"`, "RFC 3339"}},
		{"kept string too long", bytes.Replace(manifest, []byte(`"alias": "transactions"`), []byte(`"alias": "`+strings.Repeat("x", 17<<20)+`"`), 1),
			[]string{"string longer than 16777216 bytes"}},
		{"control character", bytes.Replace(manifest, []byte(`"alias": "transactions"`), []byte("\"alias\": \"trans\x01actions\""), 1),
			[]string{"control character 0x01"}},
		{"bad escape", bytes.Replace(manifest, []byte(`"alias": "transactions"`), []byte(`"alias": "trans\qactions"`), 1),
			[]string{`invalid escape \'q'`}},
		{"bad literal", bytes.Replace(manifest, []byte(`"enabled": true`), []byte(`"enabled": tru`), 1),
			[]string{`invalid value "tru"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const name = "target/manifest.json"
			m, err := dbt.ReadManifest(bytes.NewReader(tt.input), name)
			if err == nil {
				t.Fatalf("ReadManifest returned a manifest with %d nodes, want an error", len(m.Nodes))
			}
			if !errors.Is(err, dbt.ErrInvalidArtifact) {
				t.Errorf("errors.Is(err, ErrInvalidArtifact) = false for %v", err)
			}
			var ae *dbt.ArtifactError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T is not an *ArtifactError: %v", err, err)
			}
			msg := err.Error()
			if len(msg) > 2000 {
				t.Errorf("message is %d bytes long, want it short: %.300s", len(msg), msg)
			}
			for _, want := range append([]string{name}, tt.want...) {
				if !strings.Contains(msg, want) {
					t.Errorf("message does not contain %q:\n%s", want, msg)
				}
			}
		})
	}
}

// corruptTrailer flips a bit of the CRC-32 at the end of a gzip stream.
func corruptTrailer(gz []byte) []byte {
	out := bytes.Clone(gz)
	out[len(out)-8] ^= 1
	return out
}

// deepNesting puts depth nested arrays into the manifest's docs section,
// which the reader skips.
func deepNesting(manifest []byte, depth int) []byte {
	nested := strings.Repeat("[", depth) + strings.Repeat("]", depth)
	return bytes.Replace(manifest, []byte(`"docs": {`), []byte(`"deep": `+nested+`, "docs": {`), 1)
}

// replaceInNode replaces old by new within the JSON text that follows the
// key of one node, so that a change lands in the node meant.
func replaceInNode(t *testing.T, manifest []byte, uniqueID, old, new string) []byte {
	t.Helper()
	at := bytes.Index(manifest, []byte(`"`+uniqueID+`": {`))
	if at < 0 {
		t.Fatalf("no node %s", uniqueID)
	}
	rest := manifest[at:]
	i := bytes.Index(rest, []byte(old))
	if i < 0 {
		t.Fatalf("node %s has no %s", uniqueID, old)
	}
	out := bytes.Clone(manifest[:at])
	out = append(out, rest[:i]...)
	out = append(out, new...)
	return append(out, rest[i+len(old):]...)
}

func TestReadManifestByteOrderMark(t *testing.T) {
	input := append([]byte("\xef\xbb\xbf"), readFixture(t, "dbt-metabase_manifest-v12.json")...)
	m, err := dbt.ReadManifest(bytes.NewReader(input), "bom.json")
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if len(m.Exposures) != 8 {
		t.Errorf("%d exposures, want 8", len(m.Exposures))
	}
}

func TestReadManifestSkipsHugeValues(t *testing.T) {
	manifest := readFixture(t, "dbt-metabase_manifest-v12.json")
	// 40 MB of SQL with escaped quotes and backslashes, which the reader
	// skips: no limit applies and the node is still read.
	sql := strings.Repeat(`select \"a\\\\\" from x; `, 40<<20/24)
	input := replaceInNode(t, manifest, "model.sandbox.payments", `"raw_code": "`, `"raw_code": "`+sql)
	m, err := dbt.ReadManifest(bytes.NewReader(input), "huge.json")
	if err != nil {
		t.Fatalf("ReadManifest: %v", err)
	}
	if n := findNode(m, "model.sandbox.payments", true); n == nil || n.Alias != "transactions" {
		t.Errorf("payments after huge raw_code = %+v, want alias transactions", n)
	}
	// Nesting within the limit in a skipped section is fine.
	if _, err := dbt.ReadManifest(bytes.NewReader(deepNesting(manifest, 900)), "nested.json"); err != nil {
		t.Errorf("ReadManifest with 900 nested arrays: %v", err)
	}
}

func TestReadManifestFileErrors(t *testing.T) {
	_, err := dbt.ReadManifestFile(filepath.Join(t.TempDir(), "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: got %v, want fs.ErrNotExist", err)
	}
	if errors.Is(err, dbt.ErrInvalidArtifact) {
		t.Errorf("missing file matches ErrInvalidArtifact, want only fs.ErrNotExist: %v", err)
	}

	// A gzip file is recognised by its content, whatever its name.
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, gzipBytes(t, readFixture(t, "dbt-metabase_manifest-v12.json")), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := dbt.ReadManifestFile(path)
	if err != nil {
		t.Fatalf("gzip file named .json: %v", err)
	}
	if len(m.Exposures) != 8 {
		t.Errorf("gzip file named .json: %d exposures, want 8", len(m.Exposures))
	}
}
