package exposures

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// handManifest is a small manifest: a root project "shop" with a model, a
// versioned model, a seed and a snapshot, a model from the package "utils",
// a source, and one hand-written exposure and one generated earlier.
func handManifest(dbtVersion string) *dbt.Manifest {
	return &dbt.Manifest{
		SchemaVersion: 12,
		DbtVersion:    dbtVersion,
		ProjectName:   "shop",
		AdapterType:   "postgres",
		GeneratedAt:   time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Nodes: []dbt.Node{
			{UniqueID: "model.shop.orders", ResourceType: "model", Name: "orders", PackageName: "shop", Enabled: true, Materialized: "table"},
			{UniqueID: "model.shop.customers.v2", ResourceType: "model", Name: "customers", PackageName: "shop", Version: "2", Enabled: true, Materialized: "table"},
			{UniqueID: "seed.shop.countries", ResourceType: "seed", Name: "countries", PackageName: "shop", Enabled: true, Materialized: "seed"},
			{UniqueID: "snapshot.shop.orders_history", ResourceType: "snapshot", Name: "orders_history", PackageName: "shop", Enabled: true, Materialized: "snapshot"},
			{UniqueID: "model.utils.calendar", ResourceType: "model", Name: "calendar", PackageName: "utils", Enabled: true, Materialized: "view"},
		},
		Sources: []dbt.Source{
			{UniqueID: "source.shop.raw.payments", SourceName: "raw", Name: "payments", PackageName: "shop", Enabled: true},
		},
		Exposures: []dbt.Exposure{
			{UniqueID: "exposure.shop.finance_board", Name: "finance_board", PackageName: "shop", URL: "https://tableau.example.com/#/site/acme/workbooks/300/"},
			{UniqueID: "exposure.shop.tagged", Name: "tagged", PackageName: "shop", Meta: map[string]any{"tableau": map[string]any{"luid": "0000000F-0000-4000-8000-000000000000"}}},
			{UniqueID: "exposure.shop.old_generated", Name: "sales", PackageName: "shop", URL: "https://tableau.example.com/#/site/acme/workbooks/100",
				Meta: map[string]any{"autoexposures": map[string]any{"generated": true, "workbook_luid": "0000000A-0000-4000-8000-000000000000"}}},
		},
	}
}

func handSnapshot() *tableau.Snapshot {
	return &tableau.Snapshot{
		FormatVersion: 1,
		ServerURL:     "https://tableau.example.com",
		Site:          "acme",
		Collections: []tableau.Collection{
			// Workbook B is listed only on the collection side.
			{LUID: "c0000001", Name: "Executive", WorkbookLUIDs: []string{"0000000A-0000-4000-8000-000000000000", "0000000B-0000-4000-8000-000000000000"}},
			{LUID: "c0000002", Name: "Board {{ pack }}", WorkbookLUIDs: []string{"0000000A-0000-4000-8000-000000000000"}},
		},
		Workbooks: []tableau.Workbook{
			{
				LUID: "0000000A-0000-4000-8000-000000000000", Name: "Sales", ProjectName: "Commercial",
				Owner:       tableau.Owner{Name: "Ana Díaz", Email: "ana@example.com"},
				WebURL:      "https://tableau.example.com/#/site/acme/workbooks/100",
				Collections: []string{"c0000002", "c0000001"},
				Dashboards:  []tableau.Dashboard{{Name: "Trend"}, {Name: "Overview"}},
				Description: "Weekly sales. Uses {% raw %} and {# notes #}.",
			},
			{
				LUID: "0000000B-0000-4000-8000-000000000000", Name: "sales", ProjectName: "Regional",
				Owner:  tableau.Owner{Username: "jdoe"},
				WebURL: "https://tableau.example.com/#/site/acme/workbooks/200",
			},
			{
				LUID: "0000000C-0000-4000-8000-000000000000", Name: "Finance board", ProjectName: "Finance",
				WebURL: "HTTPS://TABLEAU.EXAMPLE.COM/#/site/acme/workbooks/300",
			},
			{LUID: "0000000D-0000-4000-8000-000000000000", Name: "Marketing sandbox", ProjectName: "Sandbox"},
			{LUID: "0000000E-0000-4000-8000-000000000000", Name: "Only external tables", ProjectName: "Commercial"},
			{LUID: "0000000F-0000-4000-8000-000000000000", Name: "Tagged by hand", ProjectName: "Commercial"},
			// Another workbook whose name gives the hand-written exposure's name.
			{LUID: "00000011-0000-4000-8000-000000000000", Name: "Finance Board", ProjectName: "Commercial",
				WebURL: "https://tableau.example.com/#/site/acme/workbooks/311"},
		},
	}
}

