package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// envTag matches the variable name of a go-envconfig struct tag.
var envTag = regexp.MustCompile("`[^`]*env:\"([A-Z][A-Z0-9_]*)")

// TestReadmeListsEveryVariable keeps the README's configuration tables
// complete: every variable that a go-envconfig tag in the repository reads
// must appear in README.md.
func TestReadmeListsEveryVariable(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}

	vars := map[string]string{}
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range envTag.FindAllStringSubmatch(string(data), -1) {
			vars[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(vars) < 10 {
		t.Fatalf("found only %d variables; the tag pattern no longer matches the code", len(vars))
	}

	var names []string
	for name := range vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("README.md does not document %s (read in %s)", name, vars[name])
		}
	}
}
