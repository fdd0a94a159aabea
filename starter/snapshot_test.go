package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/internal/store"
)

func TestSnapshotFeedsPreview(t *testing.T) {
	stateDir := t.TempDir()
	site, err := os.ReadFile("../internal/demo/assets/site.json")
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := st.Put(store.KindSnapshot, bytes.NewReader(site))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetLatest(store.KindSnapshot, ref); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "snapshot.json")

	code, stdout, stderr := runStarter(t, "snapshot", "--state-dir", stateDir, "--out", out)

	if code != exitOK {
		t.Fatalf("snapshot: exit code = %d, want 0\n%s", code, stderr)
	}
	if !strings.Contains(stdout, "Wrote snapshot "+ref.Short()) {
		t.Errorf("stdout does not name snapshot %s:\n%s", ref.Short(), stdout)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, site) {
		t.Errorf("%s differs from the stored snapshot (%d bytes, want %d)", out, len(got), len(site))
	}
	code, stdout, stderr = runStarter(t, "preview", "--manifest", "../internal/demo/assets/manifest.json", "--snapshot", out)
	if code != exitOK || !strings.Contains(stdout, "exposures:") {
		t.Errorf("preview of the copied snapshot: exit code %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

func TestSnapshotReportsMissingState(t *testing.T) {
	empty := t.TempDir()
	if _, err := store.New(empty); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		stateDir string
		want     string
	}{
		{"no state directory", filepath.Join(t.TempDir(), "nope"), "is not a state directory"},
		{"no snapshot yet", empty, "has no snapshot yet: run starter sync first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "snapshot.json")
			code, _, stderr := runStarter(t, "snapshot", "--state-dir", tt.stateDir, "--out", out)
			if code != exitFailure {
				t.Errorf("exit code = %d, want %d", code, exitFailure)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr)
			}
			if _, err := os.Stat(out); !os.IsNotExist(err) {
				t.Errorf("%s was written: %v", out, err)
			}
		})
	}
}
