package demo

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestAssetsMatchSources(t *testing.T) {
	tests := []struct {
		asset  string
		source string
	}{
		{ManifestFile, "../../testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json"},
		{RunResultsFile, "../../testdata/manifests/artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"},
		{SiteFile, "../../testsuite/sites/demo.json"},
	}
	for _, tt := range tests {
		t.Run(tt.asset, func(t *testing.T) {
			want, err := os.ReadFile(tt.source)
			if err != nil {
				t.Fatalf("reading source: %v", err)
			}
			if got := mustRead(tt.asset); !bytes.Equal(want, got) {
				t.Errorf("assets/%s differs from %s; copy the source again", tt.asset, tt.source)
			}
		})
	}
}

func TestWriteFilesWritesAssets(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")

	files, err := WriteFiles(dir)
	if err != nil {
		t.Fatalf("WriteFiles: %v", err)
	}

	for path, want := range map[string][]byte{
		files.Manifest:        Manifest(),
		files.RunResults:      RunResults(),
		files.BuildRunResults: BuildRunResults(),
	} {
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("reading %s: %v", path, err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s differs from the embedded asset", path)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 {
		t.Errorf("WriteFiles left %d entries in %s, want 3 (no temporary files)", len(entries), dir)
	}
}