func handLineage() *lineage.Result {
	return &lineage.Result{
		Workbooks: []lineage.WorkbookLineage{
			{
				WorkbookLUID: "0000000A-0000-4000-8000-000000000000",
				DependsOn:    []string{"model.shop.customers.v2", "model.shop.orders", "model.utils.calendar", "source.shop.raw.payments"},
				Matches: []lineage.Match{
					{TableRef: lineage.TableRef{Datasource: "Sales DS", Table: "analytics.public.orders"}, UniqueIDs: []string{"model.shop.orders"}},
					{TableRef: lineage.TableRef{Datasource: "Sales DS", Table: "raw.shop.payments", FromCustomSQL: true}, UniqueIDs: []string{"source.shop.raw.payments"}},
				},
			},
			{WorkbookLUID: "0000000B-0000-4000-8000-000000000000", DependsOn: []string{"seed.shop.countries", "snapshot.shop.orders_history"}},
			{WorkbookLUID: "0000000C-0000-4000-8000-000000000000", DependsOn: []string{"model.shop.orders"}},
			{WorkbookLUID: "0000000D-0000-4000-8000-000000000000", DependsOn: []string{"model.shop.orders"}},
			{WorkbookLUID: "0000000F-0000-4000-8000-000000000000", DependsOn: []string{"model.shop.orders"}},
			{WorkbookLUID: "00000011-0000-4000-8000-000000000000", DependsOn: []string{"model.shop.orders"}},
		},
		Unmatched: []lineage.UnmatchedTable{
			{WorkbookLUID: "0000000E-0000-4000-8000-000000000000", TableRef: lineage.TableRef{Datasource: "Ext", Table: "crm.public.leads"}, Reason: lineage.ReasonNoRelation},
		},
	}
}

const handCuration = `version: 1
defaults:
  maturity: high
exclude:
  projects: [sandbox]
workbooks:
  # Lower case on purpose: LUIDs compare without case.
  - luid: 0000000b-0000-4000-8000-000000000000
    maturity: low
    owner: {name: Regional team, email: regional@example.com}
    depends_on:
      - ref('orders')
      - "source('raw', 'payments')"
  # Not in the snapshot: the report warns about it.
  - luid: 99999999-0000-4000-8000-000000000000
    label: Deleted workbook
`

func TestBuildHandMade(t *testing.T) {
	for _, version := range []string{"1.8.6", "1.10.2"} {
		t.Run(version, func(t *testing.T) {
			cur, err := ParseCuration([]byte(handCuration))
			if err != nil {
				t.Fatal(err)
			}
			out, err := build(Input{Manifest: handManifest(version), Snapshot: handSnapshot(), Curation: cur}, handLineage())
			if err != nil {
				t.Fatal(err)
			}
			validateYAML(t, out.YAML)
			if metaUnderConfig(version) {
				validateFusionYAML(t, out.YAML)
			}
			checkGolden(t, "hand_made_dbt"+version+".yml", out.YAML)
			checkGolden(t, "hand_made_dbt"+version+".report.json", reportJSON(t, out.Report))
		})
	}
}

