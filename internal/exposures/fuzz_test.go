package exposures

import (
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzBaseName checks that any workbook name gives a valid exposure name.
func FuzzBaseName(f *testing.F) {
	for _, s := range []string{"Sales", "Crème brûlée", "📊", "", "9", "__", "Ⅻ ﬃ", "\xff\xfe", strings.Repeat("ß", 100)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got := baseName(name, "0123abcd-0000-4000-8000-000000000000")
		if !validName.MatchString(got) {
			t.Errorf("baseName(%q) = %q, not a valid exposure name", name, got)
		}
		if len(got) > maxBaseNameLength+len("workbook_") {
			t.Errorf("baseName(%q) is %d bytes long", name, len(got))
		}
	})
}

// FuzzParseCuration checks that no input makes the curation parser panic,
// and that an accepted file has only valid names and maturities.
func FuzzParseCuration(f *testing.F) {
	f.Add([]byte(handCuration))
	f.Add([]byte("version: 1\ninclude: {names: ['*']}\n"))
	f.Add([]byte("version: 1\nworkbooks:\n  - luid: a\n    depends_on: [\"ref('x', v=2)\"]\n"))
	f.Add([]byte("- [\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseCuration(data)
		if err != nil {
			return
		}
		for luid, o := range c.Workbooks {
			if o.Name != "" && !validName.MatchString(o.Name) {
				t.Errorf("accepted invalid name %q for %s", o.Name, luid)
			}
			if o.Maturity != "" && o.Maturity != "high" && o.Maturity != "medium" && o.Maturity != "low" {
				t.Errorf("accepted invalid maturity %q", o.Maturity)
			}
		}
	})
}

// FuzzNeutralizeJinja checks that no Jinja opener survives.
func FuzzNeutralizeJinja(f *testing.F) {
	for _, s := range []string{"{{", "{%", "{#", "{{{", "{ {", "a{b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := neutralizeJinja(s)
		for _, opener := range []string{"{{", "{%", "{#"} {
			if strings.Contains(got, opener) {
				t.Errorf("neutralizeJinja(%q) = %q contains %q", s, got, opener)
			}
		}
		if !strings.ContainsAny(s, "{") && got != s {
			t.Errorf("neutralizeJinja(%q) = %q changed text without braces", s, got)
		}
	})
}

// FuzzScalarRoundTrip checks that any text written by str reads back as
// the same text and never as a YAML 1.1 boolean, number or null.
func FuzzScalarRoundTrip(f *testing.F) {
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		s = strings.ToValidUTF8(s, "\uFFFD")
		node := mapping("label", str(s))
		data, err := yaml.Marshal(node)
		if err != nil {
			t.Fatalf("encoding %q: %v", s, err)
		}
		if strings.ContainsAny(string(data), yamlBreaks) {
			t.Errorf("encoding %q left a raw line break:\n%s", s, data)
		}
		var got struct {
			Label yaml.Node `yaml:"label"`
		}
		if err := yaml.Unmarshal(data, &got); err != nil {
			t.Fatalf("decoding %q: %v\n%s", s, err, data)
		}
		if got.Label.Value != s {
			t.Errorf("%q came back as %q:\n%s", s, got.Label.Value, data)
		}
		if got.Label.Style == 0 {
			if typ := yaml11Type(s); typ != "str" {
				t.Errorf("%q is written plain but YAML 1.1 reads it as %s", s, typ)
			}
		}
	})
}
