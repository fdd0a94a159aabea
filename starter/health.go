package main

import (
	"context"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
)

// runHealth exits 0 when a worker polled the task queue for workflow tasks
// recently, so a container health check or a monitor can tell that a
// worker is up and connected.
func runHealth(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("health", "health [--max-age DURATION]", stderr)
	maxAge := fs.Duration("max-age", 2*time.Minute, "how recent the last poll must be")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *maxAge <= 0 {
		return usageError(fs, "--max-age=%s must be positive", *maxAge)
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter health: %v\n", err)
		return exitFailure
	}
	defer conn.Close()

	poller, age, err := recentPoller(ctx, conn, *maxAge)
	if err != nil {
		fmt.Fprintf(stderr, "starter health: %v\n", err)
		return exitFailure
	}
	if poller == "" {
		fmt.Fprintf(stderr, "starter health: no worker polled task queue %s in the last %s; start one with go run ./worker\n", conn.env.TaskQueue, *maxAge)
		return exitFailure
	}
	fmt.Fprintf(stdout, "ok: worker %s polled task queue %s %s ago\n", poller, conn.env.TaskQueue, age.Round(time.Second))
	return exitOK
}

// recentPoller returns the identity of a worker that polled the task queue
// for workflow tasks within maxAge and how long ago, or "" when none did.
func recentPoller(ctx context.Context, conn *connection, maxAge time.Duration) (string, time.Duration, error) {
	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := conn.client.DescribeTaskQueue(callCtx, conn.env.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		return "", 0, fmt.Errorf("describing task queue %s: %w", conn.env.TaskQueue, err)
	}
	now := time.Now()
	for _, p := range resp.GetPollers() {
		if age := now.Sub(p.GetLastAccessTime().AsTime()); age <= maxAge {
			return p.GetIdentity(), age, nil
		}
	}
	return "", 0, nil
}

// warnIfNoWorker prints a warning when no worker polled the task queue in
// the last two minutes, because a workflow started now would wait for one.
// A failed check is only reported: the start itself may still work.
func warnIfNoWorker(ctx context.Context, conn *connection, command string, stderr io.Writer) {
	const maxAge = 2 * time.Minute
	poller, _, err := recentPoller(ctx, conn, maxAge)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "starter %s: warning: could not check for a worker: %v\n", command, err)
	case poller == "":
		fmt.Fprintf(stderr, "starter %s: warning: no worker polled task queue %s in the last %s; the workflow waits until one runs (go run ./worker)\n", command, conn.env.TaskQueue, maxAge)
	}
}