func TestBuildOrderIndependent(t *testing.T) {
	cur, err := ParseCuration([]byte(handCuration))
	if err != nil {
		t.Fatal(err)
	}
	first, err := build(Input{Manifest: handManifest("1.10.2"), Snapshot: handSnapshot(), Curation: cur}, handLineage())
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 20 {
		snap := handSnapshot()
		rng.Shuffle(len(snap.Workbooks), func(a, b int) { snap.Workbooks[a], snap.Workbooks[b] = snap.Workbooks[b], snap.Workbooks[a] })
		rng.Shuffle(len(snap.Collections), func(a, b int) { snap.Collections[a], snap.Collections[b] = snap.Collections[b], snap.Collections[a] })
		for j := range snap.Workbooks {
			wb := &snap.Workbooks[j]
			rng.Shuffle(len(wb.Dashboards), func(a, b int) { wb.Dashboards[a], wb.Dashboards[b] = wb.Dashboards[b], wb.Dashboards[a] })
			rng.Shuffle(len(wb.Collections), func(a, b int) { wb.Collections[a], wb.Collections[b] = wb.Collections[b], wb.Collections[a] })
		}
		res := handLineage()
		rng.Shuffle(len(res.Workbooks), func(a, b int) { res.Workbooks[a], res.Workbooks[b] = res.Workbooks[b], res.Workbooks[a] })
		for j := range res.Workbooks {
			d := res.Workbooks[j].DependsOn
			rng.Shuffle(len(d), func(a, b int) { d[a], d[b] = d[b], d[a] })
		}

		got, err := build(Input{Manifest: handManifest("1.10.2"), Snapshot: snap, Curation: cur}, res)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(first.YAML, got.YAML) {
			t.Fatalf("shuffle %d changed the YAML (-first +shuffled):\n%s", i, lineDiff(string(first.YAML), string(got.YAML)))
		}
	}
}

// roundTripTexts are hard texts for names, labels, owners, projects,
// collections and descriptions: YAML syntax, YAML 1.1 words and numbers
// that dbt's PyYAML would read as other types, line breaks YAML 1.1 knows
// beyond \n, and characters outside the Basic Multilingual Plane.
var roundTripTexts = []string{
	`It's "quoted" and 'single'`,
	"key: value # not a comment",
	"#hashtag first",
	"line one\nline two\n\nline four",
	"trailing newline\n",
	"two trailing newlines\n\n",
	"  leading and trailing spaces  ",
	"tab\there",
	"📊 Sales 🚀 dashboard",
	"مبيعات الربع الثالث",
	"שלום dashboard עם עברית",
	"- looks like a list",
	"? question: mark",
	"yes",
	"null",
	"0123",
	"@at & *star ! bang % percent",
	"back\\slash and \\n not a newline",
	"windows\r\nline",
	"nul-free control \u0007 bell",
	strings.Repeat("Quarterly revenue by region and channel, ", 60),
	"",
	// YAML 1.1 booleans, null, numbers, sexagesimals and special keys.
	"no", "No", "NO", "on", "On", "Off", "Yes", "TRUE", "y", "N", "Null", "~", "=", "<<",
	"12:30", "190:20:30", "0o17", "0x1F", "0b101", "1e3", "1.5", "1_000", "+1", "-1", ".inf", "-.Inf", ".NaN",
	"2024-01-02", "2024-1-2 10:20:30",
	"-", "trailing colon:", "a #comment", "a: b",
	// Line breaks that YAML 1.1 readers know, which must not reach the file
	// raw: a paragraph separator once let a description set the url.
	"Quarterly numbers.\u2029url: https://evil.example/login\nSee the wiki.",
	"line\u2028separator",
	"next\u0085line",
	"Revenue by region.\u2028    See wiki.\n\nMore",
	"bare\rreturn",
	// Tabs and spaces where a block scalar would put them.
	"\tIndented\nname",
	"line one\n\tindented by a tab",
	" leading space\nsecond line",
	"\nleading newline",
	"trailing spaces  \nnext",
	"bom \ufeff inside",
	"nul \u0000 char",
	"emoji and break 📊\nsecond",
}

