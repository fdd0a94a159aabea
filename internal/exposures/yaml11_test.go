package exposures

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// yaml11Resolvers are the implicit resolvers of PyYAML's SafeLoader
// (yaml/resolver.py in PyYAML 6.0.3, the float one slightly wider), which
// dbt uses to read property files, plus the
// y/n booleans of the YAML 1.1 type repository and the 0o octal of YAML
// 1.2. A plain scalar that matches one of them is read as that type, not
// as a string.
var yaml11Resolvers = []struct {
	tag string
	re  *regexp.Regexp
}{
	{"bool", regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|y|Y|n|N)$`)},
	{"float", regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)},
	{"int", regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?0o[0-7_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)},
	{"merge", regexp.MustCompile(`^<<$`)},
	{"null", regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)},
	{"timestamp", regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)},
	{"value", regexp.MustCompile(`^=$`)},
	// YAML 1.2 core floats with an exponent and no dot, which
	// go.yaml.in/yaml/v3 reads as numbers.
	{"float", regexp.MustCompile(`^[-+]?[0-9]+[eE][-+]?[0-9]+$`)},
}

// yaml11Type returns the type a YAML 1.1 reader gives a plain scalar, "str"
// when no resolver matches.
func yaml11Type(s string) string {
	for _, r := range yaml11Resolvers {
		if r.re.MatchString(s) {
			return r.tag
		}
	}
	return "str"
}

// yamlBreaks are the characters that YAML 1.1 readers treat as line breaks
// besides \n: a raw one in the file changes what a scalar holds.
const yamlBreaks = "\r\u0085\u2028\u2029"

// checkPortableYAML checks that every string of an exposures file reads
// back as the same string in YAML 1.1. No plain string scalar may match a
// YAML 1.1 resolver, no raw line break other than \n may appear, and no
// block scalar line may start with a tab.
func checkPortableYAML(t *testing.T, data []byte) {
	t.Helper()
	if i := strings.IndexAny(string(data), yamlBreaks); i >= 0 {
		t.Errorf("raw line break %q at byte %d:\n%s", string([]rune(string(data[i:]))[0]), i, data)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("parsing generated YAML: %v\n%s", err, data)
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.ScalarNode && n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
			want := "str"
			switch n.Value {
			case "true":
				want = "bool" // generated: true
			case "2":
				want = "int" // version: 2
			}
			if got := yaml11Type(n.Value); got != want {
				t.Errorf("line %d: plain scalar %q reads as %s in YAML 1.1, want %s:\n%s", n.Line, n.Value, got, want, data)
			}
		}
		if n.Kind == yaml.ScalarNode && n.Style&yaml.LiteralStyle != 0 {
			for line := range strings.Lines(n.Value) {
				if strings.HasPrefix(line, "\t") {
					t.Errorf("line %d: block scalar %q has a line starting with a tab, which PyYAML rejects", n.Line, n.Value)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
}

// pyYAMLLoad reads each document with PyYAML's SafeLoader, as dbt does, and
// returns them as JSON values. Values that JSON cannot hold, such as dates,
// come back as their Python repr, so they differ from any string. It skips
// the test when python3 or PyYAML is not installed.
func pyYAMLLoad(t *testing.T, docs [][]byte) []any {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed: PyYAML check skipped")
	}
	if err := exec.Command(python, "-c", "import yaml").Run(); err != nil {
		t.Skip("PyYAML not installed: PyYAML check skipped")
	}
	dir := t.TempDir()
	args := []string{"-c", `
import json, sys, yaml
loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
out = []
for path in sys.argv[1:]:
    try:
        with open(path, encoding="utf-8") as f:
            out.append(yaml.load(f.read(), Loader=loader))
    except yaml.YAMLError as e:
        out.append({"pyyaml_error": str(e)})
json.dump(out, sys.stdout, default=repr)
`}
	for i, d := range docs {
		path := filepath.Join(dir, strconv.Itoa(i)+".yml")
		if err := os.WriteFile(path, d, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, path)
	}
	raw, err := exec.Command(python, args...).Output()
	if err != nil {
		t.Fatalf("running PyYAML: %v", err)
	}
	var out []any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("reading PyYAML output: %v", err)
	}
	if len(out) != len(docs) {
		t.Fatalf("PyYAML read %d documents, want %d", len(out), len(docs))
	}
	return out
}

// TestYAML11Resolvers makes sure the resolver table above recognises what
// it should, so that checkPortableYAML can fail.
func TestYAML11Resolvers(t *testing.T) {
	tests := map[string]string{
		"no": "bool", "On": "bool", "YES": "bool", "off": "bool", "y": "bool",
		"12:30": "int", "190:20:30": "int", "0o17": "int", "0x1F": "int", "017": "int", "1_000": "int", "+1": "int",
		"1e3": "float", "1.5": "float", ".inf": "float", "-.INF": "float", ".NaN": "float", "12:30.5": "float",
		"~": "null", "null": "null", "": "null",
		"2024-01-02": "timestamp", "2024-1-2 10:20:30": "timestamp",
		"=": "value", "<<": "merge",
		"sales": "str", "nO": "str", "a:b": "str", "1a": "str",
	}
	for in, want := range tests {
		if got := yaml11Type(in); got != want {
			t.Errorf("yaml11Type(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestScalarStyleChoice(t *testing.T) {
	tests := []struct {
		in   string
		want yaml.Style
	}{
		{"Sales overview", 0},
		{"https://tableau.example.com/#/site/acme/workbooks/1", 0},
		{"0000000A-0000-4000-8000-000000000000", 0},
		{"Ana Díaz", 0},
		{"no", yaml.SingleQuotedStyle},
		{"12:30", yaml.SingleQuotedStyle},
		{"key: value", yaml.SingleQuotedStyle},
		{"line one\nline two", yaml.LiteralStyle},
		{"\tIndented\nname", yaml.DoubleQuotedStyle},
		{" leading space\nsecond", yaml.DoubleQuotedStyle},
		{"a\u2029url: x", yaml.DoubleQuotedStyle},
		{"a\nb\u2028c", yaml.DoubleQuotedStyle},
		{"tab\there", yaml.DoubleQuotedStyle},
		{"📊", yaml.DoubleQuotedStyle},
	}
	for _, tt := range tests {
		if got := scalarStyle(tt.in); got != tt.want {
			t.Errorf("scalarStyle(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}
