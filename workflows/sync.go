package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// CollectionSyncWorkflowName is the registered type of CollectionSyncWorkflow.
const CollectionSyncWorkflowName = "CollectionSyncWorkflow"

// CollectionSyncInput is the input of a sync: the selection and how to read it.
type CollectionSyncInput struct {
	// Selection names collections, projects or workbook LUIDs. Empty takes
	// the worker's default selection (AUTOEXPOSURES_COLLECTIONS and the
	// like), and every workbook on the site when that is empty too.
	Selection tableau.Selection
	// SnapshotOnly stops after the snapshot is stored and set as latest,
	// without computing exposures: JobLineageWorkflow computes them itself.
	SnapshotOnly bool `json:",omitempty"`
	// ChunkSize is how many workbooks the lineage read fetches between two
	// checkpoints; zero takes the worker's AUTOEXPOSURES_SYNC_CHUNK_SIZE.
	ChunkSize int `json:",omitempty"`
}

// CollectionSyncResult summarizes a sync.
type CollectionSyncResult struct {
	// Selection is the selection that was read, after defaults.
	Selection            tableau.Selection
	Workbooks            int
	Collections          int
	PublishedDatasources int
	// Missing counts workbooks deleted while the sync ran.
	Missing  int `json:",omitempty"`
	Snapshot store.Ref
	// Manifest is the manifest the exposures were computed against; zero
	// when the store has no manifest yet.
	Manifest store.Ref `json:",omitzero"`
	// Exposures is nil when no exposures were computed: no manifest yet, or
	// SnapshotOnly.
	Exposures *activities.ComputeExposuresResult `json:",omitempty"`
	// Summary is a one-line summary for operators.
	Summary string
}

// CollectionSyncWorkflow reads the selected Tableau workbooks into a new
// snapshot, makes it the latest, and recomputes the exposures against the
// latest manifest. Its history has about 35 events whatever the number of
// workbooks, because the paged read happens inside one heartbeating
// activity.
func CollectionSyncWorkflow(ctx workflow.Context, in CollectionSyncInput) (CollectionSyncResult, error) {
	logger := workflow.GetLogger(ctx)
	var res CollectionSyncResult
	t, err := newTracker(ctx, Progress{Step: StepStarting})
	if err != nil {
		return res, err
	}
	logger.Info("collection sync started", "collections", in.Selection.Collections,
		"projects", in.Selection.Projects, "workbook_luids", len(in.Selection.WorkbookLUIDs), "snapshot_only", in.SnapshotOnly)

	t.step(StepListing)
	var listed activities.ListWorkbooksResult
	err = workflow.ExecuteActivity(tableauListOptions(ctx), activities.ListWorkbooksName,
		activities.ListWorkbooksInput{Selection: in.Selection}).Get(ctx, &listed)
	if err != nil {
		return res, t.fail(fmt.Errorf("listing workbooks: %w", err))
	}
	res.Selection, res.Workbooks, res.Collections = listed.Selection, listed.Workbooks, listed.Collections
	t.progress.Workbooks = listed.Workbooks

	t.step(StepReadingLineage, "workbooks", listed.Workbooks, "workbook_list", listed.WorkbookList.Hash)
	var read activities.ReadLineageResult
	err = workflow.ExecuteActivity(readLineageOptions(ctx), activities.ReadLineageName,
		activities.ReadLineageInput{WorkbookList: listed.WorkbookList, ChunkSize: in.ChunkSize}).Get(ctx, &read)
	if err != nil {
		return res, t.fail(fmt.Errorf("reading lineage: %w", err))
	}
	res.Snapshot, res.Workbooks = read.Snapshot, read.Workbooks
	res.PublishedDatasources, res.Missing = read.PublishedDatasources, read.Missing
	t.progress.Snapshot, t.progress.Workbooks = read.Snapshot.Short(), read.Workbooks

	err = workflow.ExecuteActivity(storeOptions(ctx, "make the snapshot the latest"), activities.SetLatestName,
		activities.SetLatestInput{Kind: store.KindSnapshot, Ref: read.Snapshot}).Get(ctx, nil)
	if err != nil {
		return res, t.fail(fmt.Errorf("setting the latest snapshot: %w", err))
	}

	if in.SnapshotOnly {
		res.Summary = fmt.Sprintf("read %d workbooks", res.Workbooks) + deletedNote(res.Missing)
		t.step(StepDone, "snapshot", read.Snapshot.Hash)
		return res, nil
	}

	var manifest store.Ref
	err = workflow.ExecuteActivity(storeOptions(ctx, "find the latest manifest"), activities.GetLatestName,
		store.KindManifest).Get(ctx, &manifest)
	if err != nil {
		return res, t.fail(fmt.Errorf("finding the latest manifest: %w", err))
	}
	if manifest.IsZero() {
		res.Summary = syncSummary(res)
		logger.Info("no manifest in the store yet, exposures not computed", "snapshot", read.Snapshot.Hash)
		t.step(StepDone, "snapshot", read.Snapshot.Hash)
		return res, nil
	}
	res.Manifest = manifest
	t.progress.Manifest = manifest.Short()

	t.step(StepComputing, "snapshot", read.Snapshot.Hash, "manifest", manifest.Hash)
	var computed activities.ComputeExposuresResult
	err = workflow.ExecuteActivity(computeOptions(ctx), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{Manifest: manifest, Snapshot: read.Snapshot}).Get(ctx, &computed)
	if err != nil {
		return res, t.fail(fmt.Errorf("computing exposures: %w", err))
	}
	res.Exposures = &computed
	t.recordExposures(computed)

	res.Summary = syncSummary(res)
	t.step(StepDone, "snapshot", read.Snapshot.Hash, "exposures", computed.Exposures,
		"added", computed.Added, "changed", computed.Changed, "removed", computed.Removed)
	return res, nil
}

// recordExposures copies the exposure counts into the progress.
func (t *tracker) recordExposures(c activities.ComputeExposuresResult) {
	t.progress.Exposures = c.Exposures
	t.progress.Added, t.progress.Changed, t.progress.Removed = c.Added, c.Changed, c.Removed
	t.progress.UnmatchedTables = c.UnmatchedTables
}

func syncSummary(r CollectionSyncResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "read %d workbooks", r.Workbooks)
	b.WriteString(deletedNote(r.Missing))
	if r.Workbooks == 0 {
		// A selection that names anything fails when it matches nothing,
		// so only a whole-site sync gets here.
		b.WriteString("; warning: the site has no workbooks the token's user can see, so the exposures file is empty")
	}
	switch {
	case r.Exposures != nil:
		b.WriteString("; " + exposuresSummary(*r.Exposures))
	case r.Manifest.IsZero():
		b.WriteString("; no manifest yet, so exposures are computed after the first job-completed")
	}
	return b.String()
}

// exposuresSummary returns the exposure counts as one line.
func exposuresSummary(c activities.ComputeExposuresResult) string {
	s := countsSummary(c)
	if !c.FileChanged {
		s += "; file unchanged"
	}
	return s
}

// countsSummary returns the exposure and table counts.
func countsSummary(c activities.ComputeExposuresResult) string {
	return fmt.Sprintf("%d exposures: %d added, %d changed, %d removed; %d unmatched tables",
		c.Exposures, c.Added, c.Changed, c.Removed, c.UnmatchedTables)
}

func deletedNote(missing int) string {
	if missing == 0 {
		return ""
	}
	return fmt.Sprintf(" (%d deleted meanwhile)", missing)
}
