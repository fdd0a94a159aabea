package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/store"
)

// ComputeExposuresInput names the stored manifest and snapshot to compute
// exposures from. RunResults is optional; with it the report lists the
// extracts the run made stale.
type ComputeExposuresInput struct {
	// DbtRunID is the run that triggered the computation, empty for a sync.
	DbtRunID   string `json:",omitempty"`
	Manifest   store.Ref
	Snapshot   store.Ref
	RunResults store.Ref `json:",omitzero"`
}

// maxNamesInSummary bounds the exposure names and unmatched tables a result
// carries, because results are kept in the workflow history; the report
// file has them all.
const maxNamesInSummary = 20

// ComputeExposuresResult summarizes what was written.
type ComputeExposuresResult struct {
	Exposures int
	// Added, Changed and Removed count exposures against the previous file;
	// the name lists hold at most maxNamesInSummary names each.
	Added        int
	Changed      int
	Removed      int
	AddedNames   []string `json:",omitempty"`
	ChangedNames []string `json:",omitempty"`
	RemovedNames []string `json:",omitempty"`
	// MatchedTables and UnmatchedTables count upstream tables; Unmatched
	// shows the first few as "workbook LUID: table (reason)".
	MatchedTables   int
	UnmatchedTables int
	Unmatched       []string `json:",omitempty"`
	SkippedWorkbook int      `json:",omitempty"`
	StaleExtracts   int      `json:",omitempty"`
	Warnings        int      `json:",omitempty"`
	// FileChanged is false when the exposures file already held this
	// content and was left untouched.
	FileChanged   bool
	ExposuresPath string
	ReportPath    string
	// EnrichedManifestPath is set when an enriched manifest was written.
	EnrichedManifestPath string `json:",omitempty"`
	// Report is the run report in the store.
	Report store.Ref
	// Manifest and Snapshot are the inputs the exposures were computed
	// from: the newest of those passed in and the latest pointers at the
	// time of writing.
	Manifest store.Ref `json:",omitzero"`
	Snapshot store.Ref `json:",omitzero"`
	// Superseded is set for a post-job run whose manifest is older than the
	// latest, NewerManifest: its report was computed and stored, but the
	// exposures file, the report file and the enriched manifest were left
	// to the newer manifest.
	Superseded    bool      `json:",omitempty"`
	NewerManifest store.Ref `json:",omitzero"`
	// Note explains an unusual outcome, such as Superseded, for summaries.
	Note string `json:",omitempty"`
}

// RunReport is the JSON file written next to the exposures file: the
// exposures report plus what it was computed from.
type RunReport struct {
	DbtRunID    string    `json:"dbt_run_id,omitempty"`
	GeneratedAt time.Time `json:"generated_at"`
	Manifest    store.Ref `json:"manifest"`
	Snapshot    store.Ref `json:"snapshot"`
	RunResults  store.Ref `json:"run_results,omitzero"`
	exposures.Report
}

