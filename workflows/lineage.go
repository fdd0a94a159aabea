package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
)

// JobLineageWorkflowName is the registered type of JobLineageWorkflow.
const JobLineageWorkflowName = "JobLineageWorkflow"

// JobLineageInput is the notice that a dbt production run finished.
type JobLineageInput struct {
	DbtRunID string
	// ManifestLocation and RunResultsLocation are paths the worker can read
	// or http(s) URLs. RunResultsLocation is optional; without it no extract
	// is found stale.
	ManifestLocation   string
	RunResultsLocation string `json:",omitempty"`
	// AllowProjectChange accepts a manifest of another dbt project than
	// the latest one, which replaces every exposure of that project.
	AllowProjectChange bool `json:",omitempty"`
}

// JobLineageResult summarizes a post-job run.
type JobLineageResult struct {
	DbtRunID   string
	Manifest   store.Ref
	RunResults store.Ref `json:",omitzero"`
	Snapshot   store.Ref
	// SyncWorkflowID is the child sync run first because the store had no
	// snapshot yet; empty when none ran.
	SyncWorkflowID string `json:",omitempty"`
	Exposures      activities.ComputeExposuresResult
	Refresh        RefreshTriggerResult
	// Summary is a one-line summary for operators.
	Summary string
}

// JobLineageWorkflow recomputes the exposures after a dbt production run.
// It loads the run's manifest (and run results) into the store and makes
// the manifest the latest. It then computes the exposures against the
// latest Tableau snapshot, syncing first when there is none, writes the
// outputs and starts refreshes of the extracts the run made stale. Its
// workflow ID is JobLineageWorkflowID(run ID), so a second notice for the
// same run joins the first instead of doing the work again.
func JobLineageWorkflow(ctx workflow.Context, in JobLineageInput) (JobLineageResult, error) {
	logger := workflow.GetLogger(ctx)
	res := JobLineageResult{DbtRunID: in.DbtRunID}
	if err := in.validate(); err != nil {
		return res, err
	}
	t, err := newTracker(ctx, Progress{Step: StepStarting, DbtRunID: in.DbtRunID})
	if err != nil {
		return res, err
	}
	logger.Info("job lineage started", "dbt_run_id", in.DbtRunID, "has_run_results", in.RunResultsLocation != "")

	t.step(StepLoading)
	var loaded activities.LoadArtifactsResult
	err = workflow.ExecuteActivity(loadArtifactsOptions(ctx), activities.LoadArtifactsName, activities.LoadArtifactsInput{
		DbtRunID:           in.DbtRunID,
		ManifestLocation:   in.ManifestLocation,
		RunResultsLocation: in.RunResultsLocation,
		AllowProjectChange: in.AllowProjectChange,
	}).Get(ctx, &loaded)
	if err != nil {
		return res, t.fail(fmt.Errorf("loading dbt artifacts: %w", err))
	}
	res.Manifest, res.RunResults = loaded.Manifest, loaded.RunResults
	t.progress.Manifest = loaded.Manifest.Short()

	// The activity keeps the latest manifest when it is newer than this
	// run's by generated_at, as for a notice that arrives late.
	err = workflow.ExecuteActivity(storeOptions(ctx, "make the manifest the latest"), activities.SetLatestName,
		activities.SetLatestInput{Kind: store.KindManifest, Ref: loaded.Manifest}).Get(ctx, nil)
	if err != nil {
		return res, t.fail(fmt.Errorf("setting the latest manifest: %w", err))
	}

	snapshot, syncID, err := latestOrSyncedSnapshot(ctx, t, in.DbtRunID)
	if err != nil {
		return res, t.fail(err)
	}
	res.Snapshot, res.SyncWorkflowID = snapshot, syncID
	t.progress.Snapshot = snapshot.Short()

	t.step(StepComputing, "manifest", loaded.Manifest.Hash, "snapshot", snapshot.Hash)
	err = workflow.ExecuteActivity(computeOptions(ctx), activities.ComputeExposuresName, activities.ComputeExposuresInput{
		DbtRunID:   in.DbtRunID,
		Manifest:   loaded.Manifest,
		Snapshot:   snapshot,
		RunResults: loaded.RunResults,
	}).Get(ctx, &res.Exposures)
	if err != nil {
		return res, t.fail(fmt.Errorf("computing exposures: %w", err))
	}
	t.recordExposures(res.Exposures)

	t.step(StepRefreshing)
	res.Refresh, err = startStaleRefreshes(ctx, RefreshTrigger{
		DbtRunID:   in.DbtRunID,
		Manifest:   loaded.Manifest,
		Snapshot:   snapshot,
		RunResults: loaded.RunResults,
	})
	if err != nil {
		return res, t.fail(fmt.Errorf("starting extract refreshes: %w", err))
	}

	res.Summary = lineageSummary(res)
	t.step(StepDone, "exposures", res.Exposures.Exposures, "added", res.Exposures.Added,
		"changed", res.Exposures.Changed, "removed", res.Exposures.Removed, "refreshes", res.Refresh.Started)
	return res, nil
}

