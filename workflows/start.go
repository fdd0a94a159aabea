package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Workflow IDs. Every sync's ID starts with CollectionSyncIDPrefix, so
// operators find them all with one prefix search:
//
//	collection-sync-<UTC time>          a sync started on demand
//	collection-sync-<UTC time>          a scheduled sync (the schedule appends the time to collection-sync)
//	collection-sync-lineage-<run ID>    the sync a post-job run starts when no snapshot exists
//	lineage-<dbt run ID>                the post-job run of one dbt run
const (
	CollectionSyncIDPrefix = "collection-sync"
	jobLineageIDPrefix     = "lineage-"
)

// JobLineageWorkflowID returns the workflow ID of the post-job run of one
// dbt run; a second notice for the same run uses the same ID.
func JobLineageWorkflowID(dbtRunID string) string {
	return jobLineageIDPrefix + dbtRunID
}

// CollectionSyncWorkflowID returns the ID of a sync started on demand at
// now. Two syncs started in the same second share it, so the second joins
// the first.
func CollectionSyncWorkflowID(now time.Time) string {
	return CollectionSyncIDPrefix + "-" + now.UTC().Format("2006-01-02T15:04:05Z")
}

// ChildSyncWorkflowID returns the ID of the sync that a post-job run starts
// when the store has no snapshot yet.
func ChildSyncWorkflowID(dbtRunID string) string {
	return CollectionSyncIDPrefix + "-" + JobLineageWorkflowID(dbtRunID)
}

// CollectionSyncStartOptions returns the options to start a sync on demand
// on taskQueue: its ID and the static summary and details the Web UI shows.
func CollectionSyncStartOptions(taskQueue string, in CollectionSyncInput, now time.Time) client.StartWorkflowOptions {
	summary, details := CollectionSyncSummary(in)
	return client.StartWorkflowOptions{
		ID:                       CollectionSyncWorkflowID(now),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            summary,
		StaticDetails:            details,
	}
}

// JobLineageStartOptions returns the options to start the post-job run of
// in.DbtRunID on taskQueue. A notice for a run that is still being handled
// joins it, and one for a run that completed starts nothing: the server
// rejects the start and client.ExecuteWorkflow returns the earlier run,
// whose result the caller reads. A notice for a run that failed starts it
// again.
func JobLineageStartOptions(taskQueue string, in JobLineageInput) client.StartWorkflowOptions {
	summary, details := JobLineageSummary(in)
	return client.StartWorkflowOptions{
		ID:                       JobLineageWorkflowID(in.DbtRunID),
		TaskQueue:                taskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		StaticSummary:            summary,
		StaticDetails:            details,
	}
}

// CollectionSyncSummary returns the one-line summary and the details (the
// Web UI renders them as Markdown) that describe a sync to operators.
func CollectionSyncSummary(in CollectionSyncInput) (summary, details string) {
	summary = "Tableau sync of " + describeSelection(in.Selection)
	if in.SnapshotOnly {
		summary += " (snapshot only)"
	}
	var b strings.Builder
	b.WriteString("Reads the lineage of the selected Tableau workbooks into a snapshot")
	if in.SnapshotOnly {
		b.WriteString(" for the post-job run that started it.")
	} else {
		b.WriteString(" and recomputes the dbt exposures against the latest manifest.")
	}
	writeList(&b, "Collections", in.Selection.Collections)
	writeList(&b, "Projects", in.Selection.Projects)
	writeList(&b, "Workbook LUIDs", in.Selection.WorkbookLUIDs)
	if in.Selection.IsEmpty() {
		b.WriteString("\n\nSelection: the worker's default (AUTOEXPOSURES_COLLECTIONS, AUTOEXPOSURES_PROJECTS, AUTOEXPOSURES_WORKBOOK_LUIDS), or the whole site when that is empty.")
	}
	return summary, b.String()
}

// JobLineageSummary returns the one-line summary and the details that
// describe a post-job run to operators. Query strings of URLs are left out,
// because they may hold a signature.
func JobLineageSummary(in JobLineageInput) (summary, details string) {
	summary = "Exposures for dbt run " + in.DbtRunID
	var b strings.Builder
	b.WriteString("Recomputes the dbt exposures after a production run and refreshes the Tableau extracts it made stale.")
	fmt.Fprintf(&b, "\n\n**dbt run:** %s", in.DbtRunID)
	fmt.Fprintf(&b, "\n\n**Manifest:** %s", withoutQuery(in.ManifestLocation))
	if in.RunResultsLocation != "" {
		fmt.Fprintf(&b, "\n\n**Run results:** %s", withoutQuery(in.RunResultsLocation))
	} else {
		b.WriteString("\n\n**Run results:** none, so no extract is refreshed")
	}
	return summary, b.String()
}

func describeSelection(sel tableau.Selection) string {
	var parts []string
	if n := len(sel.Collections); n > 0 {
		parts = append(parts, countOrNames(n, "collection", sel.Collections))
	}
	if n := len(sel.Projects); n > 0 {
		parts = append(parts, countOrNames(n, "project", sel.Projects))
	}
	if n := len(sel.WorkbookLUIDs); n > 0 {
		parts = append(parts, fmt.Sprintf("%d workbooks", n))
	}
	if len(parts) == 0 {
		return "the default selection"
	}
	return strings.Join(parts, ", ")
}

// countOrNames names up to three items, and counts more.
func countOrNames(n int, noun string, names []string) string {
	if n <= 3 {
		return noun + "s " + strings.Join(names, ", ")
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func writeList(b *strings.Builder, title string, items []string) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n\n**%s:**", title)
	for _, item := range items {
		fmt.Fprintf(b, "\n- %s", item)
	}
}

// withoutQuery drops a URL's query and fragment.
func withoutQuery(location string) string {
	if i := strings.IndexAny(location, "?#"); i >= 0 && strings.Contains(location, "://") {
		return location[:i]
	}
	return location
}
