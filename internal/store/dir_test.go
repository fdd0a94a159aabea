package store_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/store"
)

func newDir(t *testing.T) *store.Dir {
	t.Helper()
	d, err := store.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func readAll(t *testing.T, s store.Store, ref store.Ref) []byte {
	t.Helper()
	rc, err := s.Open(ref)
	if err != nil {
		t.Fatalf("Open(%s): %v", ref, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %s: %v", ref, err)
	}
	return data
}

func TestPutOpenRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		kind string
		data []byte
	}{
		{"empty", store.KindReport, nil},
		{"small", store.KindManifest, []byte(`{"metadata":{}}`)},
		{"several megabytes", store.KindSnapshot, bytes.Repeat([]byte("workbook "), 1<<19)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDir(t)

			ref, err := d.Put(tt.kind, bytes.NewReader(tt.data))
			if err != nil {
				t.Fatal(err)
			}

			want := store.Ref{Kind: tt.kind, Hash: sha(tt.data), Size: int64(len(tt.data))}
			if diff := cmp.Diff(want, ref); diff != "" {
				t.Errorf("ref (-want +got):\n%s", diff)
			}
			if got := readAll(t, d, ref); !bytes.Equal(got, tt.data) {
				t.Errorf("read %d bytes, want the %d put", len(got), len(tt.data))
			}
		})
	}
}

func TestPutSameContentTwice(t *testing.T) {
	d := newDir(t)
	data := []byte("same bytes")

	first, err := d.Put(store.KindManifest, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.Put(store.KindManifest, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second ref (-first +second):\n%s", diff)
	}
	if got := readAll(t, d, second); !bytes.Equal(got, data) {
		t.Errorf("read %q, want %q", got, data)
	}
}

func TestPutReaderErrorStoresNothing(t *testing.T) {
	d := newDir(t)
	broken := io.MultiReader(strings.NewReader("partial"), errReader{errors.New("connection reset")})

	_, err := d.Put(store.KindManifest, broken)
	if err == nil || !strings.Contains(err.Error(), "connection reset") {
		t.Fatalf("Put error = %v, want the reader's error", err)
	}

	for _, sub := range []string{"blobs", "tmp"} {
		var files []string
		filepath.WalkDir(filepath.Join(d.Root(), sub), func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				files = append(files, p)
			}
			return nil
		})
		if len(files) != 0 {
			t.Errorf("%s holds %v after a failed Put, want nothing", sub, files)
		}
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func TestOpenMissingBlob(t *testing.T) {
	d := newDir(t)
	ref := store.Ref{Kind: store.KindSnapshot, Hash: sha([]byte("never stored")), Size: 12}

	_, err := d.Open(ref)

	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open error = %v, want ErrNotFound", err)
	}
}

func TestOpenDetectsCorruption(t *testing.T) {
	d := newDir(t)
	ref, err := d.Put(store.KindManifest, strings.NewReader("original content"))
	if err != nil {
		t.Fatal(err)
	}
	path, err := d.Path(ref)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("modified content"), 0o644); err != nil {
		t.Fatal(err)
	}

	rc, err := d.Open(ref)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	_, err = io.ReadAll(rc)

	if !errors.Is(err, store.ErrCorrupt) {
		t.Errorf("reading a modified blob: error = %v, want ErrCorrupt", err)
	}
}

func TestInvalidRefsRejected(t *testing.T) {
	d := newDir(t)
	tests := []struct {
		name string
		ref  store.Ref
	}{
		{"empty hash", store.Ref{Kind: store.KindManifest}},
		{"path in hash", store.Ref{Kind: store.KindManifest, Hash: "../../etc/passwd"}},
		{"uppercase hash", store.Ref{Kind: store.KindManifest, Hash: strings.Repeat("A", 64)}},
		{"path in kind", store.Ref{Kind: "../x", Hash: strings.Repeat("a", 64)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := d.Open(tt.ref); err == nil {
				t.Error("Open accepted the ref")
			}
			if err := d.SetLatest(store.KindManifest, tt.ref); err == nil {
				t.Error("SetLatest accepted the ref")
			}
		})
	}
	if _, err := d.Put("Bad Kind", strings.NewReader("x")); err == nil {
		t.Error("Put accepted kind \"Bad Kind\"")
	}
}

