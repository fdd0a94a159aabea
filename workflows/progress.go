package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"
)

// ProgressQuery is the query to which CollectionSyncWorkflow and
// JobLineageWorkflow return their Progress, while they run and after.
const ProgressQuery = "progress"

// Steps a sync or post-job run goes through, as Progress.Step shows them.
const (
	StepStarting       = "starting"
	StepListing        = "listing workbooks"
	StepReadingLineage = "reading lineage"
	StepLoading        = "loading dbt artifacts"
	StepSyncing        = "syncing Tableau first"
	StepComputing      = "computing exposures"
	StepRefreshing     = "starting extract refreshes"
	StepDone           = "done"
	StepFailed         = "failed"
)

// Progress is the current step of a run and the counts known so far.
type Progress struct {
	Step     string
	DbtRunID string `json:",omitempty"`
	// Workbooks counts the workbooks selected; Snapshot and Manifest are
	// the short hashes of what the run reads.
	Workbooks int    `json:",omitempty"`
	Snapshot  string `json:",omitempty"`
	Manifest  string `json:",omitempty"`
	// Exposure counts, once computed.
	Exposures       int `json:",omitempty"`
	Added           int `json:",omitempty"`
	Changed         int `json:",omitempty"`
	Removed         int `json:",omitempty"`
	UnmatchedTables int `json:",omitempty"`
	// Error is the failure, when Step is failed.
	Error string `json:",omitempty"`
}

// tracker holds a run's progress, serves the progress query and mirrors
// each step into the current details the Web UI shows.
type tracker struct {
	ctx      workflow.Context
	progress Progress
}

func newTracker(ctx workflow.Context, p Progress) (*tracker, error) {
	t := &tracker{ctx: ctx, progress: p}
	if err := workflow.SetQueryHandler(ctx, ProgressQuery, func() (Progress, error) {
		return t.progress, nil
	}); err != nil {
		return nil, fmt.Errorf("registering the progress query: %w", err)
	}
	t.publish()
	return t, nil
}

// step moves to the named step and logs it with the run's IDs.
func (t *tracker) step(name string, keyvals ...any) {
	t.progress.Step = name
	t.publish()
	args := append([]any{"step", name}, keyvals...)
	if t.progress.DbtRunID != "" {
		args = append(args, "dbt_run_id", t.progress.DbtRunID)
	}
	workflow.GetLogger(t.ctx).Info("step", args...)
}

// fail records err as the end of the run and returns it.
func (t *tracker) fail(err error) error {
	t.progress.Step = StepFailed
	t.progress.Error = err.Error()
	t.publish()
	return err
}

// publish sets the workflow's current details, shown in the Web UI.
func (t *tracker) publish() {
	p := t.progress
	var b strings.Builder
	fmt.Fprintf(&b, "**Step:** %s", p.Step)
	if p.DbtRunID != "" {
		fmt.Fprintf(&b, "\n\n**dbt run:** %s", p.DbtRunID)
	}
	if p.Workbooks > 0 {
		fmt.Fprintf(&b, "\n\n**Workbooks:** %d", p.Workbooks)
	}
	if p.Manifest != "" {
		fmt.Fprintf(&b, "\n\n**Manifest:** %s", p.Manifest)
	}
	if p.Snapshot != "" {
		fmt.Fprintf(&b, "\n\n**Snapshot:** %s", p.Snapshot)
	}
	if p.Step == StepDone {
		fmt.Fprintf(&b, "\n\n**Exposures:** %d (%d added, %d changed, %d removed), %d unmatched tables",
			p.Exposures, p.Added, p.Changed, p.Removed, p.UnmatchedTables)
	}
	if p.Error != "" {
		fmt.Fprintf(&b, "\n\n**Error:** %s", p.Error)
	}
	workflow.SetCurrentDetails(t.ctx, b.String())
}
