package exposures

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

func TestParseCurationFull(t *testing.T) {
	data := `version: 1
defaults:
  maturity: low
  owner: {name: Data team, email: data@example.com}
include:
  collections: [Executive, c0000002]
  projects: [Finance]
  names: ["Sales*", "KPI ?"]
  workbooks: [0000000A-0000-4000-8000-000000000000]
exclude:
  names: ["*(old)*"]
workbooks:
  - luid: 0000000B-0000-4000-8000-000000000000
    name: regional_sales
    label: "Regional: sales"
    maturity: high
    owner: {email: regional@example.com}
    description: |
      Two lines
      of text.
    depends_on: ["ref('orders')", "ref('utils', 'calendar')", "source('raw', 'payments')"]
`
	got, err := ParseCuration([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := &Curation{
		Defaults: Defaults{Maturity: "low", Owner: Owner{Name: "Data team", Email: "data@example.com"}},
		Include: Selector{
			WorkbookLUIDs: []string{"0000000A-0000-4000-8000-000000000000"},
			NamePatterns:  []string{"Sales*", "KPI ?"},
			Projects:      []string{"Finance"},
			Collections:   []string{"Executive", "c0000002"},
		},
		Exclude: Selector{NamePatterns: []string{"*(old)*"}},
		Workbooks: map[string]Override{
			"0000000B-0000-4000-8000-000000000000": {
				Line: 13, Name: "regional_sales", Label: "Regional: sales", Maturity: "high",
				Owner:       Owner{Email: "regional@example.com"},
				Description: "Two lines\nof text.\n",
				DependsOn: []DependsOnEntry{
					{Line: 21, Ref: depRef{Name: "orders"}},
					{Line: 21, Ref: depRef{Package: "utils", Name: "calendar"}},
					{Line: 21, Ref: depRef{Source: true, SourceName: "raw", Name: "payments"}},
				},
			},
		},
	}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(depRef{}), cmpopts.IgnoreUnexported(Selector{})); diff != "" {
		t.Errorf("ParseCuration (-want +got):\n%s", diff)
	}
}

func TestParseCurationErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string
	}{
		{"not YAML", "version: 1\nexclude: [unclosed\n", "invalid YAML"},
		{"no version", "exclude: {projects: [a]}\n", `line 1: missing "version: 1"`},
		{"wrong version", "version: 3\n", `line 1: version must be 1, found "3"`},
		{"unknown key", "version: 1\nexlude:\n  projects: [x]\n", `line 2: unknown key "exlude"`},
		{"unknown selector key", "version: 1\ninclude:\n  folders: [x]\n", `line 3: unknown key "folders"`},
		{"list expected", "version: 1\ninclude:\n  projects: Finance\n", "line 3: expected a list"},
		{"bad maturity", "version: 1\ndefaults:\n  maturity: huge\n", `line 3: invalid maturity "huge"`},
		{"empty owner", "version: 1\ndefaults:\n  owner: {}\n", "line 3: owner needs a name or an email"},
		{"entry without luid", "version: 1\nworkbooks:\n  - name: x\n", "line 3: workbook entry without a luid"},
		{"bad name", "version: 1\nworkbooks:\n  - luid: a\n    name: 9 lives\n", `line 4: invalid exposure name "9 lives"`},
		{"duplicate luid", "version: 1\nworkbooks:\n  - luid: a\n  - luid: a\n", "line 4: workbook a is already configured at line 3"},
		{"duplicate luid in other case", "version: 1\nworkbooks:\n  - luid: ab\n  - luid: AB\n", "line 4: workbook AB is already configured at line 3"},
		{"bad depends_on", "version: 1\nworkbooks:\n  - luid: a\n    depends_on:\n      - model('x')\n", `line 5: invalid depends_on entry "model('x')"`},
		{"duplicate key", "version: 1\nversion: 1\n", `line 2: key "version" is given twice`},
		{"top-level list", "- version: 1\n", "line 1: expected a mapping"},
		{"bad pattern", "version: 1\ninclude:\n  names: [\"\"]\n", `line 3: invalid name pattern ""`},
		{"second document", "version: 1\n---\nexclude:\n  projects: [Sandbox]\n", "line 2: a second YAML document starts here"},
		{"second empty document", "version: 1\n---\n", "line 2: a second YAML document starts here"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCuration([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseCuration error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadCurationNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "curation.yml")
	if err := os.WriteFile(path, []byte("version: 1\nextra: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadCuration(path)
	want := "curation file " + path + `: line 2: unknown key "extra"`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadCuration error = %v, want one containing %q", err, want)
	}

	if _, err := LoadCuration(filepath.Join(t.TempDir(), "missing.yml")); err == nil {
		t.Error("LoadCuration of a missing file returned no error")
	}

	empty := filepath.Join(t.TempDir(), "empty.yml")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadCuration(empty)
	if err != nil {
		t.Fatalf("LoadCuration of an empty file: %v", err)
	}
	if !c.Include.isEmpty() || !c.Exclude.isEmpty() || len(c.Workbooks) != 0 {
		t.Errorf("empty curation file selects or overrides something: %+v", c)
	}
}

func TestCurationSelection(t *testing.T) {
	names := map[string]string{"c1": "Executive"}
	wb := tableau.Workbook{LUID: "w1", Name: "Sales (old) Q3", ProjectName: "Finance", Collections: []string{"c1"}}
	tests := []struct {
		name string
		data string
		want string
	}{
		{"no rules keeps", "version: 1\n", ""},
		{"include by collection name", "version: 1\ninclude: {collections: [executive]}\n", ""},
		{"include by collection luid", "version: 1\ninclude: {collections: [c1]}\n", ""},
		{"collection luid without case", "version: 1\ninclude: {collections: [C1]}\n", ""},
		{"include by project misses", "version: 1\ninclude: {projects: [Marketing]}\n", "not matched by any include rule"},
		{"exclude by pattern", "version: 1\nexclude: {names: [\"*(OLD)*\"]}\n", "excluded by name pattern *(OLD)*"},
		{"exclude by question mark", "version: 1\nexclude: {names: [\"Sales (old) Q?\"]}\n", "excluded by name pattern Sales (old) Q?"},
		{"exclude by luid wins over include", "version: 1\ninclude: {projects: [finance]}\nexclude: {workbooks: [w1]}\n", "excluded by workbook w1"},
		{"luid without case", "version: 1\nexclude: {workbooks: [W1]}\n", "excluded by workbook W1"},
		{"pattern is anchored", "version: 1\nexclude: {names: [\"Sales\"]}\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCuration([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			if got := c.excludedBy(wb, names); got != tt.want {
				t.Errorf("excludedBy = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCurationUnknownDependency(t *testing.T) {
	cur, err := ParseCuration([]byte("version: 1\nworkbooks:\n  - luid: 0000000B-0000-4000-8000-000000000000\n    depends_on:\n      - ref('no_such_model')\n"))
	if err != nil {
		t.Fatal(err)
	}
	cur.Path = "models/curation.yml"
	_, err = build(Input{Manifest: handManifest("1.8.6"), Snapshot: handSnapshot(), Curation: cur}, handLineage())
	want := "curation file models/curation.yml line 5: ref('no_such_model') names no model, seed or snapshot in the manifest"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("build error = %v, want one containing %q", err, want)
	}
}

func TestParseCurationAnchors(t *testing.T) {
	data := `version: 1
defaults:
  owner: &team {name: Data team, email: data@example.com}
include:
  projects: &core [Finance, Sales]
exclude:
  collections: *core
workbooks:
  - luid: a
    owner: *team
`
	c, err := ParseCuration([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	team := Owner{Name: "Data team", Email: "data@example.com"}
	if c.Workbooks["a"].Owner != team || c.Defaults.Owner != team {
		t.Errorf("owner through an alias = %+v, defaults %+v, want %+v", c.Workbooks["a"].Owner, c.Defaults.Owner, team)
	}
	if diff := cmp.Diff([]string{"Finance", "Sales"}, c.Exclude.Collections); diff != "" {
		t.Errorf("list through an alias (-want +got):\n%s", diff)
	}
}

// TestCurationRulesMatchingNothing checks the warnings for selection rules
// that match no workbook of the snapshot, which usually are typos, and for
// a selection that leaves no exposure.
func TestCurationRulesMatchingNothing(t *testing.T) {
	tests := []struct {
		name          string
		data          string
		wantWarnings  []string
		wantExposures int
	}{
		{
			name: "include typo empties the file",
			data: "version: 1\ninclude:\n  projects: [Comercial]\n",
			wantWarnings: []string{
				`curation include rule project "Comercial" (line 3) matches no workbook in the Tableau snapshot: check the spelling`,
				"no exposures: every workbook of the Tableau snapshot was skipped (see skipped in the report)",
			},
		},
		{
			name:          "collection luid in upper case matches",
			data:          "version: 1\ninclude:\n  collections: [C0000001]\n",
			wantWarnings:  []string{},
			wantExposures: 2,
		},
		{
			name: "unmatched rules of both kinds",
			data: "version: 1\ninclude:\n  collections: [Executive, Board]\n  names: [\"Sales*\"]\nexclude:\n  workbooks: [99999999-0000-4000-8000-000000000000]\n  names: [\"Copy of *\"]\n",
			wantWarnings: []string{
				`curation include rule collection "Board" (line 3) matches no workbook in the Tableau snapshot: check the spelling`,
				`curation exclude rule workbook "99999999-0000-4000-8000-000000000000" (line 6) matches no workbook in the Tableau snapshot: check the spelling`,
				`curation exclude rule name pattern "Copy of *" (line 7) matches no workbook in the Tableau snapshot: check the spelling`,
			},
			wantExposures: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur, err := ParseCuration([]byte(tt.data))
			if err != nil {
				t.Fatal(err)
			}
			out, err := build(Input{Manifest: handManifest("1.10.2"), Snapshot: handSnapshot(), Curation: cur}, handLineage())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantWarnings, out.Report.Warnings); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			if out.Report.Exposures != tt.wantExposures {
				t.Errorf("got %d exposures, want %d", out.Report.Exposures, tt.wantExposures)
			}
		})
	}
}

func TestNoExposuresWarning(t *testing.T) {
	out, err := build(Input{Manifest: handManifest("1.10.2"), Snapshot: &tableau.Snapshot{}}, &lineage.Result{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"no exposures: the Tableau snapshot has no workbooks"}
	if diff := cmp.Diff(want, out.Report.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
