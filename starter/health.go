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

	callCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	resp, err := conn.client.DescribeTaskQueue(callCtx, conn.env.TaskQueue, enumspb.TASK_QUEUE_TYPE_WORKFLOW)
	if err != nil {
		fmt.Fprintf(stderr, "starter health: describing task queue %s: %v\n", conn.env.TaskQueue, err)
		return exitFailure
	}

	now := time.Now()
	for _, p := range resp.GetPollers() {
		if last := p.GetLastAccessTime().AsTime(); now.Sub(last) <= *maxAge {
			fmt.Fprintf(stdout, "ok: worker %s polled task queue %s %s ago\n", p.GetIdentity(), conn.env.TaskQueue, now.Sub(last).Round(time.Second))
			return exitOK
		}
	}
	fmt.Fprintf(stderr, "starter health: no worker polled task queue %s in the last %s; start one with go run ./worker\n", conn.env.TaskQueue, *maxAge)
	return exitFailure
}
