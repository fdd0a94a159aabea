package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"github.com/autoexposures/autoexposures/internal/tableau"
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
// prints its summary. trigger names who started it, for the workflow ID.
func startSync(ctx context.Context, conn *connection, selection tableau.Selection, trigger string, noWait bool, timeout time.Duration, stdout, stderr io.Writer) int {
	id := fmt.Sprintf("collection-sync-%s-%s", trigger, time.Now().UTC().Format("20060102T150405.000Z"))
	id = strings.ReplaceAll(id, ".", "")
	run, err := conn.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:            id,
		TaskQueue:     conn.env.TaskQueue,
		StaticSummary: syncSummary(selection, trigger),
		StaticDetails: syncDetails(selection, trigger),
	}, collectionSyncWorkflow, syncInput{Selection: selection})
	if err != nil {
		fmt.Fprintf(stderr, "starter sync: starting %s: %v\n", collectionSyncWorkflow, err)
		return exitFailure
	}
	fmt.Fprintf(stdout, "Started collection sync %s (run %s) on task queue %s.\n", run.GetID(), run.GetRunID(), conn.env.TaskQueue)
	fmt.Fprintf(stdout, "  selection: %s\n", describeSelection(selection))
	if noWait {
		return exitOK
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

// reportWaitError explains why waiting for a workflow stopped: the
// workflow failed, or the starter stopped waiting while it goes on.
func reportWaitError(stderr io.Writer, command, workflowID string, timeout time.Duration, err error) int {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintf(stderr, "starter %s: stopped waiting after %s; workflow %s goes on: follow it with starter status or the Web UI\n", command, timeout, workflowID)
	case errors.Is(err, context.Canceled):
		fmt.Fprintf(stderr, "starter %s: interrupted; workflow %s goes on: follow it with starter status or the Web UI\n", command, workflowID)
	default:
		fmt.Fprintf(stderr, "starter %s: workflow %s failed: %v\n", command, workflowID, err)
	}
	return exitFailure
}

func syncSummary(selection tableau.Selection, trigger string) string {
	return fmt.Sprintf("Tableau sync (%s): %s", trigger, shortSelection(selection))
}

func syncDetails(selection tableau.Selection, trigger string) string {
	return fmt.Sprintf("**Collection sync**, started by `starter` (%s).\n\nSelection: %s\n\nReads the selected workbooks' lineage from Tableau, stores the snapshot and rewrites the exposures against the latest manifest.",
		trigger, describeSelection(selection))
}

// shortSelection is describeSelection cut to one line for summaries.
func shortSelection(selection tableau.Selection) string {
	if selection.IsEmpty() {
		return "worker default selection"
	}
	s := describeSelection(selection)
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// syncAction is the schedule's action: a collection sync with the
// selection as its input, which the Web UI shows and lets operators edit.
// Temporal appends the scheduled time to the workflow ID.
func syncAction(conn *connection, selection tableau.Selection) *client.ScheduleWorkflowAction {
	return &client.ScheduleWorkflowAction{
		ID:            "collection-sync-scheduled",
		Workflow:      collectionSyncWorkflow,
		Args:          []any{syncInput{Selection: selection}},
		TaskQueue:     conn.env.TaskQueue,
		StaticSummary: "Scheduled Tableau sync: selection in the workflow input",
		StaticDetails: "**Daily collection sync**, started by the schedule that `starter schedule` manages.\n\n" +
			"The selection is the workflow input: edit it on the schedule's page in the Web UI, or run `starter collections set A,B`.\n\n" +
			"Selection when the schedule was last written: " + describeSelection(selection),
	}
}
