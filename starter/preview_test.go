package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// Fixtures shared with the exposures package's golden tests.
var (
	previewManifest   = filepath.Join("..", "testdata", "manifests", "artifacts-parser_jaffle_shop_v12_dbt1.12.json")
	previewRunResults = filepath.Join("..", "testdata", "manifests", "artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json")
	previewSnapshot   = filepath.Join("..", "internal", "exposures", "testdata", "sites", "jaffle_shop.snapshot.json")
	// previewBuildResults are previewRunResults as dbt build would write
	// them: the fixture comes from dbt docs generate, which rebuilds nothing.
	previewBuildResults = filepath.Join("..", "internal", "exposures", "testdata", "sites", "jaffle_shop.run_results_build.json")
	previewGolden       = filepath.Join("..", "internal", "exposures", "testdata", "golden", "jaffle_shop.yml")
	metabaseManifest    = filepath.Join("..", "testdata", "manifests", "dbt-metabase_manifest-v12.json")
	metabaseSnapshot    = filepath.Join("..", "internal", "exposures", "testdata", "sites", "dbt_metabase.snapshot.json")
	metabaseCuration    = filepath.Join("..", "internal", "exposures", "testdata", "sites", "dbt_metabase.curation.yml")
	metabaseGolden      = filepath.Join("..", "internal", "exposures", "testdata", "golden", "dbt_metabase.yml")
)

