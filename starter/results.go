package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/workflows"
)

// Names and types of the workflows the starter starts.
const (
	collectionSyncWorkflow = workflows.CollectionSyncWorkflowName
	jobLineageWorkflow     = workflows.JobLineageWorkflowName
)

type (
	syncInput     = workflows.CollectionSyncInput
	syncResult    = workflows.CollectionSyncResult
	lineageInput  = workflows.JobLineageInput
	lineageResult = workflows.JobLineageResult
)

func writeSyncResult(w io.Writer, r syncResult) {
	fmt.Fprintf(w, "Sync finished: %s\n", r.Summary)
	fmt.Fprintf(w, "  selection: %s\n", describeSelection(r.Selection))
	fmt.Fprintf(w, "  snapshot:  %s (%d workbooks, %d published data sources)\n", r.Snapshot.Short(), r.Workbooks, r.PublishedDatasources)
	if r.Exposures != nil {
		writeExposures(w, *r.Exposures)
	}
}

func writeLineageResult(w io.Writer, r lineageResult) {
	fmt.Fprintf(w, "Exposures updated: %s\n", r.Summary)
	fmt.Fprintf(w, "  manifest:  %s\n", r.Manifest.Short())
	fmt.Fprintf(w, "  snapshot:  %s", r.Snapshot.Short())
	if r.SyncWorkflowID != "" {
		fmt.Fprintf(w, " (read first by %s)", r.SyncWorkflowID)
	}
	fmt.Fprintln(w)
	writeExposures(w, r.Exposures)
	writeRefreshes(w, r.Refresh)
}

func writeExposures(w io.Writer, e activities.ComputeExposuresResult) {
	state := "written"
	if !e.FileChanged {
		state = "unchanged"
	}
	fmt.Fprintf(w, "  exposures: %d in %s (%s)\n", e.Exposures, e.ExposuresPath, state)
	writeNames(w, "added", e.Added, e.AddedNames)
	writeNames(w, "changed", e.Changed, e.ChangedNames)
	writeNames(w, "removed", e.Removed, e.RemovedNames)
	fmt.Fprintf(w, "  tables:    %d matched, %d unmatched\n", e.MatchedTables, e.UnmatchedTables)
	for _, u := range e.Unmatched {
		fmt.Fprintf(w, "    unmatched: %s\n", u)
	}
	if more := e.UnmatchedTables - len(e.Unmatched); more > 0 {
		fmt.Fprintf(w, "    ... and %d more in the report\n", more)
	}
	if e.StaleExtracts > 0 {
		fmt.Fprintf(w, "  stale extracts: %d\n", e.StaleExtracts)
	}
	if e.ReportPath != "" {
		fmt.Fprintf(w, "  report:    %s\n", e.ReportPath)
	}
	if e.EnrichedManifestPath != "" {
		fmt.Fprintf(w, "  enriched manifest: %s\n", e.EnrichedManifestPath)
	}
}

func writeNames(w io.Writer, what string, count int, names []string) {
	if count == 0 {
		return
	}
	line := strings.Join(names, ", ")
	if more := count - len(names); more > 0 {
		line += fmt.Sprintf(" and %d more", more)
	}
	fmt.Fprintf(w, "  %-10s %d: %s\n", what+":", count, line)
}

func writeRefreshes(w io.Writer, r workflows.RefreshTriggerResult) {
	switch {
	case r.Disabled:
		fmt.Fprintf(w, "  refreshes: off (AUTOEXPOSURES_REFRESH); %d stale extracts listed in %s\n", r.Stale, r.ReportPath)
	case r.Stale == 0:
		fmt.Fprintln(w, "  refreshes: none needed")
	default:
		fmt.Fprintf(w, "  refreshes: %d stale extracts, %d out of scope, %d refresh workflows: %s\n",
			r.Stale, r.OutOfScope, len(r.Refreshes), strings.Join(r.Refreshes, ", "))
	}
}

func syncResultLine(r syncResult) string       { return "sync: " + r.Summary }
func lineageResultLine(r lineageResult) string { return r.Summary }
