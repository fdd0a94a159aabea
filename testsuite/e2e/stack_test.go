package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// stack is one test's product: its own task queue, state directory and
// exposures file, a simulator, and worker processes started on demand.
// Tests share only the dev server.
type stack struct {
	t         testing.TB
	dir       string
	taskQueue string
	// suffix makes the stack's run IDs unique in the namespace.
	suffix string
	// exposuresFile is where the worker writes the YAML.
	exposuresFile string
	stateDir      string
	// env is the environment of the worker and starter processes.
	env []string

	mu      sync.Mutex
	workers []*workerProcess
}

// stackConfig is what a test sets on top of the defaults.
type stackConfig struct {
	tableauURL  string
	tableauSite string
	tokenName   string
	tokenSecret string
	// extraEnv holds NAME=value pairs added after the defaults.
	extraEnv []string
}

var unsafeQueueChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func newStack(t testing.TB, cfg stackConfig) *stack {
	t.Helper()
	dir := t.TempDir()
	// Workflow and schedule IDs live in the dev server's one namespace,
	// which outlives a test with -count, so every stack gets its own.
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		t.Fatal(err)
	}

	s := &stack{
		t:             t,
		dir:           dir,
		suffix:        hex.EncodeToString(suffix),
		taskQueue:     "e2e-" + unsafeQueueChars.ReplaceAllString(t.Name(), "-") + "-" + hex.EncodeToString(suffix),
		exposuresFile: filepath.Join(dir, "out", "tableau_exposures.yml"),
		stateDir:      filepath.Join(dir, "state"),
	}

	// The processes get a clean environment, so a developer's own
	// TEMPORAL_* or TABLEAU_* variables never reach a test.
	s.env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"TEMPORAL_ADDRESS=" + suite.server.Address,
		"TEMPORAL_NAMESPACE=default",
		"AUTOEXPOSURES_TASK_QUEUE=" + s.taskQueue,
		"AUTOEXPOSURES_SCHEDULE_ID=" + s.taskQueue + "-schedule",
		"AUTOEXPOSURES_STATE_DIR=" + s.stateDir,
		"AUTOEXPOSURES_EXPOSURES_FILE=" + s.exposuresFile,
		"TABLEAU_SERVER_URL=" + cfg.tableauURL,
		"TABLEAU_SITE=" + cfg.tableauSite,
		"TABLEAU_TOKEN_NAME=" + cfg.tokenName,
		"TABLEAU_TOKEN_SECRET=" + cfg.tokenSecret,
	}
	s.env = append(s.env, cfg.extraEnv...)

	t.Cleanup(s.stopWorkers)
	return s
}

// runID returns a dbt run ID for this stack: base with the stack's suffix.
func (s *stack) runID(base string) string { return base + "-" + s.suffix }

// workerProcess is a worker started from the built binary.
type workerProcess struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	waitErr error
}

// startWorker starts a worker process whose output goes to a log file in
// the test's directory, and waits until it polls the task queue.
func (s *stack) startWorker() *workerProcess {
	s.t.Helper()
	s.mu.Lock()
	n := len(s.workers) + 1
	s.mu.Unlock()

	logPath := filepath.Join(s.dir, fmt.Sprintf("worker-%d.log", n))
	logFile, err := os.Create(logPath)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := exec.Command(suite.workerBin)
	cmd.Env = s.env
	cmd.Dir = s.dir
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		s.t.Fatalf("starting worker: %v", err)
	}
	w := &workerProcess{cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		w.waitErr = cmd.Wait()
		logFile.Close()
		close(w.done)
	}()
	s.mu.Lock()
	s.workers = append(s.workers, w)
	s.mu.Unlock()

	s.waitForPoller(w)
	return w
}