// ComputeExposures matches the snapshot's workbooks to the manifest's
// nodes, writes the exposures file (untouched when nothing changed), the
// run report and, when configured, the enriched manifest, and keeps the
// report in the store.
func (a *Activities) ComputeExposures(ctx context.Context, in ComputeExposuresInput) (ComputeExposuresResult, error) {
	logger := activity.GetLogger(ctx)
	if in.Manifest.IsZero() || in.Snapshot.IsZero() {
		return ComputeExposuresResult{}, invalidInput("computing exposures needs a manifest and a snapshot, got manifest %s and snapshot %s", in.Manifest, in.Snapshot)
	}

	stop := keepAlive(ctx)
	defer stop()

	// Two workers computing at once would each write the exposures file,
	// and the last to finish would win even with older inputs. Under the
	// lock each computation picks the newest inputs at the time it writes.
	unlock, err := a.lockCompute(ctx)
	if err != nil {
		return ComputeExposuresResult{}, storeError("waiting for another computation to finish", err)
	}
	defer unlock()
	use, err := a.newestInputs(in)
	if err != nil {
		return ComputeExposuresResult{}, err
	}
	if use.manifest != in.Manifest || use.snapshot != in.Snapshot {
		logger.Info("computing with newer inputs", "dbt_run_id", in.DbtRunID,
			"manifest", use.manifest.Hash, "snapshot", use.snapshot.Hash)
	}

	m, err := a.manifest(use.manifest, "stored manifest "+use.manifest.Short())
	if err != nil {
		return ComputeExposuresResult{}, storedInputError("manifest", err)
	}
	snap, err := a.snapshot(use.snapshot)
	if err != nil {
		return ComputeExposuresResult{}, storedInputError("snapshot", err)
	}
	var rr *dbt.RunResults
	if !in.RunResults.IsZero() {
		rr, err = a.runResults(in.RunResults, "stored run results "+in.RunResults.Short())
		if err != nil {
			return ComputeExposuresResult{}, storedInputError("run results", err)
		}
	}
	var curation *exposures.Curation
	if a.Settings.CurationPath != "" {
		curation, err = exposures.LoadCuration(a.Settings.CurationPath)
		if err != nil {
			return ComputeExposuresResult{}, temporal.NewNonRetryableApplicationError(
				fmt.Sprintf("loading curation file: %v: fix AUTOEXPOSURES_CURATION_FILE and restart the worker", err), ErrTypeInvalidInput, nil)
		}
	}

	path := a.Settings.ExposuresPath
	previous, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return ComputeExposuresResult{}, outputError("reading the previous exposures file", err)
	}

	out, err := exposures.Generate(exposures.Input{
		Manifest:   m,
		Snapshot:   snap,
		Curation:   curation,
		Previous:   previous,
		RunResults: rr,
		FilePath:   projectPath(path, a.Settings.DbtProjectDir),
	})
	if err != nil {
		return ComputeExposuresResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("generating exposures: %v", err), ErrTypeInvalidInput, nil)
	}

	in.Manifest, in.Snapshot = use.manifest, use.snapshot
	if !use.newerManifest.IsZero() {
		res, err := a.storeSupersededReport(ctx, in, out, use.newerManifest)
		if err != nil {
			return ComputeExposuresResult{}, err
		}
		logger.Info("exposures not written: a newer manifest is the latest", "dbt_run_id", in.DbtRunID,
			"manifest", in.Manifest.Hash, "latest_manifest", use.newerManifest.Hash, "report", res.Report.Hash)
		a.prune(ctx)
		return res, nil
	}

	res, err := a.writeOutputs(ctx, in, out)
	if err != nil {
		return ComputeExposuresResult{}, err
	}
	logger.Info("exposures written", "dbt_run_id", in.DbtRunID, "exposures", res.Exposures,
		"added", res.Added, "changed", res.Changed, "removed", res.Removed,
		"unmatched_tables", res.UnmatchedTables, "file_changed", res.FileChanged, "path", res.ExposuresPath,
		"manifest", in.Manifest.Hash, "snapshot", in.Snapshot.Hash)
	a.prune(ctx)
	return res, nil
}

// storeSupersededReport keeps the report of a post-job run whose manifest
// is older than the latest in the store only, and writes no output file.
func (a *Activities) storeSupersededReport(ctx context.Context, in ComputeExposuresInput, out *exposures.Output, newer store.Ref) (ComputeExposuresResult, error) {
	reportRef, err := a.putJSON(store.KindReport, a.runReport(ctx, in, out))
	if err != nil {
		return ComputeExposuresResult{}, storeError("storing the run report", err)
	}
	res := summarize(out.Report)
	res.Report = reportRef
	res.Manifest, res.Snapshot = in.Manifest, in.Snapshot
	res.Superseded, res.NewerManifest = true, newer
	res.Note = supersededNote(newer)
	return res, nil
}

func (a *Activities) runReport(ctx context.Context, in ComputeExposuresInput, out *exposures.Output) RunReport {
	return RunReport{
		DbtRunID:    in.DbtRunID,
		GeneratedAt: activity.GetInfo(ctx).StartedTime.UTC(),
		Manifest:    in.Manifest,
		Snapshot:    in.Snapshot,
		RunResults:  in.RunResults,
		Report:      out.Report,
	}
}

// writeOutputs writes the exposures file, the report and the enriched
// manifest from in's manifest and snapshot, and builds the result. The
// caller holds the compute lock.
func (a *Activities) writeOutputs(ctx context.Context, in ComputeExposuresInput, out *exposures.Output) (ComputeExposuresResult, error) {
	path := a.Settings.ExposuresPath
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return ComputeExposuresResult{}, outputError("creating the exposures directory", err)
	}
	changed, err := exposures.WriteFileAtomic(path, out.YAML)
	if err != nil {
		return ComputeExposuresResult{}, outputError("writing "+path, err)
	}

	report := a.runReport(ctx, in, out)
	data, err := json.MarshalIndent(report, "", "  ")
	if err != nil {
		return ComputeExposuresResult{}, outputError("encoding the run report", err)
	}
	data = append(data, '\n')
	reportPath := a.Settings.Report()
	if err := os.MkdirAll(filepath.Dir(reportPath), 0o755); err != nil {
		return ComputeExposuresResult{}, outputError("creating the report directory", err)
	}
	if _, err := exposures.WriteFileAtomic(reportPath, data); err != nil {
		return ComputeExposuresResult{}, outputError("writing "+reportPath, err)
	}
	reportRef, err := a.putJSON(store.KindReport, report)
	if err != nil {
		return ComputeExposuresResult{}, storeError("storing the run report", err)
	}

	res := summarize(out.Report)
	res.FileChanged = changed
	res.ExposuresPath = path
	res.ReportPath = reportPath
	res.Report = reportRef
	res.Manifest, res.Snapshot = in.Manifest, in.Snapshot

	if a.Settings.EnrichedManifestPath != "" {
		if err := a.enrich(in.Manifest, out); err != nil {
			return ComputeExposuresResult{}, err
		}
		res.EnrichedManifestPath = a.Settings.EnrichedManifestPath
	}
	return res, nil
}

