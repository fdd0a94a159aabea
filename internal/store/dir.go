package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// staleTempAge is the age after which New removes a temporary file. Only a
// process killed while writing leaves one behind; a live writer's file is
// modified with every write, so it never looks an hour old.
const staleTempAge = time.Hour

// Dir is a Store in a directory on a local disk:
//
//	blobs/<first two hex digits>/<hash>   the stored bytes
//	kinds/<kind>/<hash>                   an empty marker: the blob was put
//	                                      as this kind, last at its mtime
//	latest/<kind>.json                    the latest pointer of each kind
//	locks/<name>.lock                     lock files (see Lock)
//	tmp/                                  files being written
//
// Every file is written to tmp/ first and renamed into place, so a reader
// sees a whole file or none. Two processes that put the same bytes write two
// temporary files and rename both onto the same name, which leaves the same
// content. When two processes set the same latest pointer, the ref of the
// one that renamed last stays.
type Dir struct {
	root string
}

var _ Store = (*Dir)(nil)

// New returns the store kept in the directory root, creating it when
// missing, and removes temporary files left by writers that were killed.
func New(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("store directory is empty: set the state directory")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("resolving store directory %s: %w", root, err)
	}
	d := &Dir{root: abs}
	if err := d.makeDirs(); err != nil {
		return nil, err
	}
	d.removeStaleTemp()
	return d, nil
}

// makeDirs creates the store's subdirectories when missing.
func (d *Dir) makeDirs() error {
	for _, sub := range []string{"blobs", "kinds", "latest", "locks", "tmp"} {
		if err := os.MkdirAll(filepath.Join(d.root, sub), 0o755); err != nil {
			return fmt.Errorf("creating store directory: %w", err)
		}
	}
	return nil
}

// createTemp creates a file in tmp/. When the state directory was deleted
// under a running process, it creates the directories again and retries
// once, so that writes work again without a restart.
func (d *Dir) createTemp(pattern string) (*os.File, error) {
	f, err := os.CreateTemp(filepath.Join(d.root, "tmp"), pattern)
	if errors.Is(err, fs.ErrNotExist) {
		if err := d.makeDirs(); err != nil {
			return nil, err
		}
		f, err = os.CreateTemp(filepath.Join(d.root, "tmp"), pattern)
	}
	return f, err
}

// Root returns the absolute path of the store directory.
func (d *Dir) Root() string { return d.root }

// Put implements Store. It streams r through the hash into a temporary
// file, so the bytes are held in memory only a buffer at a time.
func (d *Dir) Put(kind string, r io.Reader) (Ref, error) {
	if err := validateKind(kind); err != nil {
		return Ref{}, err
	}
	tmp, err := d.createTemp("put-*")
	if err != nil {
		return Ref{}, fmt.Errorf("creating temporary blob: %w", err)
	}
	// Removing after a successful rename fails harmlessly.
	defer os.Remove(tmp.Name())

	h := sha256.New()
	size, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err != nil {
		tmp.Close()
		return Ref{}, fmt.Errorf("writing %s blob: %w", kind, err)
	}
	if err := finishFile(tmp); err != nil {
		return Ref{}, fmt.Errorf("writing %s blob: %w", kind, err)
	}

	ref := Ref{Kind: kind, Hash: hex.EncodeToString(h.Sum(nil)), Size: size}
	final := d.blobPath(ref)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return Ref{}, fmt.Errorf("creating blob directory: %w", err)
	}

	// The shared lock keeps Prune from deleting the blob between the
	// rename and the marker update, when Prune would still see the marker
	// of an earlier Put of the same bytes as old.
	unlock, err := d.lockBlocking(pruneLock, false)
	if err != nil {
		return Ref{}, fmt.Errorf("storing %s blob %s: %w", kind, ref.Hash, err)
	}
	defer unlock()
	if err := os.Rename(tmp.Name(), final); err != nil {
		return Ref{}, fmt.Errorf("storing %s blob %s: %w", kind, ref.Hash, err)
	}
	syncDir(filepath.Dir(final))
	if err := d.touchMarker(ref); err != nil {
		return Ref{}, fmt.Errorf("storing %s blob %s: %w", kind, ref.Hash, err)
	}
	return ref, nil
}

