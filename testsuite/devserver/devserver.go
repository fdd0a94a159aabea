package devserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
)

// CLIModule is the Temporal CLI that the harness installs. v1.5.1 is the
// newest release that `go install` accepts, because later ones carry a
// replace directive in their go.mod.
const CLIModule = "github.com/temporalio/cli/cmd/temporal@v1.5.1"

// Options configures a dev server. The zero value runs a headless server on
// free loopback ports with its state in a new temporary directory.
type Options struct {
	// CLIPath is the temporal binary; empty means <repository>/bin/temporal,
	// installed when missing.
	CLIPath string
	// StateDir holds temporal.db. Empty means a temporary directory that Stop
	// removes.
	StateDir string
	// Port is the frontend gRPC port and UIPort the Web UI port; 0 picks a
	// free port.
	Port   int
	UIPort int
	// UI serves the Web UI; without it the server runs headless.
	UI bool
	// Namespaces are created at start besides "default".
	Namespaces []string
	// Output receives the server's own log (warnings and errors); nil
	// discards it.
	Output io.Writer
	// StartTimeout bounds the wait for the server to respond; 0 means 60s.
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// Server is a running dev server.
type Server struct {
	// Address is the frontend's host:port, the value for TEMPORAL_ADDRESS.
	Address string
	// UIURL is the Web UI's address, empty when headless.
	UIURL string
	// DBPath is the SQLite file that holds the server's state.
	DBPath string

	cmd      *exec.Cmd
	done     chan struct{}
	waitErr  error
	tempDir  string
	stopOnce sync.Once
	stopErr  error
	logger   *slog.Logger
	// tail keeps the end of the server's output for start errors.
	tail tailBuffer
}

// Start runs a dev server and returns once it passes health checks and
// the default namespace is ready.
func Start(ctx context.Context, opts Options) (*Server, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	cli := opts.CLIPath
	if cli == "" {
		var err error
		cli, err = EnsureCLI(ctx, logger)
		if err != nil {
			return nil, err
		}
	}

	s := &Server{done: make(chan struct{}), logger: logger}
	stateDir := opts.StateDir
	if stateDir == "" {
		dir, err := os.MkdirTemp("", "autoexposures-devserver-")
		if err != nil {
			return nil, fmt.Errorf("creating dev server state directory: %w", err)
		}
		stateDir = dir
		s.tempDir = dir
	}
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating dev server state directory: %w", err)
	}
	s.DBPath = filepath.Join(stateDir, "temporal.db")

	port, err := portOrFree(opts.Port)
	if err != nil {
		return nil, err
	}
	args := []string{
		"server", "start-dev",
		"--ip", "127.0.0.1",
		"--port", strconv.Itoa(port),
		"--db-filename", s.DBPath,
		"--log-level", "warn",
	}
	if opts.UI {
		uiPort, err := portOrFree(opts.UIPort)
		if err != nil {
			return nil, err
		}
		args = append(args, "--ui-port", strconv.Itoa(uiPort))
		s.UIURL = fmt.Sprintf("http://127.0.0.1:%d", uiPort)
	} else {
		args = append(args, "--headless")
	}
	for _, ns := range opts.Namespaces {
		args = append(args, "--namespace", ns)
	}
	s.Address = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))

	var out io.Writer = &s.tail
	if opts.Output != nil {
		out = io.MultiWriter(opts.Output, &s.tail)
	}
	// The server does not inherit ctx: it lives until Stop, not until the
	// start request ends.
	s.cmd = exec.Command(cli, args...)
	s.cmd.Stdout = out
	s.cmd.Stderr = out
	// A process group of its own keeps a Ctrl-C in the terminal from
	// reaching the server before the caller has stopped its workers.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		s.cleanup()
		return nil, fmt.Errorf("starting %s: %w", cli, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.done)
	}()
	logger.Info("dev server starting", "address", s.Address, "ui_url", s.UIURL, "db_path", s.DBPath, "pid", s.cmd.Process.Pid)

	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	if err := s.waitReady(ctx, timeout); err != nil {
		_ = s.Stop()
		return nil, err
	}
	logger.Info("dev server ready", "address", s.Address)
	return s, nil
}

// waitReady polls the frontend until it responds and the default namespace
// can be described, which is when workflows can start.
func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var lastErr error
	for {
		select {
		case <-s.done:
			return fmt.Errorf("dev server at %s exited before it was ready (%v); its last output:\n%s", s.Address, s.waitErr, s.tail.String())
		default:
		}

		lastErr = s.ping(ctx)
		if lastErr == nil {
			return nil
		}

		select {
		case <-ctx.Done():
			return fmt.Errorf("dev server at %s did not respond within %s: %w", s.Address, timeout, lastErr)
		case <-s.done:
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *Server) ping(ctx context.Context) error {
	c, err := client.Dial(client.Options{
		HostPort:  s.Address,
		Namespace: "default",
		Logger:    sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		return err
	}
	defer c.Close()

	callCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if _, err := c.CheckHealth(callCtx, &client.CheckHealthRequest{}); err != nil {
		return err
	}
	_, err = c.WorkflowService().DescribeNamespace(callCtx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
	return err
}

// Stop ends the server: SIGTERM, then SIGKILL after ten seconds. It removes
// the state directory when Start created it. Calling Stop again returns the
// first result.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.stopErr = s.stop()
		s.cleanup()
	})
	return s.stopErr
}

func (s *Server) stop() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	select {
	case <-s.done:
		return nil
	default:
	}

	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		s.logger.Info("dev server stopped", "address", s.Address)
		return nil
	case <-time.After(10 * time.Second):
	}

	s.logger.Warn("dev server ignored SIGTERM; killing it", "address", s.Address, "pid", s.cmd.Process.Pid)
	if err := s.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("killing dev server: %w", err)
	}
	<-s.done
	return nil
}

func (s *Server) cleanup() {
	if s.tempDir != "" {
		_ = os.RemoveAll(s.tempDir)
	}
}

// Done is closed when the server process exits, for callers that must
// notice a crash.
func (s *Server) Done() <-chan struct{} {
	return s.done
}

// portOrFree returns port, or a free loopback port when port is 0. The port
// is released before the server binds it, so another process could take it
// in between. Start then fails with the server's last output, which names
// the busy address.
func portOrFree(port int) (int, error) {
	if port != 0 {
		return port, nil
	}
	return FreePort()
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("finding a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// PortFree reports whether port can be bound on 127.0.0.1 now.
func PortFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct {
	mu   sync.Mutex
	data []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.data = append(b.data, p...)
	if excess := len(b.data) - 4096; excess > 0 {
		b.data = b.data[excess:]
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.data)
}
