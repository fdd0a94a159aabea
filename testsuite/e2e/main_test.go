package e2e

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/testsuite/devserver"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// suite is shared by every test of the package: one dev server and one
// build of each binary, because starting and building take most of the
// package's time.
var suite struct {
	repoRoot    string
	temporalCLI string
	server      *devserver.Server
	workerBin   string
	starterBin  string
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(runSuite(m))
}

func runSuite(m *testing.M) int {
	if testing.Short() {
		fmt.Fprintln(os.Stderr, "e2e: skipped in -short mode: these tests build binaries and start a Temporal dev server")
		return 0
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()

	root, err := devserver.RepoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	suite.repoRoot = root

	// The CLI build can take minutes on a fresh clone; the harness does it
	// once, for every later run.
	cli, err := devserver.EnsureCLI(ctx, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	suite.temporalCLI = cli

	binDir, err := os.MkdirTemp("", "autoexposures-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(binDir)
	suite.workerBin = filepath.Join(binDir, "worker")
	suite.starterBin = filepath.Join(binDir, "starter")
	for pkg, out := range map[string]string{"./worker": suite.workerBin, "./starter": suite.starterBin} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", out, pkg)
		cmd.Dir = root
		if output, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "e2e: go build %s: %v\n%s", pkg, err, output)
			return 1
		}
	}

	srv, err := devserver.Start(ctx, devserver.Options{CLIPath: cli, Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer srv.Stop()
	suite.server = srv

	return m.Run()
}
