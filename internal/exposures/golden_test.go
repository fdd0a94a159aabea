package exposures

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// goldenCase is a real manifest with a Tableau snapshot written for it.
type goldenCase struct {
	name       string
	manifest   string // under testdata/manifests of the repository
	snapshot   string // under testdata/sites of this package
	curation   string // under testdata/sites; may be empty
	runResults string // under testdata/sites; may be empty
}

var goldenCases = []goldenCase{
	// duckdb, lower case, seeds that are also sources, a published data
	// source without database, unparsed custom SQL, a name clash after
	// transliteration, an emoji-only name, run results for staleness. The
	// run results are the fixture's from the same run with args.which and
	// invocation_command changed from dbt docs generate to dbt build,
	// because docs generate rebuilds nothing.
	{name: "jaffle_shop", manifest: "artifacts-parser_jaffle_shop_v12_dbt1.12.json", snapshot: "jaffle_shop.snapshot.json",
		runResults: "jaffle_shop.run_results_build.json"},
	// Postgres, an aliased model, a source, seeds, parsed custom SQL,
	// hand-written exposures that are not Tableau's, and a curation file.
	{name: "dbt_metabase", manifest: "dbt-metabase_manifest-v12.json", snapshot: "dbt_metabase.snapshot.json", curation: "dbt_metabase.curation.yml"},
	// Snowflake upper case, manifest v4, a hand-written exposure with the
	// workbook's URL, package models, a snapshot, a seed, sources in custom SQL.
	{name: "dpguthrie", manifest: "dpguthrie-exposures-crawler_manifest-v4_snowflake.json", snapshot: "dpguthrie.snapshot.json"},
	// Snowflake, aliased models next to same-named sources, ambiguous,
	// ephemeral and disabled tables, a package source.
	{name: "flipside", manifest: "flipside-movement-models_manifest-v12_snowflake.json", snapshot: "flipside.snapshot.json"},
	// Snowflake with a lower-case database, manifest v8, a published data
	// source shared by two workbooks of the same name, custom SQL to parse.
	{name: "voi", manifest: "voi-exposures-crawler_manifest-v8_snowflake.json", snapshot: "voi.snapshot.json"},
}

func loadGoldenInput(t *testing.T, c goldenCase) Input {
	t.Helper()
	m, err := dbt.ReadManifestFile(repoFile("manifests", c.manifest))
	if err != nil {
		t.Fatal(err)
	}
	in := Input{Manifest: m, Snapshot: readSnapshot(t, filepath.Join("testdata", "sites", c.snapshot))}
	if c.curation != "" {
		in.Curation, err = LoadCuration(filepath.Join("testdata", "sites", c.curation))
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.runResults != "" {
		in.RunResults, err = dbt.ReadRunResultsFile(filepath.Join("testdata", "sites", c.runResults))
		if err != nil {
			t.Fatal(err)
		}
	}
	return in
}

func readSnapshot(t *testing.T, path string) *tableau.Snapshot {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var snap tableau.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return &snap
}

func TestGoldenRealManifests(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			out, err := Generate(loadGoldenInput(t, c))
			if err != nil {
				t.Fatal(err)
			}
			validateYAML(t, out.YAML)
			if metaUnderConfig(out.manifest.DbtVersion) {
				validateFusionYAML(t, out.YAML)
			}
			checkGolden(t, c.name+".yml", out.YAML)
			checkGolden(t, c.name+".report.json", reportJSON(t, out.Report))
		})
	}
}

// TestGoldenOrderIndependent shuffles every list of each snapshot and
// expects the same bytes.
func TestGoldenOrderIndependent(t *testing.T) {
	for _, c := range goldenCases {
		t.Run(c.name, func(t *testing.T) {
			in := loadGoldenInput(t, c)
			first, err := Generate(in)
			if err != nil {
				t.Fatal(err)
			}
			firstReport := reportJSON(t, first.Report)

			rng := rand.New(rand.NewPCG(7, 11))
			for i := range 5 {
				in.Snapshot = shuffled(rng, readSnapshot(t, filepath.Join("testdata", "sites", c.snapshot)))
				got, err := Generate(in)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(first.YAML, got.YAML) {
					t.Fatalf("shuffle %d changed the YAML (-first +shuffled):\n%s", i, lineDiff(string(first.YAML), string(got.YAML)))
				}
				if report := reportJSON(t, got.Report); !bytes.Equal(firstReport, report) {
					t.Fatalf("shuffle %d changed the report (-first +shuffled):\n%s", i, lineDiff(string(firstReport), string(report)))
				}
			}
		})
	}
}

