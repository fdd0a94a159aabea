package exposures

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Compiled property file schemas, by file name under testdata/schemas.
var (
	schemasMu sync.Mutex
	schemas   = map[string]*jsonschema.Schema{}
)

// repoFile returns the path of a file under the repository's testdata.
func repoFile(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata"}, parts...)...)
}

// validateYAML checks an exposures file against dbt's property file schema.
func validateYAML(t *testing.T, data []byte) {
	t.Helper()
	if err := checkSchema(data); err != nil {
		t.Errorf("%v\n%s", err, data)
	}
}

// validateFusionYAML checks an exposures file written for dbt 1.10 or later
// against dbt Fusion's property file schema, which has no top-level meta or
// tags on exposures.
func validateFusionYAML(t *testing.T, data []byte) {
	t.Helper()
	if err := checkSchemaFile("dbt_yml_files-latest-fusion.json", data); err != nil {
		t.Errorf("%v\n%s", err, data)
	}
}

// checkSchema returns why data does not fit dbt_yml_files-latest.json, or
// nil.
func checkSchema(data []byte) error {
	return checkSchemaFile("dbt_yml_files-latest.json", data)
}

func checkSchemaFile(name string, data []byte) error {
	schemasMu.Lock()
	schema, ok := schemas[name]
	if !ok {
		c := jsonschema.NewCompiler()
		c.UseRegexpEngine(compileLookahead)
		var err error
		schema, err = c.Compile(repoFile("schemas", name))
		if err != nil {
			schemasMu.Unlock()
			return fmt.Errorf("compiling %s: %w", name, err)
		}
		schemas[name] = schema
	}
	schemasMu.Unlock()

	var doc any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("parsing generated YAML: %w", err)
	}
	// Round-trip through JSON so that the validator receives JSON types.
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("converting YAML to JSON: %w", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("reading JSON instance: %w", err)
	}
	if err := schema.Validate(inst); err != nil {
		return fmt.Errorf("YAML does not validate against %s: %w", name, err)
	}
	return nil
}

// checkGolden compares got with the golden file, or rewrites it with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, lineDiff(string(want), string(got)))
	}
}

// lineDiff shows two texts line by line where they differ.
func lineDiff(want, got string) string {
	return cmp.Diff(strings.Split(want, "\n"), strings.Split(got, "\n"))
}

func reportJSON(t *testing.T, r Report) []byte {
	t.Helper()
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// lookaheadRegexp is a pattern "(?!X)Y" that Go's regexp cannot compile:
// dbt's schema uses one for metric and semantic model names. Its leading
// negative lookahead is read as "X matches nowhere from the start", which
// is what it means there because Y is anchored with ^.
type lookaheadRegexp struct {
	source    string
	forbidden *regexp.Regexp
	rest      *regexp.Regexp
}

func (r lookaheadRegexp) MatchString(s string) bool {
	return !r.forbidden.MatchString(s) && r.rest.MatchString(s)
}

func (r lookaheadRegexp) String() string { return r.source }

func compileLookahead(pattern string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(pattern); err == nil {
		return re, nil
	}
	inner, rest, ok := strings.Cut(strings.TrimPrefix(pattern, "(?!"), ")")
	if !strings.HasPrefix(pattern, "(?!") || !ok {
		return nil, fmt.Errorf("unsupported pattern %q", pattern)
	}
	forbidden, err := regexp.Compile("^" + inner)
	if err != nil {
		return nil, err
	}
	restRe, err := regexp.Compile(rest)
	if err != nil {
		return nil, err
	}
	return lookaheadRegexp{source: pattern, forbidden: forbidden, rest: restRe}, nil
}