// enrich writes the enriched manifest from the stored manifest file.
func (a *Activities) enrich(manifest store.Ref, out *exposures.Output) error {
	pather, ok := a.Store.(interface {
		Path(store.Ref) (string, error)
	})
	if !ok {
		// TODO: copy the blob to a temporary file for stores without local files.
		return temporal.NewNonRetryableApplicationError("writing the enriched manifest needs a file-backed store: unset AUTOEXPOSURES_ENRICHED_MANIFEST", ErrTypeInvalidInput, nil)
	}
	src, err := pather.Path(manifest)
	if err != nil {
		return storeError("locating the stored manifest", err)
	}
	dst := a.Settings.EnrichedManifestPath
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return outputError("creating the enriched manifest directory", err)
	}
	if err := exposures.EnrichManifest(src, dst, out); err != nil {
		return outputError("writing the enriched manifest "+dst, err)
	}
	return nil
}

// summarize turns the report into the small result the workflow keeps.
func summarize(r exposures.Report) ComputeExposuresResult {
	res := ComputeExposuresResult{
		Exposures:       r.Exposures,
		Added:           len(r.Added),
		Changed:         len(r.Changed),
		Removed:         len(r.Removed),
		AddedNames:      firstN(r.Added),
		ChangedNames:    firstN(r.Changed),
		RemovedNames:    firstN(r.Removed),
		MatchedTables:   len(r.Matched),
		UnmatchedTables: len(r.Unmatched),
		SkippedWorkbook: len(r.Skipped),
		Warnings:        len(r.Warnings),
	}
	for _, u := range r.Unmatched {
		if len(res.Unmatched) == maxNamesInSummary {
			break
		}
		res.Unmatched = append(res.Unmatched, fmt.Sprintf("%s: %s (%s)", u.WorkbookLUID, u.Table, u.Reason))
	}
	if r.Stale != nil {
		res.StaleExtracts = len(r.Stale.Extracts)
	}
	return res
}

func firstN(names []string) []string {
	if len(names) > maxNamesInSummary {
		return names[:maxNamesInSummary:maxNamesInSummary]
	}
	return names
}

// projectPath returns the exposures file's path as the enriched manifest
// records it (original_file_path, relative to the dbt project). With
// projectDir set and the file inside it, that is the path relative to
// projectDir. Otherwise a relative path is taken as relative to the dbt
// project already, and an absolute one gives "", which the exposures package
// replaces with exposures.DefaultFilePath.
func projectPath(path, projectDir string) string {
	if projectDir != "" {
		if rel, ok := relativeInside(path, projectDir); ok {
			return rel
		}
	}
	if filepath.IsAbs(path) {
		return ""
	}
	return filepath.ToSlash(filepath.Clean(path))
}

// relativeInside returns path relative to dir, in slash form, when path is
// inside dir. Both are made absolute against the working directory first.
func relativeInside(path, dir string) (string, bool) {
	absPath, err := filepath.Abs(path)
	if err != nil {
		return "", false
	}
	absDir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(absDir, absPath)
	if err != nil || rel == "." || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}

// storedInputError classifies a failure to read a stored input: a missing
// blob cannot come back, and an invalid artifact stays invalid.
func storedInputError(what string, err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrCorrupt):
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("reading stored %s: %v: the state directory lost it or it was modified; load the artifacts or sync again", what, err), ErrTypeInvalidInput, nil)
	case errors.Is(err, dbt.ErrInvalidArtifact):
		return artifactError(err)
	}
	return storeError("reading stored "+what, err)
}

// outputError returns a retryable error for a file that could not be
// written: a full disk or a permission problem can be fixed meanwhile.
func outputError(what string, err error) error {
	return temporal.NewApplicationError(what+": "+err.Error(), ErrTypeOutput)
}
