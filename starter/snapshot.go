package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/sethvargo/go-envconfig"

	"github.com/autoexposures/autoexposures/internal/store"
)

// snapshotEnv is the worker setting that locates the store.
type snapshotEnv struct {
	StateDir string `env:"AUTOEXPOSURES_STATE_DIR, default=.state"`
}

// runSnapshot copies the latest Tableau snapshot out of the worker's state
// directory, as input for preview. It runs where that directory is
// readable, usually on the worker's machine or in its container.
func runSnapshot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("snapshot", "snapshot --out FILE [--state-dir DIR]", stderr)
	out := fs.String("out", "", "file to write the latest snapshot's JSON to (required)")
	stateDir := fs.String("state-dir", "", "the worker's state directory (default AUTOEXPOSURES_STATE_DIR, else .state)")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *out == "" {
		return usageError(fs, "--out is required: name the file to write the snapshot to")
	}
	dir := *stateDir
	if dir == "" {
		var env snapshotEnv
		if err := envconfig.Process(ctx, &env); err != nil {
			fmt.Fprintf(stderr, "starter snapshot: reading AUTOEXPOSURES_STATE_DIR: %v\n", err)
			return exitFailure
		}
		dir = env.StateDir
	}

	ref, err := copyLatestSnapshot(dir, *out)
	if err != nil {
		fmt.Fprintf(stderr, "starter snapshot: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Wrote snapshot %s (%d bytes) to %s.\n", ref.Short(), ref.Size, *out)
	return exitOK
}

// copyLatestSnapshot writes the latest snapshot of the store in dir to
// out, through a temporary file so that out is never half written.
func copyLatestSnapshot(dir, out string) (store.Ref, error) {
	// store.New creates a missing directory, which here would hide a wrong
	// path behind "no snapshot yet".
	if info, err := os.Stat(filepath.Join(dir, "blobs")); err != nil || !info.IsDir() {
		return store.Ref{}, fmt.Errorf("%s is not a state directory (it has no blobs/): pass the worker's AUTOEXPOSURES_STATE_DIR with --state-dir", dir)
	}
	st, err := store.New(dir)
	if err != nil {
		return store.Ref{}, err
	}
	ref, err := st.Latest(store.KindSnapshot)
	if errors.Is(err, store.ErrNotFound) {
		return ref, fmt.Errorf("state directory %s has no snapshot yet: run starter sync first", dir)
	}
	if err != nil {
		return ref, fmt.Errorf("finding the latest snapshot: %w", err)
	}
	r, err := st.Open(ref)
	if err != nil {
		return ref, fmt.Errorf("opening snapshot %s: %w", ref.Short(), err)
	}
	defer r.Close()

	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return ref, fmt.Errorf("writing %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, r); err != nil {
		tmp.Close()
		return ref, fmt.Errorf("copying snapshot %s to %s: %w", ref.Short(), out, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return ref, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return ref, fmt.Errorf("writing %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return ref, fmt.Errorf("writing %s: %w", out, err)
	}
	return ref, nil
}
