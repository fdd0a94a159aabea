package devserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// modulePath identifies this repository's go.mod when RepoRoot walks up.
const modulePath = "github.com/autoexposures/autoexposures"

// RepoRoot returns the repository's root: the nearest directory at or above
// the working directory whose go.mod declares this module.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("finding the repository root: %w", err)
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && declaresModule(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod for module %s at or above the working directory; run from inside the repository", modulePath)
		}
		dir = parent
	}
}

func declaresModule(goMod []byte) bool {
	for line := range bytes.Lines(goMod) {
		fields := strings.Fields(string(line))
		if len(fields) == 2 && fields[0] == "module" && fields[1] == modulePath {
			return true
		}
	}
	return false
}

// CLIPath returns where the Temporal CLI lives: <repository>/bin/temporal.
func CLIPath() (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "bin", "temporal"), nil
}

// EnsureCLI returns the path of <repository>/bin/temporal, building it with
// `go install` first when it is missing. Outside the repository it returns
// the temporal found on PATH. A lock file in bin/ makes
// concurrent callers (test packages run in parallel) wait for one build.
func EnsureCLI(ctx context.Context, logger *slog.Logger) (string, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	path, err := CLIPath()
	if err != nil {
		// Outside the repository (an installed starter binary), a temporal
		// on PATH will do.
		if onPath, lookErr := exec.LookPath("temporal"); lookErr == nil {
			return onPath, nil
		}
		return "", fmt.Errorf("%w; or put the Temporal CLI on PATH", err)
	}
	if isExecutable(path) {
		return path, nil
	}

	binDir := filepath.Dir(path)
	if err := os.MkdirAll(binDir, 0o755); err != nil {
		return "", fmt.Errorf("creating %s: %w", binDir, err)
	}
	unlock, err := lockFile(filepath.Join(binDir, ".temporal-install.lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	// Another process may have finished the build while this one waited.
	if isExecutable(path) {
		return path, nil
	}

	logger.Info("installing the Temporal CLI; the first build takes a few minutes", "module", CLIModule, "gobin", binDir)
	cmd := exec.CommandContext(ctx, "go", "install", CLIModule)
	cmd.Env = append(os.Environ(), "GOBIN="+binDir)
	var output bytes.Buffer
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("installing the Temporal CLI with GOBIN=%s go install %s: %w\n%s", binDir, CLIModule, err, output.String())
	}
	if !isExecutable(path) {
		return "", fmt.Errorf("go install %s finished but %s is missing", CLIModule, path)
	}
	logger.Info("installed the Temporal CLI", "path", path)
	return path, nil
}

func isExecutable(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular() && info.Mode().Perm()&0o111 != 0
}

// lockFile takes an exclusive advisory lock on path and returns its release.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("opening lock file %s: %w", path, err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