func TestLatest(t *testing.T) {
	d := newDir(t)

	if _, err := d.Latest(store.KindSnapshot); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Latest before any SetLatest: error = %v, want ErrNotFound", err)
	}

	first, err := d.Put(store.KindSnapshot, strings.NewReader("first"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := d.Put(store.KindSnapshot, strings.NewReader("second"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range []store.Ref{first, second} {
		if err := d.SetLatest(store.KindSnapshot, ref); err != nil {
			t.Fatal(err)
		}
		got, err := d.Latest(store.KindSnapshot)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(ref, got); diff != "" {
			t.Errorf("Latest (-want +got):\n%s", diff)
		}
	}

	if _, err := d.Latest(store.KindManifest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Latest of another kind: error = %v, want ErrNotFound", err)
	}
}

func TestSetLatestRequiresStoredBlob(t *testing.T) {
	d := newDir(t)
	missing := store.Ref{Kind: store.KindManifest, Hash: sha([]byte("absent")), Size: 6}

	err := d.SetLatest(store.KindManifest, missing)

	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetLatest of a missing blob: error = %v, want ErrNotFound", err)
	}
	if _, err := d.Latest(store.KindManifest); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Latest after a rejected SetLatest: error = %v, want ErrNotFound", err)
	}
}

func TestStoreSurvivesReopen(t *testing.T) {
	root := t.TempDir()
	d, err := store.New(root)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := d.Put(store.KindManifest, strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetLatest(store.KindManifest, ref); err != nil {
		t.Fatal(err)
	}

	reopened, err := store.New(root)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Latest(store.KindManifest)
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(ref, got); diff != "" {
		t.Errorf("Latest after reopening (-want +got):\n%s", diff)
	}
	if data := readAll(t, reopened, got); string(data) != "kept" {
		t.Errorf("read %q after reopening, want %q", data, "kept")
	}
}

// payload returns writer i's content: the shared part is the same for every
// writer, so concurrent writers race on the same blob name.
func payload(shared bool, i int) []byte {
	if shared {
		return bytes.Repeat([]byte("shared manifest content\n"), 40000)
	}
	return bytes.Repeat([]byte(fmt.Sprintf("writer %d content\n", i)), 40000)
}

// writeMany puts the shared payload and a payload of its own n times, setting
// the latest pointer after each, and returns the first error.
func writeMany(s store.Store, writer, n int) error {
	for range n {
		for _, shared := range []bool{true, false} {
			ref, err := s.Put(store.KindManifest, bytes.NewReader(payload(shared, writer)))
			if err != nil {
				return err
			}
			if err := s.SetLatest(store.KindManifest, ref); err != nil {
				return err
			}
			if _, err := s.Latest(store.KindManifest); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkAfterWriters(t *testing.T, s store.Store, writers int) {
	t.Helper()
	for i := range writers {
		for _, shared := range []bool{true, false} {
			data := payload(shared, i)
			ref := store.Ref{Kind: store.KindManifest, Hash: sha(data), Size: int64(len(data))}
			if got := readAll(t, s, ref); !bytes.Equal(got, data) {
				t.Errorf("blob of writer %d (shared %v) reads back %d bytes, want %d", i, shared, len(got), len(data))
			}
		}
	}
	latest, err := s.Latest(store.KindManifest)
	if err != nil {
		t.Fatal(err)
	}
	readAll(t, s, latest)
}

func TestConcurrentWritersGoroutines(t *testing.T) {
	d := newDir(t)
	const writers = 8

	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- writeMany(d, i, 10)
		}()
	}
	wg.Wait()
	close(errs)

	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	checkAfterWriters(t, d, writers)
}

// TestConcurrentWritersProcesses runs writers in two processes, as two
// workers on one machine would, by starting this test binary again with
// STORE_TEST_WRITER set.
func TestConcurrentWritersProcesses(t *testing.T) {
	if os.Getenv("STORE_TEST_WRITER") != "" {
		t.Skip("running as a writer process")
	}
	root := t.TempDir()
	const writers = 2

	cmds := make([]*exec.Cmd, writers)
	outputs := make([]bytes.Buffer, writers)
	for i := range writers {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriterProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STORE_TEST_WRITER="+strconv.Itoa(i), "STORE_TEST_ROOT="+root)
		cmd.Stdout = &outputs[i]
		cmd.Stderr = &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("writer process %d: %v\n%s", i, err, outputs[i].String())
		}
	}

	d, err := store.New(root)
	if err != nil {
		t.Fatal(err)
	}
	checkAfterWriters(t, d, writers)
}

// TestWriterProcess is the body of one writer process of
// TestConcurrentWritersProcesses; it does nothing when run on its own.
func TestWriterProcess(t *testing.T) {
	writer := os.Getenv("STORE_TEST_WRITER")
	if writer == "" {
		t.Skip("only runs as a writer process")
	}
	i, err := strconv.Atoi(writer)
	if err != nil {
		t.Fatal(err)
	}
	d, err := store.New(os.Getenv("STORE_TEST_ROOT"))
	if err != nil {
		t.Fatal(err)
	}
	if err := writeMany(d, i, 20); err != nil {
		t.Fatal(err)
	}
}

func TestDelete(t *testing.T) {
	d := newDir(t)
	part, err := d.Put(store.KindSnapshotPart, strings.NewReader("chunk"))
	if err != nil {
		t.Fatal(err)
	}
	latest, err := d.Put(store.KindSnapshot, strings.NewReader("snapshot"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetLatest(store.KindSnapshot, latest); err != nil {
		t.Fatal(err)
	}

	if err := d.Delete(part); err != nil {
		t.Fatalf("Delete(part): %v", err)
	}
	if _, err := d.Open(part); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Open after Delete: error = %v, want ErrNotFound", err)
	}
	if err := d.Delete(part); err != nil {
		t.Errorf("deleting a missing blob: %v, want no error", err)
	}
	if err := d.Delete(latest); err == nil {
		t.Error("Delete removed the latest snapshot")
	}
	if got := readAll(t, d, latest); string(got) != "snapshot" {
		t.Errorf("latest snapshot reads %q after a refused Delete", got)
	}
}
