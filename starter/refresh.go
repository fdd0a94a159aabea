package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/activities"
)

// runRefresh requests that the worker refresh the extracts of an exposure, a
// workbook or a data source. The worker resolves the target against its own
// snapshot and exposures file, so the starter needs only the Temporal
// settings and the task queue, wherever it runs.
func runRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("refresh", "refresh (--exposure NAME | --workbook LUID | --datasource LUID) [--min-interval DURATION] [--no-wait] [--timeout DURATION]", stderr)
	exposure := fs.String("exposure", "", "name of a generated exposure: refreshes every extract its workbook uses, as the worker's latest snapshot lists them")
	workbook := fs.String("workbook", "", "LUID of a workbook: refreshes every extract it uses, as the worker's latest snapshot lists them")
	datasource := fs.String("datasource", "", "LUID of a published data source with an extract")
	minInterval := fs.Duration("min-interval", 0, "skip an extract refreshed more recently than this; 0 always refreshes")
	noWait := fs.Bool("no-wait", false, "print the workflow IDs and exit without waiting for the outcome")
	timeout := fs.Duration("timeout", time.Hour, "how long to wait for the outcome; the refresh goes on after the starter gives up")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}

	given := 0
	for _, v := range []string{*exposure, *workbook, *datasource} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return usageError(fs, "pass exactly one of --exposure, --workbook and --datasource")
	}
	if *minInterval < 0 {
		return usageError(fs, "--min-interval=%s is negative: use a duration such as 1h, or 0 to always refresh", *minInterval)
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter refresh: %v\n", err)
		return exitFailure
	}
	defer conn.Close()

	in := activities.OnDemandRefreshInput{Exposure: *exposure, WorkbookLUID: *workbook, DatasourceLUID: *datasource, MinInterval: *minInterval}
	waitCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	return requestRefresh(waitCtx, conn.client, conn.env.TaskQueue, in, *noWait, *timeout, stdout, stderr)
}

// requestRefresh runs OnDemandRefreshWorkflow, which resolves the target on
// the worker and starts its refresh workflows, prints what it started and,
// unless noWait, waits for each outcome. It returns exitFailure when the
// target is unknown or a refresh failed or was cancelled, and exitOK when
// there is nothing to refresh.
func requestRefresh(ctx context.Context, c client.Client, taskQueue string, in activities.OnDemandRefreshInput, noWait bool, timeout time.Duration, stdout, stderr io.Writer) int {
	id := onDemandWorkflowID()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:        id,
		TaskQueue: taskQueue,
		// The request only starts refreshes; if no worker takes it in this
		// time, the operator learns so instead of waiting an hour.
		WorkflowExecutionTimeout: 5 * time.Minute,
		StaticSummary:            onDemandSummary(in),
	}, activities.OnDemandRefreshWorkflowName, in)
	if err != nil {
		fmt.Fprintf(stderr, "starter refresh: starting %s: %v\n", id, err)
		return exitFailure
	}
	var resolved activities.OnDemandRefreshResult
	if err := run.Get(ctx, &resolved); err != nil {
		var execErr *temporal.WorkflowExecutionError
		if errors.As(err, &execErr) {
			fmt.Fprintf(stderr, "starter refresh: %s\n", failureMessage(err))
			return exitFailure
		}
		return reportWaitError(stderr, "refresh", id, timeout, err)
	}

	for _, n := range resolved.Notes {
		fmt.Fprintf(stderr, "starter refresh: note: %s\n", n)
	}
	if resolved.NothingToRefresh != "" {
		fmt.Fprintf(stdout, "Nothing to refresh: %s.\n", resolved.NothingToRefresh)
		return exitOK
	}
	fmt.Fprintf(stdout, "Refreshing %s: %d extract(s).\n", resolved.Target, len(resolved.Refreshes))
	for _, r := range resolved.Refreshes {
		verb := "Started"
		if r.Joined {
			verb = "Joined the running"
		}
		fmt.Fprintf(stdout, "%s refresh %s (run %s) of %s.\n", verb, r.WorkflowID, r.RunID, activities.ExtractLabel(r.Kind, r.Name, r.ExtractLUID, in.Exposure))
	}
	if noWait {
		return exitOK
	}

	code := exitOK
	for _, r := range resolved.Refreshes {
		var res activities.RefreshResult
		if err := c.GetWorkflow(ctx, r.WorkflowID, r.RunID).Get(ctx, &res); err != nil {
			code = reportWaitError(stderr, "refresh", r.WorkflowID, timeout, err)
			continue
		}
		writeRefreshResult(stdout, res)
		if res.Outcome == activities.OutcomeFailed || res.Outcome == activities.OutcomeCancelled {
			code = exitFailure
		}
	}
	return code
}

// onDemandSummary is the Web UI summary of an on-demand refresh request,
// which names the target as the operator gave it.
func onDemandSummary(in activities.OnDemandRefreshInput) string {
	switch {
	case in.Exposure != "":
		return "Refresh the extracts of exposure " + in.Exposure + " on demand"
	case in.WorkbookLUID != "":
		return "Refresh the extracts of workbook " + in.WorkbookLUID + " on demand"
	default:
		return "Refresh data source " + in.DatasourceLUID + " on demand"
	}
}

// onDemandWorkflowID returns a new ID for an on-demand refresh request.
// The refreshes it starts keep their refresh-<LUID> IDs.
func onDemandWorkflowID() string {
	b := make([]byte, 6)
	_, _ = rand.Read(b) // crypto/rand.Read returns no error since Go 1.24
	return "ondemand-refresh-" + hex.EncodeToString(b)
}

// writeRefreshResult prints one refresh's outcome. A skipped refresh gives
// the reason on the same line.
func writeRefreshResult(w io.Writer, res activities.RefreshResult) {
	fmt.Fprintf(w, "%s: %s", activities.ExtractLabel(res.Kind, res.Name, res.ExtractLUID, res.Exposure), res.Outcome)
	switch {
	case res.SkipReason != "":
		fmt.Fprintf(w, ": %s", res.SkipReason)
	case res.Outcome == activities.OutcomeSkipped:
		fmt.Fprint(w, ": no reason recorded")
	}
	fmt.Fprintln(w)
	if res.JobID != "" {
		adopted := ""
		if res.Adopted {
			adopted = ", adopted from the queue"
		}
		fmt.Fprintf(w, "  Tableau job %s%s, %d status reads\n", res.JobID, adopted, res.Polls)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}
