package devserver_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"github.com/autoexposures/autoexposures/testsuite/devserver"
)

func TestStartKeepsStateAcrossRestarts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	stateDir := t.TempDir()

	srv, err := devserver.Start(ctx, devserver.Options{StateDir: stateDir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	c := dial(t, srv.Address)
	// No worker polls this queue, so the workflow stays open and is still
	// there after the restart only if the SQLite file kept it.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        "devserver-persistence",
		TaskQueue: "devserver-test-no-worker",
	}, "NoSuchWorkflow")
	if err != nil {
		t.Fatalf("ExecuteWorkflow: %v", err)
	}
	c.Close()
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}

	srv, err = devserver.Start(ctx, devserver.Options{StateDir: stateDir})
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer srv.Stop()
	c = dial(t, srv.Address)
	defer c.Close()
	desc, err := c.DescribeWorkflowExecution(ctx, "devserver-persistence", "")
	if err != nil {
		t.Fatalf("DescribeWorkflowExecution after restart: %v", err)
	}
	if got, want := desc.GetWorkflowExecutionInfo().GetExecution().GetRunId(), run.GetRunID(); got != want {
		t.Errorf("run ID after restart = %q, want %q", got, want)
	}
}

func TestStartServesUI(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	srv, err := devserver.Start(ctx, devserver.Options{UI: true})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer srv.Stop()

	if srv.UIURL == "" {
		t.Fatal("UIURL is empty with UI set")
	}
	// The UI may come up a moment after the frontend is ready.
	var lastErr error
	for range 50 {
		resp, err := http.Get(srv.UIURL)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			lastErr = nil
			t.Logf("GET %s: %s", srv.UIURL, resp.Status)
		} else {
			lastErr = err
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("Web UI at %s did not answer 200: %v", srv.UIURL, lastErr)
}

func TestStopTwice(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	srv, err := devserver.Start(ctx, devserver.Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("first Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	select {
	case <-srv.Done():
	default:
		t.Fatal("server process still running after Stop")
	}
}

func TestRepoRootHoldsGoMod(t *testing.T) {
	root, err := devserver.RepoRoot()
	if err != nil {
		t.Fatalf("RepoRoot: %v", err)
	}
	path, err := devserver.CLIPath()
	if err != nil {
		t.Fatalf("CLIPath: %v", err)
	}
	if want := root + "/bin/temporal"; path != want {
		t.Errorf("CLIPath() = %q, want %q", path, want)
	}
}

func dial(t *testing.T, address string) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{
		HostPort: address,
		Logger:   sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		t.Fatalf("dialing %s: %v", address, err)
	}
	return c
}