func runPreviewArgs(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runPreview(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestPreviewPrintsYAML(t *testing.T) {
	code, stdout, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", previewSnapshot)
	if code != exitOK {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	if diff := cmp.Diff(string(readFile(t, previewGolden)), stdout); diff != "" {
		t.Errorf("printed YAML differs from the golden file (-want +got):\n%s", diff)
	}
	if !strings.Contains(stderr, "7 exposures: 7 added, 0 changed, 0 removed") {
		t.Errorf("summary missing from stderr:\n%s", stderr)
	}
}

func TestPreviewWritesFiles(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "exposures.yml")
	report := filepath.Join(dir, "report.json")
	enriched := filepath.Join(dir, "manifest.json")
	args := []string{
		"--manifest", metabaseManifest, "--snapshot", metabaseSnapshot, "--curation", metabaseCuration,
		"--out", out, "--report", report, "--enriched-manifest", enriched, "--file-path", "models/tableau/exposures.yml",
	}

	code, stdout, stderr := runPreviewArgs(t, args...)
	if code != exitOK {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	if stdout != "" {
		t.Errorf("stdout is not empty with --out:\n%s", stdout)
	}
	if diff := cmp.Diff(string(readFile(t, metabaseGolden)), string(readFile(t, out))); diff != "" {
		t.Errorf("--out differs from the golden file (-want +got):\n%s", diff)
	}

	var r struct {
		Exposures int
		Added     []string
		Skipped   []struct{ Reason string }
	}
	if err := json.Unmarshal(readFile(t, report), &r); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if r.Exposures != 4 || len(r.Added) != 4 || len(r.Skipped) != 1 || r.Skipped[0].Reason != "curated" {
		t.Errorf("report = %+v, want 4 exposures, 4 added, 1 curated skip", r)
	}

	var m struct {
		Exposures map[string]json.RawMessage `json:"exposures"`
	}
	if err := json.Unmarshal(readFile(t, enriched), &m); err != nil {
		t.Fatalf("enriched manifest is not JSON: %v", err)
	}
	var node struct {
		OriginalFilePath string   `json:"original_file_path"`
		FQN              []string `json:"fqn"`
	}
	if err := json.Unmarshal(m.Exposures["exposure.sandbox.payments_daily"], &node); err != nil {
		t.Fatal(err)
	}
	if node.OriginalFilePath != "models/tableau/exposures.yml" || !slices.Equal(node.FQN, []string{"sandbox", "tableau", "payments_daily"}) {
		t.Errorf("exposure node path %q and fqn %v do not follow --file-path", node.OriginalFilePath, node.FQN)
	}
	for _, id := range []string{"exposure.sandbox.payments_daily", "exposure.sandbox.inventory_board", "exposure.sandbox.ops_stg_check", "exposure.sandbox.completed_orders_cte_sql"} {
		if _, ok := m.Exposures[id]; !ok {
			t.Errorf("enriched manifest has no %s", id)
		}
	}

	// A second run with the same inputs leaves --out untouched and reports
	// nothing added.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(out, old, old); err != nil {
		t.Fatal(err)
	}
	code, _, stderr = runPreviewArgs(t, args...)
	if code != exitOK {
		t.Fatalf("second run: exit code %d, stderr:\n%s", code, stderr)
	}
	info, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime().Equal(old) {
		t.Errorf("unchanged --out was rewritten")
	}
	if !strings.Contains(stderr, out+": unchanged") || !strings.Contains(stderr, "0 added, 0 changed, 0 removed") {
		t.Errorf("second run summary:\n%s", stderr)
	}
}

func TestPreviewStaleExtracts(t *testing.T) {
	report := filepath.Join(t.TempDir(), "report.json")
	code, _, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", previewSnapshot,
		"--run-results", previewBuildResults, "--report", report)
	if code != exitOK {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	var r struct {
		Stale struct {
			Extracts []struct {
				LUID string `json:"luid"`
			} `json:"extracts"`
		} `json:"stale"`
	}
	if err := json.Unmarshal(readFile(t, report), &r); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range r.Stale.Extracts {
		got = append(got, e.LUID)
	}
	want := []string{"a0000000-0000-4000-8000-000000000001", "d0000000-0000-4000-8000-000000000001"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("stale extracts (-want +got):\n%s", diff)
	}
}

func TestPreviewBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	truncatedSnapshot := write("truncated.json", string(readFile(t, previewSnapshot))[:500])
	notSnapshot := write("not-snapshot.json", `{"formatVersion": 1, "serverUrl": "x"}`)
	futureSnapshot := write("future.json", `{"formatVersion": 99, "workbooks": []}`)
	badCuration := write("curation.yml", "version: 1\ninclude:\n  folders: [x]\n")
	truncatedManifest := write("manifest.json", string(readFile(t, previewManifest))[:4000])

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"no flags", nil, exitUsage, "missing --manifest"},
		{"no snapshot", []string{"--manifest", previewManifest}, exitUsage, "missing --snapshot"},
		{"unknown flag", []string{"--manifets", "x"}, exitUsage, "flag provided but not defined"},
		{"extra argument", []string{"--manifest", previewManifest, "--snapshot", previewSnapshot, "extra"}, exitUsage, `unexpected argument "extra"`},
		{"missing manifest", []string{"--manifest", filepath.Join(dir, "nope.json"), "--snapshot", previewSnapshot}, exitFailure, "nope.json"},
		{"truncated manifest", []string{"--manifest", truncatedManifest, "--snapshot", previewSnapshot}, exitFailure, "manifest.json"},
		{"run results as manifest", []string{"--manifest", previewRunResults, "--snapshot", previewSnapshot}, exitFailure, "run_results"},
		{"missing snapshot", []string{"--manifest", previewManifest, "--snapshot", filepath.Join(dir, "none.json")}, exitFailure, "reading Tableau snapshot"},
		{"truncated snapshot", []string{"--manifest", previewManifest, "--snapshot", truncatedSnapshot}, exitFailure, "truncated.json: not valid JSON"},
		{"manifest as snapshot", []string{"--manifest", previewManifest, "--snapshot", previewManifest}, exitFailure, `no "workbooks" field`},
		{"snapshot without workbooks", []string{"--manifest", previewManifest, "--snapshot", notSnapshot}, exitFailure, `no "workbooks" field`},
		{"snapshot from the future", []string{"--manifest", previewManifest, "--snapshot", futureSnapshot}, exitFailure, "format version 99"},
		{"invalid curation", []string{"--manifest", previewManifest, "--snapshot", previewSnapshot, "--curation", badCuration}, exitFailure, `curation.yml: line 3: unknown key "folders"`},
		{"invalid maturity", []string{"--manifest", previewManifest, "--snapshot", previewSnapshot, "--maturity", "extreme"}, exitUsage, `invalid --maturity "extreme"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, "out-"+strings.ReplaceAll(tt.name, " ", "-")+".yml")
			report := filepath.Join(dir, "report-"+strings.ReplaceAll(tt.name, " ", "-")+".json")
			args := append(tt.args, "--out", out, "--report", report)
			if tt.wantCode == exitUsage {
				args = tt.args
			}
			code, stdout, stderr := runPreviewArgs(t, args...)
			t.Logf("stderr: %s", previewFirstLine(stderr))
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty on failure:\n%s", stdout)
			}
			for _, path := range []string{out, report} {
				if _, err := os.Stat(path); err == nil {
					t.Errorf("%s was written although the input was bad", path)
				}
			}
		})
	}

	// No temporary files are left behind either.
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
}

func TestPreviewKeepsOldOutOnFailure(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "exposures.yml")
	previous := "# Generated by autoexposures from the lineage of Tableau workbooks.\nversion: 2\nexposures: []\n"
	if err := os.WriteFile(out, []byte(previous), 0o644); err != nil {
		t.Fatal(err)
	}
	// The enriched manifest cannot be written into a missing directory, so
	// the run fails before --out is touched.
	code, _, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", previewSnapshot,
		"--out", out, "--enriched-manifest", filepath.Join(dir, "missing", "manifest.json"))
	if code != exitFailure {
		t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitFailure, stderr)
	}
	if got := string(readFile(t, out)); got != previous {
		t.Errorf("--out changed to %q on failure", got)
	}
}

func previewFirstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func TestPreviewWarnsUnmatchedRule(t *testing.T) {
	curation := filepath.Join(t.TempDir(), "curation.yml")
	if err := os.WriteFile(curation, []byte("version: 1\ninclude:\n  projects: [Markting]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", previewSnapshot, "--curation", curation)
	if code != exitOK {
		t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
	}
	for _, want := range []string{
		`warning: curation include rule project "Markting" (line 3) matches no workbook in the Tableau snapshot: check the spelling`,
		"warning: no exposures: every workbook of the Tableau snapshot was skipped",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, stderr)
		}
	}
}

// TestPreviewWritesNothingOnFailure checks that a run that fails on one
// output writes none of them and leaves no temporary file.
func TestPreviewWritesNothingOnFailure(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "report.json")
	enriched := filepath.Join(dir, "manifest.json")
	tests := map[string][]string{
		"out in a missing directory":    {"--out", filepath.Join(dir, "missing", "x.yml"), "--report", report, "--enriched-manifest", enriched},
		"report in a missing directory": {"--out", filepath.Join(dir, "x.yml"), "--report", filepath.Join(dir, "missing", "r.json"), "--enriched-manifest", enriched},
		"out is a directory":            {"--out", filepath.Join(dir, "dir.yml"), "--report", report, "--enriched-manifest", enriched},
	}
	if err := os.Mkdir(filepath.Join(dir, "dir.yml"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, args := range tests {
		t.Run(name, func(t *testing.T) {
			code, _, stderr := runPreviewArgs(t, append([]string{"--manifest", previewManifest, "--snapshot", previewSnapshot}, args...)...)
			if code == exitOK {
				t.Fatalf("exit code %d, want a failure; stderr:\n%s", code, stderr)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				if e.Name() != "dir.yml" {
					t.Errorf("%s written although the run failed; stderr:\n%s", e.Name(), stderr)
				}
			}
		})
	}
}

func TestPreviewOutputChecks(t *testing.T) {
	dir := t.TempDir()
	// A copy of the manifest, so that a run that wrongly writes the report
	// over it cannot damage the shared fixture.
	manifest := filepath.Join(dir, "manifest.json")
	if err := os.WriteFile(manifest, readFile(t, previewManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "schema.yml")
	foreignContent := "version: 2\nmodels:\n  - name: orders\n"
	if err := os.WriteFile(foreign, []byte(foreignContent), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"out is not ours", []string{"--out", foreign}, exitFailure, "was not written by autoexposures"},
		{"out equals report", []string{"--out", filepath.Join(dir, "a.yml"), "--report", filepath.Join(dir, ".", "a.yml")}, exitUsage, "--out and --report name the same file"},
		{"out equals enriched manifest", []string{"--out", filepath.Join(dir, "a.yml"), "--enriched-manifest", filepath.Join(dir, "a.yml")}, exitUsage, "--out and --enriched-manifest name the same file"},
		{"out not yaml", []string{"--out", filepath.Join(dir, "exposures.json")}, exitUsage, `--out "` + filepath.Join(dir, "exposures.json") + `" does not end in .yml or .yaml`},
		{"report equals manifest", []string{"--report", manifest}, exitUsage, "--report and --manifest name the same file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := runPreviewArgs(t, append([]string{"--manifest", manifest, "--snapshot", previewSnapshot}, tt.args...)...)
			if code != tt.wantCode {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, tt.wantErr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantErr, stderr)
			}
			if stdout != "" {
				t.Errorf("stdout is not empty on failure:\n%s", stdout)
			}
		})
	}
	if got := string(readFile(t, foreign)); got != foreignContent {
		t.Errorf("foreign file changed to %q", got)
	}

	// --force replaces it.
	code, _, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", previewSnapshot, "--out", foreign, "--force")
	if code != exitOK {
		t.Fatalf("with --force: exit code %d, stderr:\n%s", code, stderr)
	}
	if diff := cmp.Diff(string(readFile(t, previewGolden)), string(readFile(t, foreign))); diff != "" {
		t.Errorf("with --force, --out differs from the golden file (-want +got):\n%s", diff)
	}
}

func TestPreviewSnapshotForms(t *testing.T) {
	dir := t.TempDir()
	plain := readFile(t, previewSnapshot)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	forms := map[string][]byte{
		"bom.json":     append([]byte("\ufeff"), plain...),
		"snap.json.gz": gz.Bytes(),
	}
	for name, data := range forms {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", path)
			if code != exitOK {
				t.Fatalf("exit code %d, stderr:\n%s", code, stderr)
			}
			if diff := cmp.Diff(string(readFile(t, previewGolden)), stdout); diff != "" {
				t.Errorf("YAML differs from the golden file (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPreviewSnapshotErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name    string
		content string
		wantErr []string
	}{
		{"no format version", `{"workbooks": []}`, []string{"no formatVersion field", `"formatVersion": 1`}},
		{"format version 0", `{"formatVersion": 0, "workbooks": []}`, []string{"formatVersion 0 is invalid", "formatVersion 1"}},
		{"wrong type", "{\"formatVersion\": 1,\n \"workbooks\": [{\"luid\": \"w1\", \"name\": 12}]}", []string{
			"line 2", "workbooks.name", "a number where a string is expected",
		}},
		{"syntax error", "{\"formatVersion\": 1,\n \"workbooks\": [,]}", []string{"line 2, column 16", "not valid JSON"}},
		{"not gzip", "\x1f\x8b\x08garbage", []string{"gzip", "not valid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, stderr := runPreviewArgs(t, "--manifest", previewManifest, "--snapshot", path)
			if code != exitFailure {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitFailure, stderr)
			}
			for _, want := range append(tt.wantErr, path) {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr does not contain %q:\n%s", want, stderr)
				}
			}
			if strings.Contains(stderr, " json: ") || strings.Contains(stderr, "cannot unmarshal") {
				t.Errorf("stderr shows a raw Go JSON error:\n%s", stderr)
			}
		})
	}
}
