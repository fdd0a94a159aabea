package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/workflows"
)

func runSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sync", "sync [--collections A,B] [--projects P] [--workbooks LUIDS] [--no-wait] [--timeout DURATION]", stderr)
	var sel selectionFlags
	sel.register(fs)
	noWait := fs.Bool("no-wait", false, "print the workflow ID and exit without waiting for the result")
	timeout := fs.Duration("timeout", time.Hour, "how long to wait for the result; the sync goes on after the starter gives up")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter sync: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	warnIfNoWorker(ctx, conn, "sync", stderr)

	// Without flags the sync reads what the daily schedule reads, so a
	// manual sync and the next scheduled one agree.
	selection := sel.selection()
	if !sel.given() {
		selection, err = currentSelection(ctx, conn)
		if err != nil {
			fmt.Fprintf(stderr, "starter sync: %v\n", err)
			return exitFailure
		}
	}
	return startSync(ctx, conn, selection, "manual", *noWait, *timeout, stdout, stderr)
}

// currentSelection returns the selection held by the daily schedule, or
// an empty one (the worker's default) when there is no schedule.
func currentSelection(ctx context.Context, conn *connection) (tableau.Selection, error) {
	desc, err := conn.client.ScheduleClient().GetHandle(ctx, conn.env.ScheduleID).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return tableau.Selection{}, nil
	}
	if err != nil {
		return tableau.Selection{}, fmt.Errorf("reading the selection of schedule %s: %w", conn.env.ScheduleID, err)
	}
	return scheduleSelection(desc.Schedule.Action)
}

// startSync starts a collection sync and, unless noWait, waits for it and
// prints its summary. trigger names who started it: "manual" syncs started
// in the same second share one workflow, and any other trigger gets an ID
// of its own, so a changed selection never joins a sync of the old one.
func startSync(ctx context.Context, conn *connection, selection tableau.Selection, trigger string, noWait bool, timeout time.Duration, stdout, stderr io.Writer) int {
	run, code := startSyncRun(ctx, conn, selection, trigger, stdout, stderr)
	if run == nil || noWait {
		return code
	}

	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var result syncResult
	if err := run.Get(waitCtx, &result); err != nil {
		return reportWaitError(stderr, "sync", run.GetID(), timeout, err)
	}
	writeSyncResult(stdout, result)
	return exitOK
}

// startSyncRun starts a collection sync and prints its IDs. It returns
// the run, or nil and the exit code when the start failed.
func startSyncRun(ctx context.Context, conn *connection, selection tableau.Selection, trigger string, stdout, stderr io.Writer) (client.WorkflowRun, int) {
	in := syncInput{Selection: selection}
	opts := workflows.CollectionSyncStartOptions(conn.env.TaskQueue, in, time.Now())
	if trigger != "manual" {
		opts.ID += "-" + trigger
	}
	run, err := conn.client.ExecuteWorkflow(ctx, opts, collectionSyncWorkflow, in)
	if err != nil {
		fmt.Fprintf(stderr, "starter sync: starting %s: %v\n", collectionSyncWorkflow, err)
		return nil, exitFailure
	}
	fmt.Fprintf(stdout, "Started collection sync %s (run %s) on task queue %s.\n", run.GetID(), run.GetRunID(), conn.env.TaskQueue)
	fmt.Fprintf(stdout, "  selection: %s\n", describeSelection(selection))
	return run, exitOK
}

// syncAction is the schedule's action: a collection sync with the
// selection as its input, which the Web UI shows and lets operators edit.
// Temporal appends the scheduled time to the workflow ID.
func syncAction(conn *connection, selection tableau.Selection) *client.ScheduleWorkflowAction {
	in := syncInput{Selection: selection}
	_, details := workflows.CollectionSyncSummary(in)
	return &client.ScheduleWorkflowAction{
		ID:        workflows.CollectionSyncIDPrefix,
		Workflow:  collectionSyncWorkflow,
		Args:      []any{in},
		TaskQueue: conn.env.TaskQueue,
		// The summary names no selection, because an operator may edit the
		// input in the Web UI and the summary would then be wrong.
		StaticSummary: "Scheduled Tableau sync: the selection is the workflow input",
		StaticDetails: details + "\n\nStarted by the schedule that `starter schedule` manages. " +
			"Edit the selection on the schedule's page in the Web UI, or run `starter collections set A,B`.",
	}
}