// TestRoundTrip checks that hard texts come back exactly when the YAML is
// parsed again, by go.yaml.in/yaml/v3 and by a YAML 1.1 reader, and that
// the file still validates.
func TestRoundTrip(t *testing.T) {
	type expectation struct {
		text, version, name string
		wb                  tableau.Workbook
	}
	var docs [][]byte
	var expected []expectation
	for i, text := range roundTripTexts {
		wb := tableau.Workbook{
			LUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Name: text,
			ProjectName: text, Description: text,
			Owner:       tableau.Owner{Name: text, Email: "owner@example.com"},
			WebURL:      "https://tableau.example.com/#/site/acme/workbooks/1",
			Collections: []string{"c1"},
		}
		snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{wb}, Collections: []tableau.Collection{{LUID: "c1", Name: text}}}
		res := &lineage.Result{Workbooks: []lineage.WorkbookLineage{{WorkbookLUID: wb.LUID, DependsOn: []string{"model.shop.orders"}}}}
		for _, version := range []string{"1.8.6", "1.10.2"} {
			out, err := build(Input{Manifest: handManifest(version), Snapshot: snap}, res)
			if err != nil {
				t.Fatal(err)
			}
			validateYAML(t, out.YAML)
			if metaUnderConfig(version) {
				validateFusionYAML(t, out.YAML)
			}
			checkPortableYAML(t, out.YAML)

			var doc struct {
				Version   int `yaml:"version"`
				Exposures []struct {
					Name        string            `yaml:"name"`
					Label       string            `yaml:"label"`
					Description string            `yaml:"description"`
					Owner       map[string]string `yaml:"owner"`
					Meta        map[string]struct {
						Project     string   `yaml:"project"`
						Collections []string `yaml:"collections"`
					} `yaml:"meta"`
					Config struct {
						Meta map[string]struct {
							Project     string   `yaml:"project"`
							Collections []string `yaml:"collections"`
						} `yaml:"meta"`
					} `yaml:"config"`
				} `yaml:"exposures"`
			}
			if err := yaml.Unmarshal(out.YAML, &doc); err != nil {
				t.Fatalf("text %q: parsing YAML: %v\n%s", text, err, out.YAML)
			}
			if len(doc.Exposures) != 1 {
				t.Fatalf("text %q: got %d exposures, want 1", text, len(doc.Exposures))
			}
			e := doc.Exposures[0]
			if e.Label != text {
				t.Errorf("text %q: label came back as %q", text, e.Label)
			}
			if e.Owner["name"] != text && text != "" {
				t.Errorf("text %q: owner name came back as %q", text, e.Owner["name"])
			}
			meta := e.Meta
			if version == "1.10.2" {
				meta = e.Config.Meta
			}
			if got := meta[metaKey].Project; got != text {
				t.Errorf("text %q: project came back as %q", text, got)
			}
			// A collection without a name is shown by its LUID.
			collection := cmpOr(text, "c1")
			if got := meta[metaKey].Collections; len(got) != 1 || got[0] != collection {
				t.Errorf("text %q: collections came back as %q", text, got)
			}
			wantDescription := describeWorkbook(wb, []string{collection})
			if e.Description != wantDescription {
				t.Errorf("text %q: description came back as %q, want %q", text, e.Description, wantDescription)
			}
			if !validName.MatchString(e.Name) {
				t.Errorf("text %q: name %q is not valid", text, e.Name)
			}
			docs = append(docs, out.YAML)
			expected = append(expected, expectation{text: text, version: version, name: e.Name, wb: wb})
		}
	}

	// The same files as dbt reads them.
	for i, got := range pyYAMLLoad(t, docs) {
		x := expected[i]
		exposure := jsonPath(got, "exposures", 0)
		meta := jsonPath(exposure, "meta", metaKey)
		if x.version == "1.10.2" {
			meta = jsonPath(exposure, "config", "meta", metaKey)
		}
		checks := []struct {
			field string
			got   any
			want  string
		}{
			{"name", jsonPath(exposure, "name"), x.name},
			{"label", jsonPath(exposure, "label"), x.text},
			{"url", jsonPath(exposure, "url"), x.wb.WebURL},
			{"description", jsonPath(exposure, "description"), describeWorkbook(x.wb, []string{cmpOr(x.text, "c1")})},
			{"owner name", jsonPath(exposure, "owner", "name"), x.text},
			{"project", jsonPath(meta, "project"), x.text},
			{"collection", jsonPath(meta, "collections", 0), cmpOr(x.text, "c1")},
			{"workbook_luid", jsonPath(meta, "workbook_luid"), x.wb.LUID},
		}
		for _, c := range checks {
			if c.got == nil && c.want == "" {
				continue // an empty text leaves the field out
			}
			if s, ok := c.got.(string); !ok || s != c.want {
				t.Errorf("text %q, dbt %s: PyYAML reads %s as %#v, want %q\n%s", x.text, x.version, c.field, c.got, c.want, docs[i])
			}
		}
	}
}

