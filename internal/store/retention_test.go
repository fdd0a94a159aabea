package store_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/store"
)

// putAged puts content as kind and backdates its kind marker by age, as if
// it had been put that long ago.
func putAged(t *testing.T, d *store.Dir, kind, content string, age time.Duration) store.Ref {
	t.Helper()
	ref, err := d.Put(kind, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	when := time.Now().Add(-age)
	if err := os.Chtimes(filepath.Join(d.Root(), "kinds", kind, ref.Hash), when, when); err != nil {
		t.Fatal(err)
	}
	return ref
}

func exists(t *testing.T, d *store.Dir, ref store.Ref) bool {
	t.Helper()
	_, err := d.Path(ref)
	if errors.Is(err, store.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	return true
}

func TestPruneKeepsNewestAndYoung(t *testing.T) {
	d := newDir(t)
	// Six manifests put 1 to 6 days ago, newest first, and two put an hour
	// ago.
	var old []store.Ref
	for i := range 6 {
		old = append(old, putAged(t, d, store.KindManifest, fmt.Sprintf("manifest %d", i), time.Duration(i+1)*24*time.Hour))
	}
	young := []store.Ref{
		putAged(t, d, store.KindManifest, "young 1", time.Hour),
		putAged(t, d, store.KindManifest, "young 2", time.Hour),
	}
	// The oldest manifest is the latest: the pointer protects it.
	if err := d.SetLatest(store.KindManifest, old[5]); err != nil {
		t.Fatal(err)
	}
	// Reports are counted apart from manifests.
	reports := []store.Ref{
		putAged(t, d, store.KindReport, "report 1", 72*time.Hour),
		putAged(t, d, store.KindReport, "report 2", 96*time.Hour),
	}

	res, err := d.Prune(store.Retention{Keep: 3, MinAge: 24 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Kept: the two young ones and the newest old one make three; the
	// latest is kept whatever its age.
	wantKept := []store.Ref{young[0], young[1], old[0], old[5], reports[0], reports[1]}
	wantDeleted := []store.Ref{old[1], old[2], old[3], old[4]}
	for _, ref := range wantKept {
		if !exists(t, d, ref) {
			t.Errorf("Prune deleted %s, want it kept", ref)
		}
	}
	for _, ref := range wantDeleted {
		if exists(t, d, ref) {
			t.Errorf("Prune kept %s, want it deleted", ref)
		}
	}
	if diff := cmp.Diff(wantDeleted, res.Deleted); diff != "" {
		t.Errorf("deleted refs (-want +got):\n%s", diff)
	}
	var wantBytes int64
	for _, ref := range wantDeleted {
		wantBytes += ref.Size
	}
	if res.Bytes != wantBytes {
		t.Errorf("Bytes = %d, want %d", res.Bytes, wantBytes)
	}
}

func TestPruneKeepsYoungBeyondKeep(t *testing.T) {
	d := newDir(t)
	var refs []store.Ref
	for i := range 5 {
		refs = append(refs, putAged(t, d, store.KindSnapshotPart, fmt.Sprintf("chunk %d", i), time.Duration(i)*time.Minute))
	}

	res, err := d.Prune(store.Retention{Keep: 1, MinAge: 24 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	if len(res.Deleted) != 0 {
		t.Errorf("Prune deleted %v, want nothing younger than the minimum age deleted", res.Deleted)
	}
	for _, ref := range refs {
		if !exists(t, d, ref) {
			t.Errorf("Prune deleted %s, put minutes ago", ref)
		}
	}
}

func TestPruneKeepsBytesSharedWithKeptKind(t *testing.T) {
	d := newDir(t)
	shared := putAged(t, d, store.KindReport, "same bytes", 72*time.Hour)
	putAged(t, d, store.KindReport, "newer report", time.Hour)
	asManifest := putAged(t, d, store.KindManifest, "same bytes", time.Hour)

	res, err := d.Prune(store.Retention{Keep: 1, MinAge: time.Hour / 2}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff([]store.Ref{shared}, res.Deleted); diff != "" {
		t.Errorf("deleted refs (-want +got):\n%s", diff)
	}
	if res.Bytes != 0 {
		t.Errorf("Bytes = %d, want 0: the manifest kind still holds the bytes", res.Bytes)
	}
	if got := readAll(t, d, asManifest); string(got) != "same bytes" {
		t.Errorf("manifest reads %q after pruning the report with the same bytes", got)
	}
}

func TestPutAgainRenewsBlob(t *testing.T) {
	d := newDir(t)
	ref := putAged(t, d, store.KindManifest, "put twice", 72*time.Hour)
	putAged(t, d, store.KindManifest, "newer", time.Hour)
	if _, err := d.Put(store.KindManifest, strings.NewReader("put twice")); err != nil {
		t.Fatal(err)
	}

	if _, err := d.Prune(store.Retention{Keep: 1, MinAge: 24 * time.Hour}, time.Now()); err != nil {
		t.Fatal(err)
	}

	if !exists(t, d, ref) {
		t.Error("Prune deleted a blob put again a moment ago")
	}
}

func TestPruneRejectsKeepZero(t *testing.T) {
	d := newDir(t)
	ref := putAged(t, d, store.KindManifest, "only", 72*time.Hour)

	_, err := d.Prune(store.Retention{Keep: 0, MinAge: time.Hour}, time.Now())

	if err == nil {
		t.Fatal("Prune accepted Keep 0")
	}
	if !exists(t, d, ref) {
		t.Error("a rejected Prune deleted a blob")
	}
}

func TestPruneBlobsWithoutMarker(t *testing.T) {
	d := newDir(t)
	// Blobs stored by a store version that wrote no kind markers.
	var unmarked []store.Ref
	for i := range 3 {
		ref, err := d.Put(store.KindManifest, strings.NewReader(fmt.Sprintf("stored without a marker %d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(filepath.Join(d.Root(), "kinds", store.KindManifest, ref.Hash)); err != nil {
			t.Fatal(err)
		}
		path, err := d.Path(ref)
		if err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-time.Duration(48+i) * time.Hour)
		if err := os.Chtimes(path, when, when); err != nil {
			t.Fatal(err)
		}
		unmarked = append(unmarked, ref)
	}
	if err := d.SetLatest(store.KindManifest, unmarked[2]); err != nil {
		t.Fatal(err)
	}

	res, err := d.Prune(store.Retention{Keep: 1, MinAge: 24 * time.Hour}, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	// Kept: the newest and the one the latest pointer names.
	wantDeleted := []store.Ref{{Kind: store.KindUnknown, Hash: unmarked[1].Hash, Size: unmarked[1].Size}}
	if diff := cmp.Diff(wantDeleted, res.Deleted); diff != "" {
		t.Errorf("deleted refs (-want +got):\n%s", diff)
	}
	for i, ref := range unmarked {
		if kept := exists(t, d, ref); kept != (i != 1) {
			t.Errorf("blob %d: kept = %v, want %v", i, kept, i != 1)
		}
	}
}
