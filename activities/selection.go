package activities

import (
	"context"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// ResolveSelectionName is the registered name of ResolveSelection.
const ResolveSelectionName = "ResolveSelection"

// Sources of a resolved selection, in the order ResolveSelection tries them.
const (
	SelectionFromSnapshot = "latest snapshot"
	SelectionFromSchedule = "schedule"
	SelectionFromDefault  = "worker default"
)

// ResolveSelectionResult is the selection a sync started without one should
// read, and where it came from (one of the SelectionFrom constants).
type ResolveSelectionResult struct {
	Selection tableau.Selection
	Source    string
}

// scheduledSync is the part of the schedule action's input, a
// workflows.CollectionSyncInput, that holds the selection.
type scheduledSync struct {
	Selection tableau.Selection
}

// ResolveSelection returns the selection that a sync started on the
// operators' behalf, such as the first post-job run's, should read, so that
// it reads what the daily sync reads and the next daily sync removes no
// exposures. The order is:
//
//  1. the selection of the latest snapshot, when the store has one;
//  2. the selection in the action of the schedule named by
//     AUTOEXPOSURES_SCHEDULE_ID, when the schedule exists and names one;
//  3. the worker's default selection (AUTOEXPOSURES_COLLECTIONS,
//     AUTOEXPOSURES_PROJECTS, AUTOEXPOSURES_WORKBOOK_LUIDS).
//
// Without a schedule client (Schedules nil) step 2 is skipped.
func (a *Activities) ResolveSelection(ctx context.Context) (ResolveSelectionResult, error) {
	logger := activity.GetLogger(ctx)
	res, err := a.resolveSelection(ctx)
	if err != nil {
		return ResolveSelectionResult{}, err
	}
	logger.Info("selection resolved", "source", res.Source, "collections", res.Selection.Collections,
		"projects", res.Selection.Projects, "workbook_luids", len(res.Selection.WorkbookLUIDs))
	return res, nil
}

func (a *Activities) resolveSelection(ctx context.Context) (ResolveSelectionResult, error) {
	ref, err := a.Store.Latest(store.KindSnapshot)
	switch {
	case err == nil:
		snap, err := a.snapshot(ref)
		if err != nil {
			return ResolveSelectionResult{}, storedInputError("snapshot", err)
		}
		return ResolveSelectionResult{Selection: snap.Selection, Source: SelectionFromSnapshot}, nil
	case !errors.Is(err, store.ErrNotFound):
		return ResolveSelectionResult{}, storeError("finding the latest snapshot", err)
	}

	if a.Schedules != nil && a.Settings.ScheduleID != "" {
		sel, found, err := a.scheduleSelection(ctx, a.Settings.ScheduleID)
		if err != nil {
			return ResolveSelectionResult{}, err
		}
		if found && !sel.IsEmpty() {
			return ResolveSelectionResult{Selection: sel, Source: SelectionFromSchedule}, nil
		}
	}
	return ResolveSelectionResult{Selection: a.Settings.DefaultSelection(), Source: SelectionFromDefault}, nil
}

// scheduleSelection reads the selection from the action of schedule id.
// found is false when the schedule does not exist or does not start a
// workflow with an input.
func (a *Activities) scheduleSelection(ctx context.Context, id string) (sel tableau.Selection, found bool, err error) {
	desc, err := a.Schedules.GetHandle(ctx, id).Describe(ctx)
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return tableau.Selection{}, false, nil
	}
	if err != nil {
		// Retryable: the Temporal server is usually back within the retry
		// policy.
		return tableau.Selection{}, false, fmt.Errorf("describing schedule %s: %w", id, err)
	}
	action, ok := desc.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || len(action.Args) == 0 {
		return tableau.Selection{}, false, nil
	}
	payload, ok := action.Args[0].(*commonpb.Payload)
	if !ok {
		return tableau.Selection{}, false, nil
	}
	var in scheduledSync
	if err := converter.GetDefaultDataConverter().FromPayload(payload, &in); err != nil {
		return tableau.Selection{}, false, invalidInput("reading the selection of schedule %s: %v: fix its action input in the Web UI or run starter schedule again", id, err)
	}
	return in.Selection, true, nil
}