// jsonPath follows map keys and list indexes through a decoded JSON value;
// nil when a step is missing.
func jsonPath(v any, path ...any) any {
	for _, p := range path {
		switch key := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[key]
		case int:
			l, ok := v.([]any)
			if !ok || key >= len(l) {
				return nil
			}
			v = l[key]
		}
	}
	return v
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestJinjaNeutralizedInOutput(t *testing.T) {
	out, err := build(Input{Manifest: handManifest("1.10.2"), Snapshot: handSnapshot()}, handLineage())
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := yaml.Unmarshal(out.YAML, &doc); err != nil {
		t.Fatal(err)
	}
	for _, s := range metaStrings(doc) {
		for _, opener := range []string{"{{", "{%", "{#"} {
			if strings.Contains(s, opener) {
				t.Errorf("generated value %q contains the Jinja delimiter %q", s, opener)
			}
		}
	}
}

func TestReportComparesPrevious(t *testing.T) {
	in := Input{Manifest: handManifest("1.10.2"), Snapshot: handSnapshot()}
	first, err := build(in, handLineage())
	if err != nil {
		t.Fatal(err)
	}

	// Next run: one workbook renamed in Tableau, one gone, one new.
	snap := handSnapshot()
	snap.Workbooks = slices.DeleteFunc(snap.Workbooks, func(w tableau.Workbook) bool { return w.LUID == "0000000D-0000-4000-8000-000000000000" })
	snap.Workbooks[0].Dashboards = append(snap.Workbooks[0].Dashboards, tableau.Dashboard{Name: "Margins"})
	snap.Workbooks = append(snap.Workbooks, tableau.Workbook{LUID: "00000010-0000-4000-8000-000000000000", Name: "New one"})
	res := handLineage()
	res.Workbooks = append(res.Workbooks, lineage.WorkbookLineage{WorkbookLUID: "00000010-0000-4000-8000-000000000000", DependsOn: []string{"seed.shop.countries"}})

	in.Snapshot, in.Previous = snap, first.YAML
	second, err := build(in, res)
	if err != nil {
		t.Fatal(err)
	}
	got := struct{ Added, Changed, Removed []string }{second.Report.Added, second.Report.Changed, second.Report.Removed}
	want := struct{ Added, Changed, Removed []string }{
		Added:   []string{"new_one"},
		Changed: []string{"sales_0000000a"},
		Removed: []string{"marketing_sandbox"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report comparison (-want +got):\n%s", diff)
	}

	// The same output against itself changes nothing.
	in.Previous = second.YAML
	third, err := build(in, res)
	if err != nil {
		t.Fatal(err)
	}
	if len(third.Report.Added)+len(third.Report.Changed)+len(third.Report.Removed) != 0 {
		t.Errorf("unchanged run reports added %v, changed %v, removed %v", third.Report.Added, third.Report.Changed, third.Report.Removed)
	}
}

func TestResolveCuratedDependency(t *testing.T) {
	m := handManifest("1.10.2")
	m.Nodes = append(m.Nodes,
		dbt.Node{UniqueID: "model.shop.customers.v10", ResourceType: "model", Name: "customers", PackageName: "shop", Version: "10", Enabled: true, Materialized: "table"},
		dbt.Node{UniqueID: "model.utils.orders", ResourceType: "model", Name: "orders", PackageName: "utils", Enabled: true, Materialized: "table"},
		dbt.Node{UniqueID: "model.other.orders", ResourceType: "model", Name: "orders", PackageName: "other", Enabled: true, Materialized: "table"},
		dbt.Node{UniqueID: "model.utils.dates", ResourceType: "model", Name: "dates", PackageName: "utils", Enabled: true, Materialized: "table"},
		dbt.Node{UniqueID: "model.other.dates", ResourceType: "model", Name: "dates", PackageName: "other", Enabled: true, Materialized: "table"},
		// Disabled: in the manifest's disabled section only.
		dbt.Node{UniqueID: "model.shop.legacy_orders", ResourceType: "model", Name: "legacy_orders", PackageName: "shop", Enabled: false, Materialized: "table"},
		// Disabled in the root project, enabled in a package: dbt takes the
		// enabled one.
		dbt.Node{UniqueID: "model.shop.fiscal_weeks", ResourceType: "model", Name: "fiscal_weeks", PackageName: "shop", Enabled: false, Materialized: "table"},
		dbt.Node{UniqueID: "model.utils.fiscal_weeks", ResourceType: "model", Name: "fiscal_weeks", PackageName: "utils", Enabled: true, Materialized: "table"},
	)
	m.Sources = append(m.Sources,
		dbt.Source{UniqueID: "source.shop.raw.refunds_old", SourceName: "raw", Name: "refunds_old", PackageName: "shop", Enabled: false},
		// The same source and table name in the root project and a package:
		// dbt resolves source() to the root project's.
		dbt.Source{UniqueID: "source.utils.raw.payments", SourceName: "raw", Name: "payments", PackageName: "utils", Enabled: true},
		// The same names in two packages and not in the root project.
		dbt.Source{UniqueID: "source.utils.ext.rates", SourceName: "ext", Name: "rates", PackageName: "utils", Enabled: true},
		dbt.Source{UniqueID: "source.other.ext.rates", SourceName: "ext", Name: "rates", PackageName: "other", Enabled: true},
		dbt.Source{UniqueID: "source.utils.ext.holidays", SourceName: "ext", Name: "holidays", PackageName: "utils", Enabled: true},
	)
	idx := newManifestIndex(m)
	tests := []struct {
		ref     string
		want    string
		wantErr string
	}{
		{ref: "ref('orders')", want: "model.shop.orders"},
		{ref: "ref('utils', 'orders')", want: "model.utils.orders"},
		{ref: "ref('customers')", want: "model.shop.customers.v10"},
		{ref: "ref('customers', v=2)", want: "model.shop.customers.v2"},
		{ref: "ref('calendar')", want: "model.utils.calendar"},
		{ref: "source('raw', 'payments')", want: "source.shop.raw.payments"},
		{ref: "ref('dates')", wantErr: "is ambiguous: it fits model.other.dates, model.utils.dates, so add the package name"},
		{ref: "ref('customers', v=3)", wantErr: "names no model, seed or snapshot"},
		{ref: "source('raw', 'refunds')", wantErr: "names no source"},
		{ref: "ref('legacy_orders')", wantErr: "names model.shop.legacy_orders, which is disabled: enable it in dbt or remove the entry"},
		{ref: "ref('shop', 'legacy_orders')", wantErr: "which is disabled"},
		{ref: "ref('fiscal_weeks')", want: "model.utils.fiscal_weeks"},
		{ref: "source('raw', 'refunds_old')", wantErr: "names source.shop.raw.refunds_old, which is disabled: enable it in dbt or remove the entry"},
		{ref: "source('raw', 'payments')", want: "source.shop.raw.payments"},
		{ref: "source('ext', 'holidays')", want: "source.utils.ext.holidays"},
		{ref: "source('ext', 'rates')", wantErr: "fits source.other.ext.rates, source.utils.ext.rates"},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			ref, err := parseDepRef(tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			got, err := idx.resolve(ref)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("resolve error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("resolve(%s) = %s, want %s", tt.ref, got, tt.want)
			}
		})
	}
}

