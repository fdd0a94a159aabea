package store_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/store"
)

// An operator may delete the state directory under a running worker. The
// next write must then work without a restart.
func TestPutAfterStateDirDeleted(t *testing.T) {
	tests := []struct {
		name   string
		remove []string // paths relative to the store root, "" is the root itself
	}{
		{name: "whole state directory", remove: []string{""}},
		{name: "tmp only", remove: []string{"tmp"}},
		{name: "tmp and locks", remove: []string{"tmp", "locks"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			d, err := store.New(root)
			if err != nil {
				t.Fatal(err)
			}
			for _, rel := range tt.remove {
				if err := os.RemoveAll(filepath.Join(root, rel)); err != nil {
					t.Fatal(err)
				}
			}
			data := "after the directory was deleted\n"
			ref, err := d.Put(store.KindManifest, strings.NewReader(data))
			if err != nil {
				t.Fatalf("Put after deleting %q: %v", tt.remove, err)
			}
			if err := d.SetLatest(store.KindManifest, ref); err != nil {
				t.Fatalf("SetLatest after deleting %q: %v", tt.remove, err)
			}
			got, err := d.Latest(store.KindManifest)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(ref, got); diff != "" {
				t.Errorf("latest manifest (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]byte(data), readAll(t, d, ref)); diff != "" {
				t.Errorf("stored bytes (-want +got):\n%s", diff)
			}
		})
	}
}