func (in JobLineageInput) validate() error {
	var problems []string
	if strings.TrimSpace(in.DbtRunID) == "" {
		problems = append(problems, "the dbt run ID is empty: pass the ID of the finished run")
	}
	if strings.TrimSpace(in.ManifestLocation) == "" {
		problems = append(problems, "the manifest location is empty: pass the path or URL of the run's manifest.json")
	}
	if len(problems) == 0 {
		return nil
	}
	return temporal.NewNonRetryableApplicationError("invalid job lineage input: "+strings.Join(problems, "; "), activities.ErrTypeInvalidInput, nil)
}

// childSyncSelectionChange is the change ID under which the first sync's
// selection is resolved by ResolveSelection.
const childSyncSelectionChange = "resolve-child-sync-selection"

// latestOrSyncedSnapshot returns the latest Tableau snapshot, running a
// snapshot-only sync as a child workflow first when the store has none. The
// child reads the selection ResolveSelection returns: the latest snapshot's,
// else the daily schedule's, else the worker's default.
func latestOrSyncedSnapshot(ctx workflow.Context, t *tracker, dbtRunID string) (store.Ref, string, error) {
	var snapshot store.Ref
	err := workflow.ExecuteActivity(storeOptions(ctx, "find the latest Tableau snapshot"), activities.GetLatestName,
		store.KindSnapshot).Get(ctx, &snapshot)
	if err != nil {
		return store.Ref{}, "", fmt.Errorf("finding the latest snapshot: %w", err)
	}
	if !snapshot.IsZero() {
		return snapshot, "", nil
	}

	syncID := ChildSyncWorkflowID(dbtRunID)
	syncIn := CollectionSyncInput{SnapshotOnly: true}
	// Runs started before the selection was resolved synced the worker's
	// default selection; they replay without the activity.
	if workflow.GetVersion(ctx, childSyncSelectionChange, workflow.DefaultVersion, 1) == 1 {
		var resolved activities.ResolveSelectionResult
		err := workflow.ExecuteActivity(resolveSelectionOptions(ctx), activities.ResolveSelectionName).Get(ctx, &resolved)
		if err != nil {
			return store.Ref{}, "", fmt.Errorf("resolving the selection of the first sync: %w", err)
		}
		syncIn.Selection = resolved.Selection
		workflow.GetLogger(ctx).Info("first sync selection resolved", "source", resolved.Source,
			"collections", resolved.Selection.Collections, "projects", resolved.Selection.Projects,
			"workbook_luids", len(resolved.Selection.WorkbookLUIDs))
	}
	t.step(StepSyncing, "sync_workflow_id", syncID)
	summary, details := CollectionSyncSummary(syncIn)
	childCtx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:    syncID,
		StaticSummary: summary,
		StaticDetails: details,
	})
	var synced CollectionSyncResult
	if err := workflow.ExecuteChildWorkflow(childCtx, CollectionSyncWorkflowName, syncIn).Get(ctx, &synced); err != nil {
		return store.Ref{}, syncID, fmt.Errorf("syncing Tableau before the first computation: %w", err)
	}
	return synced.Snapshot, syncID, nil
}

func lineageSummary(r JobLineageResult) string {
	s := fmt.Sprintf("dbt run %s: %s", r.DbtRunID, exposuresSummary(r.Exposures))
	if r.Exposures.Superseded {
		s = fmt.Sprintf("dbt run %s: %s; not written: %s", r.DbtRunID, countsSummary(r.Exposures), r.Exposures.Note)
	}
	switch {
	case r.Refresh.Disabled:
		s += "; refreshes off"
	case r.Refresh.Stale > 0:
		s += fmt.Sprintf("; %d stale extracts, %d refreshes started", r.Refresh.Stale, r.Refresh.Started)
	}
	return s
}
