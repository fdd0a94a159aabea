package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/workflows"
)

func runCollections(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, collectionsUsage)
		return exitUsage
	}
	switch args[0] {
	case "set":
		return runCollectionsSet(ctx, args[1:], stdout, stderr)
	case "show":
		return runCollectionsShow(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, collectionsUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "starter collections: unknown subcommand %q\n%s", args[0], collectionsUsage)
		return exitUsage
	}
}

const collectionsUsage = `Usage:
  starter collections set [--no-wait] [--timeout DURATION] NAME_OR_LUID[,NAME_OR_LUID...]
      sync these collections now and, once the sync has listed their
      workbooks, make them the collections the daily sync reads
  starter collections show
      print the schedule and the selection it holds
`

func runCollectionsSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collections set", "collections set [--no-wait] [--timeout DURATION] NAME_OR_LUID[,NAME_OR_LUID...]", stderr)
	noWait := fs.Bool("no-wait", false, "wait only until the sync has listed the workbooks of the new selection, then update the schedule and exit")
	timeout := fs.Duration("timeout", time.Hour, "how long to wait for the sync (or its listing with --no-wait); the schedule changes only once the listing succeeded")
	if code, ok := parseFlags(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "give the collections as one comma-separated argument, such as \"Sales,Finance\"")
	}
	names := splitList(fs.Arg(0))
	if len(names) == 0 {
		return usageError(fs, "%q names no collection: give at least one name or LUID", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}
	selection := tableau.Selection{Collections: names}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter collections set: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	warnIfNoWorker(ctx, conn, "collections set", stderr)

	// The sync runs first so that a name matching no collection fails here
	// and never reaches the schedule, where it would fail every daily run.
	run, code := startSyncRun(ctx, conn, selection, "collections-set", stdout, stderr)
	if run == nil {
		return code
	}
	waitCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var result syncResult
	var waitErr error
	if *noWait {
		// Waiting for the workbook listing is what validates the names; the
		// rest of the sync goes on without the starter.
		waitErr = waitListed(waitCtx, conn, run)
	} else {
		waitErr = run.Get(waitCtx, &result)
	}
	if waitErr != nil {
		code := reportWaitError(stderr, "collections set", run.GetID(), *timeout, waitErr)
		if code == exitStillRunning && listedNow(ctx, conn, run) {
			return updateSelection(ctx, conn, selection, code, stdout, stderr)
		}
		fmt.Fprintf(stderr, "starter collections set: schedule %s is unchanged because the sync of %s did not succeed\n", conn.env.ScheduleID, describeSelection(selection))
		return code
	}
	if !*noWait {
		writeSyncResult(stdout, result)
	} else {
		fmt.Fprintln(stdout, "The sync listed the workbooks of the new selection and goes on; follow it with starter status.")
	}
	return updateSelection(ctx, conn, selection, exitOK, stdout, stderr)
}

// updateSelection writes the selection into the schedule's action, creating
// the schedule with the default time when there is none, and returns code
// when that worked.
func updateSelection(ctx context.Context, conn *connection, selection tableau.Selection, code int, stdout, stderr io.Writer) int {
	err := setScheduleSelection(ctx, conn, selection)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		settings := scheduleSettings{hour: 6, timeZone: "UTC", catchupWindow: defaultCatchupWindow, selection: selection}
		if _, err := upsertSchedule(ctx, conn, settings); err != nil {
			fmt.Fprintf(stderr, "starter collections set: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "Created schedule %s (daily at 06:00 UTC; change it with starter schedule --at HH:MM --time-zone ZONE).\n", conn.env.ScheduleID)
	case err != nil:
		fmt.Fprintf(stderr, "starter collections set: %v\n", err)
		return exitFailure
	default:
		fmt.Fprintf(stdout, "Schedule %s now syncs %s.\n", conn.env.ScheduleID, describeSelection(selection))
	}
	return code
}

// waitListed waits until the sync has listed the workbooks of its
// selection, which is when every name in it has resolved, or until it ends.
// It returns the sync's failure, or ctx's error when ctx ends first.
func waitListed(ctx context.Context, conn *connection, run client.WorkflowRun) error {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		closed, err := syncClosed(ctx, conn, run)
		if err != nil {
			return err
		}
		if closed {
			return run.Get(ctx, nil)
		}
		if listedNow(ctx, conn, run) {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ticker.C:
		}
	}
}

// syncClosed reports whether the sync run has ended.
func syncClosed(ctx context.Context, conn *connection, run client.WorkflowRun) (bool, error) {
	desc, err := conn.client.DescribeWorkflowExecution(ctx, run.GetID(), run.GetRunID())
	if err != nil {
		return false, fmt.Errorf("describing %s: %w", run.GetID(), err)
	}
	return desc.GetWorkflowExecutionInfo().GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, nil
}

// listedNow reports whether the sync got past the workbook listing, by its
// progress query or by having completed. A query that fails (no worker, a
// closed run that failed) counts as not listed.
func listedNow(ctx context.Context, conn *connection, run client.WorkflowRun) bool {
	callCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	desc, err := conn.client.DescribeWorkflowExecution(callCtx, run.GetID(), run.GetRunID())
	if err != nil {
		return false
	}
	switch desc.GetWorkflowExecutionInfo().GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		return true
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
	default:
		return false
	}
	value, err := conn.client.QueryWorkflow(callCtx, run.GetID(), run.GetRunID(), workflows.ProgressQuery)
	if err != nil {
		return false
	}
	var progress workflows.Progress
	if err := value.Get(&progress); err != nil {
		return false
	}
	switch progress.Step {
	case workflows.StepReadingLineage, workflows.StepComputing, workflows.StepRefreshing, workflows.StepDone:
		return true
	default:
		return false
	}
}

func runCollectionsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collections show", "collections show", stderr)
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter collections show: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	return printSchedule(ctx, conn, stdout, stderr)
}