func shuffled(rng *rand.Rand, s *tableau.Snapshot) *tableau.Snapshot {
	shuffle := func(n int, swap func(i, j int)) { rng.Shuffle(n, swap) }
	shuffle(len(s.Workbooks), func(i, j int) { s.Workbooks[i], s.Workbooks[j] = s.Workbooks[j], s.Workbooks[i] })
	shuffle(len(s.Collections), func(i, j int) { s.Collections[i], s.Collections[j] = s.Collections[j], s.Collections[i] })
	shuffle(len(s.PublishedDatasources), func(i, j int) {
		s.PublishedDatasources[i], s.PublishedDatasources[j] = s.PublishedDatasources[j], s.PublishedDatasources[i]
	})
	for i := range s.Workbooks {
		wb := &s.Workbooks[i]
		shuffle(len(wb.Dashboards), func(i, j int) { wb.Dashboards[i], wb.Dashboards[j] = wb.Dashboards[j], wb.Dashboards[i] })
		shuffle(len(wb.Collections), func(i, j int) { wb.Collections[i], wb.Collections[j] = wb.Collections[j], wb.Collections[i] })
		shuffle(len(wb.EmbeddedDatasources), func(i, j int) {
			wb.EmbeddedDatasources[i], wb.EmbeddedDatasources[j] = wb.EmbeddedDatasources[j], wb.EmbeddedDatasources[i]
		})
		for k := range wb.EmbeddedDatasources {
			ts := wb.EmbeddedDatasources[k].UpstreamTables
			shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
		}
	}
	for i := range s.PublishedDatasources {
		ts := s.PublishedDatasources[i].UpstreamTables
		shuffle(len(ts), func(i, j int) { ts[i], ts[j] = ts[j], ts[i] })
	}
	return s
}

// TestEnrichManifest writes the enriched manifest for each real case and
// checks that every other field is unchanged, that the exposure nodes fit
// dbt's manifest v12 schema, and the added part against a golden file.
func TestEnrichManifest(t *testing.T) {
	c := jsonschema.NewCompiler()
	c.UseRegexpEngine(compileLookahead)
	manifestSchema, err := c.Compile(repoFile("schemas", "dbt-manifest-v12.json"))
	if err != nil {
		t.Fatalf("compiling manifest v12 schema: %v", err)
	}

	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			in := loadGoldenInput(t, gc)
			out, err := Generate(in)
			if err != nil {
				t.Fatal(err)
			}
			src := repoFile("manifests", gc.manifest)
			dst := filepath.Join(t.TempDir(), "manifest.json")
			if err := EnrichManifest(src, dst, out); err != nil {
				t.Fatal(err)
			}

			before := readTopLevel(t, src)
			after := readTopLevel(t, dst)
			for key, raw := range before {
				if key == "exposures" || key == "parent_map" || key == "child_map" {
					continue
				}
				if !bytes.Equal(raw, after[key]) {
					t.Errorf("field %s changed in the enriched manifest", key)
				}
			}

			var exposures map[string]any
			if err := json.Unmarshal(after["exposures"], &exposures); err != nil {
				t.Fatal(err)
			}
			var parentMap, childMap map[string][]string
			if err := json.Unmarshal(after["parent_map"], &parentMap); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(after["child_map"], &childMap); err != nil {
				t.Fatal(err)
			}

			// Every exposure we added fits the v12 schema's exposure node,
			// checked through a manifest that holds only what is required.
			added := map[string]any{}
			excerpt := map[string]any{}
			for _, e := range out.Exposures {
				id := exposureID(in.Manifest.ProjectName, e.Name)
				node, ok := exposures[id]
				if !ok {
					t.Fatalf("exposure %s missing from the enriched manifest", id)
				}
				added[id] = node
				parents := parentMap[id]
				if !slices.Equal(parents, e.NodeIDs) {
					t.Errorf("parent_map[%s] = %v, want %v", id, parents, e.NodeIDs)
				}
				for _, p := range parents {
					if !slices.Contains(childMap[p], id) {
						t.Errorf("child_map[%s] does not list %s", p, id)
					}
				}
				excerpt[id] = map[string]any{"node": node, "parent_map": parents}
			}
			if in.Manifest.SchemaVersion == 12 {
				validateManifestExposures(t, manifestSchema, added)
			}
			// Hand-written exposures stay.
			for _, e := range in.Manifest.Exposures {
				if _, ok := exposures[e.UniqueID]; !ok && !isGenerated(e.Meta) {
					t.Errorf("hand-written exposure %s was dropped", e.UniqueID)
				}
			}

			data, err := json.MarshalIndent(excerpt, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, gc.name+".enriched.json", append(data, '\n'))
		})
	}
}

