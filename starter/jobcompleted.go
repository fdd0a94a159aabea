package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/autoexposures/autoexposures/workflows"
)

// runIDPattern accepts dbt invocation IDs (UUIDs), dbt Cloud run numbers
// and orchestrator run IDs, and keeps workflow IDs readable in the Web UI.
var runIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:+-]{0,199}$`)

func runJobCompleted(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("job-completed", "job-completed --run-id ID --manifest PATH|URL [--run-results PATH|URL] [--no-wait] [--timeout DURATION]", stderr)
	runID := fs.String("run-id", "", "ID of the dbt production run, such as its invocation_id or the orchestrator's run ID (required)")
	manifest := fs.String("manifest", "", "manifest.json of the run: a path the worker can read or an http(s) URL (required)")
	runResults := fs.String("run-results", "", "run_results.json of the run, for extract refreshes: a path the worker can read or an http(s) URL")
	allowProjectChange := fs.Bool("allow-project-change", false, "accept a manifest of another dbt project than the latest one; every exposure of the old project is replaced")
	noWait := fs.Bool("no-wait", false, "print the workflow ID and exit without waiting for the summary")
	timeout := fs.Duration("timeout", 30*time.Minute, "how long to wait for the summary; the workflow goes on after the starter gives up")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}

	if *runID == "" {
		return usageError(fs, "--run-id is required: pass the dbt run's invocation_id or your orchestrator's run ID")
	}
	if !runIDPattern.MatchString(*runID) {
		return usageError(fs, "--run-id=%q is invalid: use up to 200 letters, digits and . _ : + -, starting with a letter or digit", *runID)
	}
	if *manifest == "" {
		return usageError(fs, "--manifest is required: pass the path or URL of the run's manifest.json")
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}
	manifestLocation, missing, err := artifactLocation("manifest", *manifest)
	if err != nil {
		return usageError(fs, "%v", err)
	}
	if missing {
		fmt.Fprintf(stderr, "starter job-completed: note: %s does not exist here; the worker must be able to read it\n", manifestLocation)
	}
	var runResultsLocation string
	if *runResults != "" {
		runResultsLocation, missing, err = artifactLocation("run-results", *runResults)
		if err != nil {
			return usageError(fs, "%v", err)
		}
		if missing {
			fmt.Fprintf(stderr, "starter job-completed: note: %s does not exist here; the worker must be able to read it\n", runResultsLocation)
		}
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter job-completed: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	warnIfNoWorker(ctx, conn, "job-completed", stderr)

	in := lineageInput{
		DbtRunID:           *runID,
		ManifestLocation:   manifestLocation,
		RunResultsLocation: runResultsLocation,
		AllowProjectChange: *allowProjectChange,
	}
	// A notice for a run in progress attaches to it, and a notice for a
	// finished run returns that run's result. Only a run that failed, was
	// cancelled or was terminated is processed again.
	opts := workflows.JobLineageStartOptions(conn.env.TaskQueue, in)
	id := opts.ID
	run, err := conn.client.ExecuteWorkflow(ctx, opts, jobLineageWorkflow, in)
	if err != nil {
		fmt.Fprintf(stderr, "starter job-completed: starting %s: %v\n", id, err)
		return exitFailure
	}
	// The workflow ID comes from the run ID alone, so a run ID reused for
	// other artifacts would attach to the old run and report its result as
	// if it were this one's.
	existing, err := startedInput(ctx, conn, id, run.GetRunID())
	if err != nil {
		fmt.Fprintf(stderr, "starter job-completed: %v\n", err)
		return exitFailure
	}
	if existing != in {
		fmt.Fprintf(stderr, "starter job-completed: run ID %q was already used for other artifacts (workflow %s read manifest %s, run results %s); pass a run ID that is unique per dbt run\n",
			*runID, id, existing.ManifestLocation, orNone(existing.RunResultsLocation))
		return exitFailure
	}
	fmt.Fprintf(stdout, "Workflow %s (run %s) on task queue %s.\n", run.GetID(), run.GetRunID(), conn.env.TaskQueue)
	if *noWait {
		return exitOK
	}

	waitCtx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	var result lineageResult
	if err := run.Get(waitCtx, &result); err != nil {
		return reportWaitError(stderr, "job-completed", id, *timeout, err)
	}
	writeLineageResult(stdout, result)
	return exitOK
}

// startedInput returns the input of a workflow run, read from the first
// event of its history.
func startedInput(ctx context.Context, conn *connection, workflowID, runID string) (lineageInput, error) {
	var in lineageInput
	iter := conn.client.GetWorkflowHistory(ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !iter.HasNext() {
		return in, fmt.Errorf("reading the history of %s: it has no events", workflowID)
	}
	event, err := iter.Next()
	if err != nil {
		return in, fmt.Errorf("reading the history of %s: %w", workflowID, err)
	}
	payloads := event.GetWorkflowExecutionStartedEventAttributes().GetInput().GetPayloads()
	if len(payloads) == 0 {
		return in, fmt.Errorf("reading the input of %s: its first event has no input", workflowID)
	}
	if err := converter.GetDefaultDataConverter().FromPayload(payloads[0], &in); err != nil {
		return in, fmt.Errorf("reading the input of %s: %w", workflowID, err)
	}
	return in, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
