package exposures

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A writer killed between creating and renaming its temporary file leaves it
// behind. The next write removes such files of the same output once they are
// old, and keeps fresh ones and those of other outputs.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	tests := []struct {
		name    string
		content string // the output already holds this; "" for no output yet
	}{
		{name: "new content", content: "old\n"},
		{name: "same content", content: "new\n"},
		{name: "no output yet", content: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "exposures.yml")
			if tt.content != "" {
				if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			old := time.Now().Add(-time.Hour)
			files := map[string]time.Time{
				".exposures.yml.tmp-111":       old,        // left by a crash
				".exposures.yml.tmp-222":       time.Now(), // another writer, still going
				".other.yml.tmp-333":           old,        // another output's file
				"exposures.yml.tmp-444.backup": old,        // not a temporary file name
			}
			for name, mtime := range files {
				p := filepath.Join(dir, name)
				if err := os.WriteFile(p, []byte("partial"), 0o600); err != nil {
					t.Fatal(err)
				}
				if err := os.Chtimes(p, mtime, mtime); err != nil {
					t.Fatal(err)
				}
			}

			if _, err := WriteFileAtomic(path, []byte("new\n")); err != nil {
				t.Fatal(err)
			}

			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range entries {
				got = append(got, e.Name())
			}
			slices.Sort(got)
			want := []string{".exposures.yml.tmp-222", ".other.yml.tmp-333", "exposures.yml", "exposures.yml.tmp-444.backup"}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("files after the write (-want +got):\n%s", diff)
			}
		})
	}
}

// A temporary file that a crash leaves behind must have the output's mode,
// so it is created with it rather than changed to it after the write.
func TestCreateTempUsesOutputMode(t *testing.T) {
	tests := []struct {
		name string
		perm os.FileMode
	}{
		{name: "default", perm: 0o644},
		{name: "group readable", perm: 0o640},
		{name: "private", perm: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "exposures.yml")
			f, err := createTemp(path, tt.perm)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			info, err := f.Stat()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.perm, info.Mode().Perm()); diff != "" {
				t.Errorf("mode of %s (-want +got):\n%s", f.Name(), diff)
			}
		})
	}
}
