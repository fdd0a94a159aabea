package demo

import (
	"embed"
	"fmt"
	"os"
	"path/filepath"
)

//go:embed assets/manifest.json assets/run_results.json assets/run_results_build.json assets/site.json
var assets embed.FS

// Asset file names inside the package, and the names WriteFiles gives them.
const (
	ManifestFile        = "manifest.json"
	RunResultsFile      = "run_results.json"
	BuildRunResultsFile = "run_results_build.json"
	SiteFile            = "site.json"
)

// Files are the paths of the demo inputs written to disk.
type Files struct {
	Manifest   string
	RunResults string
	// BuildRunResults is the path of BuildRunResults, the run results the
	// demo's post-job run reads.
	BuildRunResults string
}

// Manifest returns the bundled jaffle_shop manifest.json.
func Manifest() []byte { return mustRead(ManifestFile) }

// RunResults returns the run_results.json of the run that wrote Manifest.
// That run was `dbt docs generate`, which builds nothing, so these results
// make no extract stale.
func RunResults() []byte { return mustRead(RunResultsFile) }

// BuildRunResults returns RunResults as a `dbt build` would have written
// them after the demo site's extract refreshes: every model and seed rebuilt
// on 2026-12-01, which makes the site's three extracts stale.
// assets/SOURCES.md describes how the file was derived.
func BuildRunResults() []byte { return mustRead(BuildRunResultsFile) }

// Site returns the simulator's site file for the demo: a Tableau site whose
// workbooks read jaffle_shop tables, in the snapshot's JSON form with a
// "simulator" section.
func Site() []byte { return mustRead(SiteFile) }

// WriteFiles writes the bundled dbt artifacts into dir, which it creates,
// because the worker reads artifacts by path or URL.
func WriteFiles(dir string) (Files, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Files{}, fmt.Errorf("creating demo directory: %w", err)
	}
	files := Files{
		Manifest:        filepath.Join(dir, ManifestFile),
		RunResults:      filepath.Join(dir, RunResultsFile),
		BuildRunResults: filepath.Join(dir, BuildRunResultsFile),
	}
	for path, data := range map[string][]byte{
		files.Manifest:        Manifest(),
		files.RunResults:      RunResults(),
		files.BuildRunResults: BuildRunResults(),
	} {
		if err := writeAtomic(path, data); err != nil {
			return Files{}, err
		}
	}
	return files, nil
}

func mustRead(name string) []byte {
	data, err := assets.ReadFile("assets/" + name)
	if err != nil {
		// The embed directive above lists every name this package reads.
		panic(fmt.Sprintf("demo asset %s missing from the binary: %v", name, err))
	}
	return data
}

// writeAtomic writes data next to path and renames it into place, so a
// reader never sees half a file.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