// TestPackageSourceShadowed checks sources that source() cannot address
// from the root project. A package source named like a root project
// source is left out of depends_on, because dbt would link the root one.
// A source named alike in two packages is kept, with a warning that dbt
// may link either.
func TestPackageSourceShadowed(t *testing.T) {
	m := handManifest("1.10.2")
	m.Sources = append(m.Sources,
		dbt.Source{UniqueID: "source.utils.raw.payments", SourceName: "raw", Name: "payments", PackageName: "utils", Enabled: true},
		dbt.Source{UniqueID: "source.utils.ext.rates", SourceName: "ext", Name: "rates", PackageName: "utils", Enabled: true},
		dbt.Source{UniqueID: "source.other.ext.rates", SourceName: "ext", Name: "rates", PackageName: "other", Enabled: true},
	)
	snap := &tableau.Snapshot{Workbooks: []tableau.Workbook{
		{LUID: "0000000A-0000-4000-8000-000000000000", Name: "Package payments", WebURL: "https://tableau.example.com/#/site/acme/workbooks/1"},
		{LUID: "0000000B-0000-4000-8000-000000000000", Name: "Mixed", WebURL: "https://tableau.example.com/#/site/acme/workbooks/2"},
		{LUID: "0000000C-0000-4000-8000-000000000000", Name: "Rates", WebURL: "https://tableau.example.com/#/site/acme/workbooks/3"},
	}}
	res := &lineage.Result{Workbooks: []lineage.WorkbookLineage{
		{WorkbookLUID: "0000000A-0000-4000-8000-000000000000", DependsOn: []string{"source.utils.raw.payments"}},
		{WorkbookLUID: "0000000B-0000-4000-8000-000000000000", DependsOn: []string{"model.shop.orders", "source.utils.raw.payments"}},
		{WorkbookLUID: "0000000C-0000-4000-8000-000000000000", DependsOn: []string{"source.other.ext.rates"}},
	}}
	out, err := build(Input{Manifest: m, Snapshot: snap}, res)
	if err != nil {
		t.Fatal(err)
	}
	validateYAML(t, out.YAML)

	deps := map[string][]string{}
	ids := map[string][]string{}
	for _, e := range out.Exposures {
		deps[e.Name] = e.DependsOn
		ids[e.Name] = e.NodeIDs
	}
	wantDeps := map[string][]string{
		"mixed": {"ref('orders')"},
		"rates": {"source('ext', 'rates')"},
	}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("depends_on (-want +got):\n%s", diff)
	}
	wantIDs := map[string][]string{
		"mixed": {"model.shop.orders"},
		"rates": {"source.other.ext.rates"},
	}
	if diff := cmp.Diff(wantIDs, ids); diff != "" {
		t.Errorf("node IDs (-want +got):\n%s", diff)
	}

	wantSkipped := []SkippedWorkbook{{
		WorkbookLUID: "0000000A-0000-4000-8000-000000000000", WorkbookName: "Package payments", Reason: SkipNoDependencies,
		Detail: "its upstream tables match only sources that depends_on cannot name: see the warnings",
	}}
	if diff := cmp.Diff(wantSkipped, out.Report.Skipped); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	wantWarnings := []string{
		"workbook 0000000A-0000-4000-8000-000000000000 reads source.utils.raw.payments, left out of depends_on: source('raw', 'payments') means source.shop.raw.payments of the root project to dbt, and depends_on has no way to name a package's source",
		"workbook 0000000B-0000-4000-8000-000000000000 reads source.utils.raw.payments, left out of depends_on: source('raw', 'payments') means source.shop.raw.payments of the root project to dbt, and depends_on has no way to name a package's source",
		"workbook 0000000C-0000-4000-8000-000000000000 reads source.other.ext.rates, written as source('ext', 'rates'), which also fits source.utils.ext.rates: dbt links whichever it parsed first",
	}
	if diff := cmp.Diff(wantWarnings, out.Report.Warnings); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}
