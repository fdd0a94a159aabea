package exposures

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exposures.yml")

	changed, err := WriteFileAtomic(path, []byte("first\n"))
	if err != nil || !changed {
		t.Fatalf("first write: changed=%v err=%v, want true, nil", changed, err)
	}

	// Move the modification time back so that a rewrite would show.
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	changed, err = WriteFileAtomic(path, []byte("first\n"))
	if err != nil || changed {
		t.Fatalf("same content: changed=%v err=%v, want false, nil", changed, err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !info.ModTime().Equal(old) {
		t.Errorf("unchanged file was rewritten: modification time %v, want %v", info.ModTime(), old)
	}

	changed, err = WriteFileAtomic(path, []byte("second, longer\n"))
	if err != nil || !changed {
		t.Fatalf("new content: changed=%v err=%v, want true, nil", changed, err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "second, longer\n" {
		t.Errorf("file holds %q after rewrite", got)
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the file (no temporary files left)", len(entries))
	}
}

func TestWriteFileAtomicFailureKeepsOld(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "exposures.yml")
	if _, err := WriteFileAtomic(path, []byte("kept\n")); err != nil {
		t.Fatal(err)
	}

	// A directory in place of the target makes the write fail.
	if _, err := WriteFileAtomic(dir, []byte("x")); err == nil {
		t.Error("writing over a directory returned no error")
	}
	// A missing parent directory makes the write fail before any rename.
	if _, err := WriteFileAtomic(filepath.Join(dir, "missing", "x.yml"), []byte("x")); err == nil {
		t.Error("writing into a missing directory returned no error")
	}

	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != "kept\n" {
		t.Errorf("file holds %q, want the old content", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want 1 (no temporary files left)", len(entries))
	}
}