// Open implements Store.
func (d *Dir) Open(ref Ref) (io.ReadCloser, error) {
	if err := ref.Validate(); err != nil {
		return nil, err
	}
	f, err := os.Open(d.blobPath(ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", ref, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("opening blob %s: %w", ref, err)
	}
	return &verifyingReader{f: f, h: sha256.New(), ref: ref}, nil
}

// Path returns the file that holds ref's bytes, for readers that need a
// file name. The file must not be modified.
func (d *Dir) Path(ref Ref) (string, error) {
	if err := ref.Validate(); err != nil {
		return "", err
	}
	p := d.blobPath(ref)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("blob %s: %w", ref, ErrNotFound)
	} else if err != nil {
		return "", fmt.Errorf("checking blob %s: %w", ref, err)
	}
	return p, nil
}

// Delete implements Store. It refuses to delete a blob that a latest
// pointer names. It removes ref's kind marker, and the bytes only when no
// other kind was put with the same bytes.
func (d *Dir) Delete(ref Ref) error {
	if err := ref.Validate(); err != nil {
		return err
	}
	unlock, err := d.lockBlocking(pruneLock, true)
	if err != nil {
		return fmt.Errorf("deleting blob %s: %w", ref, err)
	}
	defer unlock()

	named, err := d.latestHashes()
	if err != nil {
		return fmt.Errorf("deleting blob %s: %w", ref, err)
	}
	if kind, ok := named[ref.Hash]; ok {
		return fmt.Errorf("deleting blob %s: it is the latest %s", ref, kind)
	}
	return d.deleteUnlocked(ref.Kind, ref.Hash)
}

// SetLatest implements Store.
func (d *Dir) SetLatest(kind string, ref Ref) error {
	if err := validateKind(kind); err != nil {
		return err
	}
	if err := ref.Validate(); err != nil {
		return err
	}
	// The pointer lock keeps this write from landing between the read and
	// the write of an AdvanceLatest.
	unlock, err := d.lockBlocking("latest_"+kind, true)
	if err != nil {
		return fmt.Errorf("setting latest %s: %w", kind, err)
	}
	defer unlock()
	return d.writePointer(kind, pointer{Ref: ref})
}

// Latest implements Store.
func (d *Dir) Latest(kind string) (Ref, error) {
	ref, _, err := d.LatestAt(kind)
	return ref, err
}

func (d *Dir) blobPath(ref Ref) string {
	return filepath.Join(d.root, "blobs", ref.Hash[:2], ref.Hash)
}

func (d *Dir) latestPath(kind string) string {
	return filepath.Join(d.root, "latest", kind+".json")
}

func (d *Dir) writeAtomic(path string, data []byte) error {
	tmp, err := d.createTemp("latest-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := finishFile(tmp); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}

// removeStaleTemp deletes temporary files old enough that no live writer
// owns them. Errors are ignored: a leftover file costs only disk space.
func (d *Dir) removeStaleTemp() {
	dir := filepath.Join(d.root, "tmp")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || time.Since(info.ModTime()) < staleTempAge {
			continue
		}
		if strings.HasPrefix(e.Name(), "put-") || strings.HasPrefix(e.Name(), "latest-") {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
}

// finishFile makes f readable by other workers, flushes it to disk and
// closes it.
func finishFile(f *os.File) error {
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// syncDir flushes a directory entry after a rename. It is best effort: some
// file systems do not support syncing directories.
func syncDir(dir string) {
	f, err := os.Open(dir)
	if err != nil {
		return
	}
	f.Sync()
	f.Close()
}

// verifyingReader hashes what it reads and checks the hash and size at the
// end of the file.
type verifyingReader struct {
	f    *os.File
	h    hash.Hash
	n    int64
	ref  Ref
	done bool
}

func (v *verifyingReader) Read(p []byte) (int, error) {
	n, err := v.f.Read(p)
	v.h.Write(p[:n])
	v.n += int64(n)
	if err == io.EOF && !v.done {
		v.done = true
		if v.n != v.ref.Size || hex.EncodeToString(v.h.Sum(nil)) != v.ref.Hash {
			return n, fmt.Errorf("blob %s: %w", v.ref, ErrCorrupt)
		}
	}
	return n, err
}

func (v *verifyingReader) Close() error { return v.f.Close() }
