package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"
	"unicode"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/workflows"
)

const maxStatusLimit = 200

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", "status [--limit N] [--workflow-type TYPE]", stderr)
	limit := fs.Int("limit", 20, fmt.Sprintf("how many recent runs to list, 1 to %d", maxStatusLimit))
	workflowType := fs.String("workflow-type", "", "list only this workflow type: CollectionSyncWorkflow, JobLineageWorkflow or ExposureRefreshWorkflow")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if *limit < 1 || *limit > maxStatusLimit {
		return usageError(fs, "--limit=%d is out of range: use 1 to %d", *limit, maxStatusLimit)
	}
	switch *workflowType {
	case "", collectionSyncWorkflow, jobLineageWorkflow, activities.ExposureRefreshWorkflowName:
	default:
		return usageError(fs, "--workflow-type=%q is unknown: use CollectionSyncWorkflow, JobLineageWorkflow or ExposureRefreshWorkflow", *workflowType)
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter status: %v\n", err)
		return exitFailure
	}
	defer conn.Close()

	fmt.Fprintln(stdout, "Daily sync:")
	desc, err := conn.client.ScheduleClient().GetHandle(ctx, conn.env.ScheduleID).Describe(ctx)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		fmt.Fprintf(stdout, "  no schedule %s: create it with starter schedule --at HH:MM\n", conn.env.ScheduleID)
	case err != nil:
		fmt.Fprintf(stderr, "starter status: describing schedule %s: %v\n", conn.env.ScheduleID, err)
		return exitFailure
	default:
		writeScheduleSummary(stdout, conn.env.ScheduleID, desc)
	}

	query := fmt.Sprintf("TaskQueue = '%s'", conn.env.TaskQueue)
	if *workflowType != "" {
		query += fmt.Sprintf(" AND WorkflowType = '%s'", *workflowType)
	}
	resp, err := conn.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: conn.namespace,
		PageSize:  int32(*limit),
		Query:     query,
	})
	if err != nil {
		fmt.Fprintf(stderr, "starter status: listing workflows on task queue %s: %v\n", conn.env.TaskQueue, err)
		return exitFailure
	}

	fmt.Fprintf(stdout, "\nRecent runs on task queue %s (newest first):\n", conn.env.TaskQueue)
	executions := resp.GetExecutions()
	if len(executions) > *limit {
		executions = executions[:*limit]
	}
	if len(executions) == 0 {
		fmt.Fprintln(stdout, "  none")
	}
	for _, info := range executions {
		writeExecution(ctx, conn, stdout, info)
	}
	return exitOK
}

// writeExecution prints one run: a header line, then its result summary
// when it completed, its progress when it runs, or its failure.
func writeExecution(ctx context.Context, conn *connection, w io.Writer, info *workflowpb.WorkflowExecutionInfo) {
	id := info.GetExecution().GetWorkflowId()
	runID := info.GetExecution().GetRunId()
	typeName := info.GetType().GetName()
	status := strings.ToLower(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
	start := info.GetStartTime().AsTime()

	took := ""
	if info.GetCloseTime() != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		took = ", took " + info.GetCloseTime().AsTime().Sub(start).Round(10*time.Millisecond).String()
	}
	fmt.Fprintf(w, "- %s  %s  %s  started %s%s\n", status, typeName, id, start.UTC().Format(time.RFC3339), took)

	callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		value, err := conn.client.QueryWorkflow(callCtx, id, runID, workflows.ProgressQuery)
		if err != nil {
			fmt.Fprintf(w, "    progress: unavailable (%v)\n", firstLine(err.Error()))
			return
		}
		var progress map[string]any
		if err := value.Get(&progress); err != nil {
			fmt.Fprintf(w, "    progress: unreadable (%v)\n", err)
			return
		}
		fmt.Fprintf(w, "    progress: %s\n", progressLine(progress))
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:
		fmt.Fprintf(w, "    %s\n", resultSummary(callCtx, conn, typeName, id, runID))
	default:
		err := conn.client.GetWorkflow(callCtx, id, runID).Get(callCtx, nil)
		if err != nil {
			fmt.Fprintf(w, "    error: %s\n", firstLine(failureMessage(err)))
		}
	}
}

// resultSummary decodes a completed run's result by workflow type and
// renders it on one line.
func resultSummary(ctx context.Context, conn *connection, typeName, id, runID string) string {
	run := conn.client.GetWorkflow(ctx, id, runID)
	switch typeName {
	case collectionSyncWorkflow:
		var r syncResult
		if err := run.Get(ctx, &r); err != nil {
			return "result unreadable: " + firstLine(err.Error())
		}
		return syncResultLine(r)
	case jobLineageWorkflow:
		var r lineageResult
		if err := run.Get(ctx, &r); err != nil {
			return "result unreadable: " + firstLine(err.Error())
		}
		return lineageResultLine(r)
	case activities.ExposureRefreshWorkflowName:
		var r activities.RefreshResult
		if err := run.Get(ctx, &r); err != nil {
			return "result unreadable: " + firstLine(err.Error())
		}
		return refreshResultLine(r)
	default:
		return "result not shown for workflow type " + typeName
	}
}

func refreshResultLine(r activities.RefreshResult) string {
	line := fmt.Sprintf("refresh of %s: %s", activities.ExtractLabel(string(r.Kind), r.Name, r.ExtractLUID, r.Exposure), r.Outcome)
	if r.SkipReason != "" {
		line += ": " + r.SkipReason
	}
	if r.JobID != "" {
		line += "; Tableau job " + r.JobID
	}
	if len(r.Notes) > 0 {
		line += "; notes: " + strings.Join(r.Notes, "; ")
	}
	return line
}

// progressLine renders a progress query result on one line: the step (or
// phase, for refreshes) first, then the other non-empty fields by name, as
// in "reading lineage; workbooks 12, snapshot 3f2a1b". It reads the JSON
// form so that sync, post-job and refresh progress all render.
func progressLine(p map[string]any) string {
	var head string
	for _, key := range []string{"Step", "Phase"} {
		if v, ok := p[key].(string); ok && v != "" {
			head = v
			delete(p, key)
			break
		}
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := p[k]
		if v == nil || v == "" || v == float64(0) {
			continue
		}
		if f, ok := v.(float64); ok && f == float64(int64(f)) {
			v = int64(f)
		}
		parts = append(parts, fmt.Sprintf("%s %v", progressKey(k), v))
	}
	switch {
	case head == "":
		return strings.Join(parts, ", ")
	case len(parts) == 0:
		return head
	default:
		return head + "; " + strings.Join(parts, ", ")
	}
}

// progressKey turns a Go field name such as DbtRunID or JobProgress into
// words: "dbt run ID", "job progress".
func progressKey(name string) string {
	var b strings.Builder
	runes := []rune(name)
	for i, r := range runes {
		upper := unicode.IsUpper(r)
		if i > 0 && upper && (!unicode.IsUpper(runes[i-1]) || (i+1 < len(runes) && unicode.IsLower(runes[i+1]))) {
			b.WriteByte(' ')
		}
		if upper && !(i+1 < len(runes) && unicode.IsUpper(runes[i+1])) && !(i > 0 && unicode.IsUpper(runes[i-1])) {
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