func readTopLevel(t *testing.T, path string) map[string]json.RawMessage {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return m
}

func validateManifestExposures(t *testing.T, schema *jsonschema.Schema, exposures map[string]any) {
	t.Helper()
	doc := map[string]any{
		"metadata": map[string]any{}, "nodes": map[string]any{}, "sources": map[string]any{}, "macros": map[string]any{},
		"docs": map[string]any{}, "exposures": exposures, "metrics": map[string]any{}, "groups": map[string]any{},
		"selectors": map[string]any{}, "disabled": map[string]any{}, "parent_map": map[string]any{}, "child_map": map[string]any{},
		"group_map": map[string]any{}, "saved_queries": map[string]any{}, "semantic_models": map[string]any{}, "unit_tests": map[string]any{},
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if err := schema.Validate(inst); err != nil {
		t.Errorf("added exposures do not fit dbt-manifest-v12.json: %v", err)
	}
}

func TestEnrichManifestGzipInput(t *testing.T) {
	gc := goldenCases[0]
	out, err := Generate(loadGoldenInput(t, gc))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := repoFile("manifests", gc.manifest)

	var compressed bytes.Buffer
	zw := gzip.NewWriter(&compressed)
	if _, err := zw.Write(readFileBytes(t, src)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	gzPath := filepath.Join(dir, "manifest.json.gz")
	if err := os.WriteFile(gzPath, compressed.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	fromPlain := filepath.Join(dir, "plain.json")
	fromGzip := filepath.Join(dir, "gzip.json")
	if err := EnrichManifest(src, fromPlain, out); err != nil {
		t.Fatal(err)
	}
	if err := EnrichManifest(gzPath, fromGzip, out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readFileBytes(t, fromPlain), readFileBytes(t, fromGzip)) {
		t.Error("enriching the gzip-compressed manifest gave other bytes than the plain one")
	}
}

func TestEnrichManifestInvalidInput(t *testing.T) {
	out, err := Generate(loadGoldenInput(t, goldenCases[0]))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	full := readFileBytes(t, repoFile("manifests", goldenCases[0].manifest))
	tests := map[string][]byte{
		"truncated":     full[:len(full)/2],
		"not an object": []byte(`["a"]`),
		"trailing data": append(append([]byte{}, full...), []byte(`{}`)...),
		"bad separator": []byte(`{"a": 1 "b": 2}`),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			src := filepath.Join(dir, "in.json")
			if err := os.WriteFile(src, data, 0o644); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, "out.json")
			if err := EnrichManifest(src, dst, out); err == nil {
				t.Fatal("EnrichManifest returned no error")
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("output written although the input was invalid")
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 {
				t.Errorf("directory holds %d entries, want only the input (no temporary files)", len(entries))
			}
		})
	}
}

func TestGenerateEmptySnapshot(t *testing.T) {
	m, err := dbt.ReadManifestFile(repoFile("manifests", goldenCases[0].manifest))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Generate(Input{Manifest: m, Snapshot: &tableau.Snapshot{}})
	if err != nil {
		t.Fatal(err)
	}
	validateYAML(t, out.YAML)
	checkGolden(t, "empty.yml", out.YAML)
	if out.Report.Exposures != 0 || len(out.Report.Added) != 0 {
		t.Errorf("empty snapshot report = %+v", out.Report)
	}
}

func readFileBytes(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestGoldenFilesValidate checks every YAML golden file, including ones no
// other test in this run regenerated, against dbt's property file schema.
func TestGoldenFilesValidate(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "golden", "*.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < len(goldenCases)+2 {
		t.Fatalf("found %d YAML golden files, want at least %d", len(paths), len(goldenCases)+2)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			validateYAML(t, readFileBytes(t, path))
		})
	}
}

