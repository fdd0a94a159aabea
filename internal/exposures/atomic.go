package exposures

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// WriteFileAtomic writes data to path so that readers see the old file or
// the new one, never a part: it writes a temporary file in the same
// directory, syncs it, renames it over path and syncs the directory. When
// path already holds exactly data, it leaves the file untouched (same
// modification time) and returns changed false. Either way it first removes
// temporary files of path that a killed writer left (see removeStaleTemps).
func WriteFileAtomic(path string, data []byte) (changed bool, err error) {
	removeStaleTemps(path, time.Now())
	if same, err := sameContent(path, data); err != nil {
		return false, err
	} else if same {
		return false, nil
	}

	dir := filepath.Dir(path)
	perm := fs.FileMode(0o644)
	if info, err := os.Stat(path); err == nil {
		perm = info.Mode().Perm()
	}

	tmp, err := createTemp(path, perm)
	if err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	// Remove the temporary file on any failure below; after the rename it
	// no longer exists under that name.
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()

	if _, err = tmp.Write(data); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		_ = tmp.Close()
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("writing %s: %w", path, err)
	}
	if err = syncDir(dir); err != nil {
		return true, fmt.Errorf("writing %s: %w", path, err)
	}
	return true, nil
}

// staleTempAge is the age after which a temporary file of the same output is
// taken as left by a killed writer. A live writer finishes an output of a few
// megabytes within seconds (an estimate), so a file this old belongs to no one.
const staleTempAge = 10 * time.Minute

// tempPrefix returns the name prefix of path's temporary files. The leading
// dot hides them from directory listings and globs such as *.yml.
func tempPrefix(path string) string {
	return "." + filepath.Base(path) + ".tmp-"
}

// createTemp creates a new temporary file next to path with the final file's
// mode, so that a file left by a crash is no more private or public than the
// output. It sets the mode again after creation because the umask may narrow it.
func createTemp(path string, perm fs.FileMode) (*os.File, error) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	for range 100 {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := f.Chmod(perm); err != nil {
			_ = f.Close()
			_ = os.Remove(name)
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("creating a temporary file in %s: too many name collisions", dir)
}

// removeStaleTemps removes temporary files of path that a killed writer left
// behind. Only files older than staleTempAge are removed, so another process's
// write in progress is left alone. Errors are ignored because a leftover
// file costs only disk space.
func removeStaleTemps(path string, now time.Time) {
	dir, prefix := filepath.Dir(path), tempPrefix(path)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) || !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil || now.Sub(info.ModTime()) < staleTempAge {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}

// sameContent reports whether the file at path holds exactly data. A
// missing file differs.
func sameContent(path string, data []byte) (bool, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()

	info, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return false, fmt.Errorf("writing %s: not a regular file", path)
	}
	if info.Size() != int64(len(data)) {
		return false, nil
	}
	existing, err := io.ReadAll(f)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", path, err)
	}
	return bytes.Equal(existing, data), nil
}

// syncDir makes a rename in dir durable. Some file systems do not support
// syncing a directory; that is not an error for the caller.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) && !errors.Is(err, fs.ErrPermission) {
		return err
	}
	return nil
}
