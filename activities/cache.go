package activities

import (
	"fmt"
	"io"
	"sync"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// decodeCache keeps the last manifest and snapshot decoded, by hash. A
// post-job run reads its manifest twice (to check it, then to compute) and
// a large manifest takes seconds to decode. Callers must not modify what
// it returns.
type decodeCache struct {
	mu           sync.Mutex
	manifestHash string
	manifest     *dbt.Manifest
	snapshotHash string
	snapshot     *tableau.Snapshot
}

// manifest decodes the stored manifest ref names; name is how errors call
// the file.
func (a *Activities) manifest(ref store.Ref, name string) (*dbt.Manifest, error) {
	c := &a.cache
	c.mu.Lock()
	if c.manifestHash == ref.Hash && c.manifest != nil {
		m := c.manifest
		c.mu.Unlock()
		return m, nil
	}
	c.mu.Unlock()

	rc, err := a.Store.Open(ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	m, err := dbt.ReadManifest(rc, name)
	if err != nil {
		return nil, err
	}
	// Read to the end so that the store checks the hash.
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	}

	c.mu.Lock()
	c.manifestHash, c.manifest = ref.Hash, m
	c.mu.Unlock()
	return m, nil
}

// runResults decodes the stored run results ref names.
func (a *Activities) runResults(ref store.Ref, name string) (*dbt.RunResults, error) {
	rc, err := a.Store.Open(ref)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	rr, err := dbt.ReadRunResults(rc, name)
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(io.Discard, rc); err != nil {
		return nil, err
	}
	return rr, nil
}

// snapshot decodes the stored Tableau snapshot ref names.
func (a *Activities) snapshot(ref store.Ref) (*tableau.Snapshot, error) {
	c := &a.cache
	c.mu.Lock()
	if c.snapshotHash == ref.Hash && c.snapshot != nil {
		s := c.snapshot
		c.mu.Unlock()
		return s, nil
	}
	c.mu.Unlock()

	var s tableau.Snapshot
	if err := a.getJSON(ref, &s); err != nil {
		return nil, err
	}
	if s.FormatVersion > tableau.SnapshotFormatVersion {
		return nil, fmt.Errorf("snapshot %s has format version %d, newer than this worker's %d: upgrade the worker", ref.Short(), s.FormatVersion, tableau.SnapshotFormatVersion)
	}

	c.mu.Lock()
	c.snapshotHash, c.snapshot = ref.Hash, &s
	c.mu.Unlock()
	return &s, nil
}