// TestSchemaCheckRejects makes sure the schema check can fail: an exposure
// with an unknown type or without an owner is rejected.
func TestSchemaCheckRejects(t *testing.T) {
	bad := []string{
		"version: 2\nexposures:\n  - name: x\n    type: spreadsheet\n    owner: {name: a}\n    depends_on: []\n",
		"version: 2\nexposures:\n  - name: x\n    type: dashboard\n    depends_on: []\n",
		"version: 2\nexposures:\n  - name: x\n    type: dashboard\n    owner: {phone: '1'}\n    depends_on: []\n",
		"version: 3\nexposures: []\n",
	}
	for _, doc := range bad {
		if err := checkSchema([]byte(doc)); err == nil {
			t.Errorf("schema check accepted:\n%s", doc)
		}
	}

	// dbt Fusion's schema rejects meta and tags at the top level, the form
	// written for dbt before 1.10.
	out, err := build(Input{Manifest: handManifest("1.8.6"), Snapshot: handSnapshot()}, handLineage())
	if err != nil {
		t.Fatal(err)
	}
	if err := checkSchemaFile("dbt_yml_files-latest-fusion.json", out.YAML); err == nil {
		t.Error("fusion schema check accepted top-level meta and tags")
	}
}

// TestGenerateKeepsInputs checks that Generate changes neither the manifest
// nor the snapshot, which callers keep using afterwards.
func TestGenerateKeepsInputs(t *testing.T) {
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			in := loadGoldenInput(t, gc)
			in.Snapshot = shuffled(rand.New(rand.NewPCG(3, 4)), in.Snapshot)
			snapshotBefore, err := json.Marshal(in.Snapshot)
			if err != nil {
				t.Fatal(err)
			}
			manifestBefore := loadGoldenInput(t, gc).Manifest

			if _, err := Generate(in); err != nil {
				t.Fatal(err)
			}

			snapshotAfter, err := json.Marshal(in.Snapshot)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(snapshotBefore, snapshotAfter) {
				t.Error("Generate changed the snapshot")
			}
			if diff := cmp.Diff(manifestBefore, in.Manifest); diff != "" {
				t.Errorf("Generate changed the manifest (-before +after):\n%s", diff)
			}
		})
	}
}

// TestStaleFromDocsGenerate reads the run results that dbt docs generate
// wrote: they rebuild nothing, so the report lists no stale extract and
// says why.
func TestStaleFromDocsGenerate(t *testing.T) {
	in := loadGoldenInput(t, goldenCases[0])
	rr, err := dbt.ReadRunResultsFile(repoFile("manifests", "artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"))
	if err != nil {
		t.Fatal(err)
	}
	in.RunResults = rr
	out, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	s := out.Report.Stale
	if s == nil {
		t.Fatal("report has no stale section")
	}
	if len(s.Extracts) != 0 {
		t.Errorf("docs generate made %d extracts stale, want none", len(s.Extracts))
	}
	if s.Command != "generate" {
		t.Errorf("stale command = %q, want generate", s.Command)
	}
	if s.Note == "" || !slices.Contains(out.Report.Warnings, s.Note) {
		t.Errorf("note %q missing from the warnings %q", s.Note, out.Report.Warnings)
	}
}