// waitForPoller runs `starter health` until it succeeds, which is when the
// worker polls the task queue.
func (s *stack) waitForPoller(w *workerProcess) {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-w.done:
			s.t.Fatalf("worker exited before polling (%v); log:\n%s", w.waitErr, readFile(s.t, w.logPath))
		default:
		}
		res := s.starter(context.Background(), "health", "--max-age", "10s")
		if res.code == 0 {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("worker did not poll task queue %s within 60s: %s\nworker log:\n%s", s.taskQueue, res.stderr, readFile(s.t, w.logPath))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// kill ends the worker with SIGKILL, the way a crash or an OOM kill ends
// it: no graceful shutdown, no heartbeat flushed.
func (w *workerProcess) kill(t testing.TB) {
	t.Helper()
	if err := w.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatalf("killing worker: %v", err)
	}
	<-w.done
}

// stop ends the worker with SIGTERM and waits for its graceful shutdown.
func (w *workerProcess) stop() {
	select {
	case <-w.done:
		return
	default:
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.done
	}
}

func (s *stack) stopWorkers() {
	s.mu.Lock()
	workers := s.workers
	s.mu.Unlock()
	for _, w := range workers {
		w.stop()
	}
}

// workerLogs returns the logs of every worker this stack started.
func (s *stack) workerLogs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, w := range s.workers {
		data, _ := os.ReadFile(w.logPath)
		b.Write(data)
	}
	return b.String()
}

// result is the outcome of one starter run.
type result struct {
	stdout, stderr string
	code           int
}

// starter runs the starter binary with the stack's environment, in the
// test's directory.
func (s *stack) starter(ctx context.Context, args ...string) result {
	s.t.Helper()
	return s.starterIn(ctx, s.dir, args...)
}

// starterIn runs the starter binary with the stack's environment in dir.
func (s *stack) starterIn(ctx context.Context, dir string, args ...string) result {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	cmd := exec.CommandContext(ctx, suite.starterBin, args...)
	cmd.Env = s.env
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()

	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	default:
		s.t.Fatalf("running starter %s: %v", strings.Join(args, " "), err)
	}
	return res
}

// mustStarter runs the starter and fails the test unless it exits 0.
func (s *stack) mustStarter(ctx context.Context, args ...string) result {
	s.t.Helper()
	res := s.starter(ctx, args...)
	if res.code != 0 {
		s.t.Fatalf("starter %s exited %d\nstdout:\n%s\nstderr:\n%s\nworker logs:\n%s",
			strings.Join(args, " "), res.code, res.stdout, res.stderr, s.workerLogs())
	}
	return res
}

// history returns a workflow's history as the Temporal CLI prints it with
// --output json, which is what operators and the Web UI get.
func (s *stack) history(ctx context.Context, workflowID string) string {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, suite.temporalCLI, "workflow", "show",
		"--address", suite.server.Address, "--namespace", "default",
		"--workflow-id", workflowID, "--output", "json")
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("temporal workflow show %s: %v\n%s", workflowID, err, out)
	}
	return string(out)
}

// historyPayloads returns a workflow's history like history does, with
// each base64 payload followed by its decoded text, so tests can read
// activity inputs and results.
func (s *stack) historyPayloads(ctx context.Context, workflowID string) string {
	s.t.Helper()
	return decodePayloads(s.history(ctx, workflowID))
}

// payloadData matches the base64 payloads in the CLI's JSON output.
var payloadData = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

func decodePayloads(text string) string {
	for _, m := range payloadData.FindAllStringSubmatch(text, -1) {
		if decoded, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			text += "\n" + string(decoded)
		}
	}
	return text
}

// workflowIDs lists the IDs of the workflows on the stack's task queue.
func (s *stack) workflowIDs(ctx context.Context) []string {
	s.t.Helper()
	cmd := exec.CommandContext(ctx, suite.temporalCLI, "workflow", "list",
		"--address", suite.server.Address, "--namespace", "default",
		"--query", fmt.Sprintf("TaskQueue = %q", s.taskQueue), "--output", "jsonl")
	cmd.Env = s.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("temporal workflow list: %v\n%s", err, out)
	}
	var ids []string
	for _, m := range workflowIDPattern.FindAllStringSubmatch(string(out), -1) {
		ids = append(ids, m[1])
	}
	return ids
}

var workflowIDPattern = regexp.MustCompile(`"workflowId":\s*"([^"]+)"`)

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return string(data)
}

// waitFor polls cond every 10ms until it is true or timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
