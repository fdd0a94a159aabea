package activities

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// FindStaleExtracts finds the extracts whose upstream models the run rebuilt
// after their last refresh, from the run's manifest, run results and Tableau
// snapshot in the store. It writes that list next to the exposures file
// (StalePath) and returns one refresh request per extract that the settings
// allow to refresh.
func (a *Activities) FindStaleExtracts(ctx context.Context, in FindStaleInput) (FindStaleResult, error) {
	logger := activity.GetLogger(ctx)

	m, snap, rr, err := a.loadStaleInputs(in)
	if err != nil {
		return FindStaleResult{}, err
	}
	stale := lineage.FindStale(m, snap, lineage.Compute(m, snap, lineage.Options{}), rr)

	extracts := groupStaleExtracts(snap, stale.Extracts)
	scope := newRefreshScope(snap, a.Settings.RefreshCollections, a.Settings.RefreshProjects)
	res := FindStaleResult{
		Disabled: !bool(a.Settings.Refresh),
		Stale:    len(extracts),
		Ignored:  len(stale.Ignored),
		Note:     stale.CommandNote,
	}
	var requests []RefreshRequest
	for i := range extracts {
		e := &extracts[i]
		e.InScope = scope.allows(snap, *e)
		if !e.InScope {
			res.OutOfScope++
			continue
		}
		requests = append(requests, e.request(in.DbtRunID, a.Settings.RefreshMinInterval))
	}
	res.Refreshes = len(requests)

	report := StaleReport{
		DbtRunID:       in.DbtRunID,
		RefreshEnabled: !res.Disabled,
		MinInterval:    a.Settings.RefreshMinInterval.String(),
		Command:        stale.Command,
		Note:           stale.CommandNote,
		Extracts:       extracts,
		Ignored:        stale.Ignored,
	}
	res.ReportPath = StalePath(a.Settings.ExposuresPath)
	if err := writeJSONAtomic(res.ReportPath, report); err != nil {
		return FindStaleResult{}, temporal.NewApplicationError("writing the stale extracts report: "+err.Error(), ErrTypeOutput)
	}
	if res.Disabled {
		res.Refreshes = 0
	} else if len(requests) > 0 {
		res.Requests, err = a.putJSON(KindRefreshRequests, requests)
		if err != nil {
			return FindStaleResult{}, storeError("storing the refresh requests", err)
		}
	}

	logger.Info("stale extracts found", "dbt_run_id", in.DbtRunID, "stale", res.Stale, "out_of_scope", res.OutOfScope,
		"ignored_results", res.Ignored, "dbt_command", stale.Command, "note", res.Note,
		"refresh_disabled", res.Disabled, "report_path", res.ReportPath)
	return res, nil
}

// StalePath returns where the stale extracts of the last run are listed:
// the exposures file's path with ".stale.json" appended.
func StalePath(exposuresPath string) string {
	return exposuresPath + ".stale.json"
}

// StaleReport is the JSON form of the stale extracts file.
type StaleReport struct {
	DbtRunID       string `json:"dbtRunId"`
	RefreshEnabled bool   `json:"refreshEnabled"`
	MinInterval    string `json:"minInterval"`
	// Command is the dbt command that wrote the run results; Note explains why
	// they were ignored, or that they were read as a dbt build.
	Command  string                  `json:"dbtCommand,omitempty"`
	Note     string                  `json:"note,omitempty"`
	Extracts []StaleExtractEntry     `json:"extracts"`
	Ignored  []lineage.IgnoredResult `json:"ignored,omitempty"`
}

// StaleExtractEntry is one stale extract: what it serves, which models made
// it stale and whether the refresh settings allow refreshing it.
type StaleExtractEntry struct {
	LUID string `json:"luid"`
	// Kind is workbook for embedded extracts, refreshed through their
	// workbook, and datasource for published data sources.
	Kind string `json:"kind"`
	Name string `json:"name"`
	// DatasourceIDs are the embedded data sources with extracts (Kind
	// workbook).
	DatasourceIDs []string   `json:"datasourceIds,omitempty"`
	LastRefresh   *time.Time `json:"lastRefresh,omitempty"`
	RebuiltAt     time.Time  `json:"rebuiltAt"`
	// WorkbookLUIDs are the workbooks, and so the exposures, it serves.
	WorkbookLUIDs []string `json:"workbookLuids"`
	Models        []string `json:"models"`
	InScope       bool     `json:"inScope"`
}

// groupStaleExtracts merges the stale extracts that Tableau refreshes in one
// job: the embedded extracts of one workbook, and every use of one published
// data source. The result is sorted by LUID.
func groupStaleExtracts(snap *tableau.Snapshot, stale []lineage.StaleExtract) []StaleExtractEntry {
	byLUID := map[string]*StaleExtractEntry{}
	for _, s := range stale {
		e, ok := byLUID[s.LUID]
		if !ok {
			e = &StaleExtractEntry{LUID: s.LUID, Kind: KindWorkbook, Name: s.Name}
			if s.Published {
				e.Kind = KindDatasource
				if d, ok := snap.PublishedDatasource(s.LUID); ok {
					e.Name = d.Name
				}
			} else if wb, ok := findWorkbook(snap, s.LUID); ok {
				e.Name = wb.Name
			}
			byLUID[s.LUID] = e
		}
		if !s.Published && s.DatasourceID != "" {
			e.DatasourceIDs = append(e.DatasourceIDs, s.DatasourceID)
		}
		// The oldest refresh among merged extracts is the one the job fixes.
		if s.LastRefresh != nil && (e.LastRefresh == nil || s.LastRefresh.Before(*e.LastRefresh)) {
			t := *s.LastRefresh
			e.LastRefresh = &t
		}
		if s.RebuiltAt.After(e.RebuiltAt) {
			e.RebuiltAt = s.RebuiltAt
		}
		e.WorkbookLUIDs = append(e.WorkbookLUIDs, s.Exposures...)
		e.Models = append(e.Models, s.Models...)
	}

	out := make([]StaleExtractEntry, 0, len(byLUID))
	for _, e := range byLUID {
		for _, list := range []*[]string{&e.DatasourceIDs, &e.WorkbookLUIDs, &e.Models} {
			slices.Sort(*list)
			*list = slices.Compact(*list)
		}
		out = append(out, *e)
	}
	slices.SortFunc(out, func(a, b StaleExtractEntry) int { return cmp.Compare(a.LUID, b.LUID) })
	return out
}

// request builds the refresh workflow input for e.
func (e StaleExtractEntry) request(dbtRunID string, minInterval time.Duration) RefreshRequest {
	return RefreshRequest{
		ExtractLUID:   e.LUID,
		Kind:          e.Kind,
		Name:          e.Name,
		WorkbookLUIDs: slices.Clone(e.WorkbookLUIDs[:min(len(e.WorkbookLUIDs), maxWorkbooksInRequest)]),
		WorkbookCount: len(e.WorkbookLUIDs),
		DatasourceIDs: e.DatasourceIDs,
		DbtRunID:      dbtRunID,
		Models:        slices.Clone(e.Models[:min(len(e.Models), maxModelsInRequest)]),
		ModelCount:    len(e.Models),
		RebuiltAt:     e.RebuiltAt,
		LastRefresh:   e.LastRefresh,
		MinInterval:   minInterval,
	}
}

// refreshScope is the set of workbooks that refreshes are limited to. A
// nil scope allows every workbook.
type refreshScope struct {
	collections map[string]bool // collection LUIDs
	projects    map[string]bool // lowercased project names
}

func newRefreshScope(snap *tableau.Snapshot, collections, projects []string) *refreshScope {
	if len(collections) == 0 && len(projects) == 0 {
		return nil
	}
	s := &refreshScope{collections: map[string]bool{}, projects: map[string]bool{}}
	for _, want := range collections {
		want = strings.TrimSpace(want)
		for _, c := range snap.Collections {
			if c.LUID == want || strings.EqualFold(c.Name, want) {
				s.collections[c.LUID] = true
			}
		}
	}
	for _, p := range projects {
		s.projects[strings.ToLower(strings.TrimSpace(p))] = true
	}
	return s
}

// allows reports whether e serves a workbook in the scope, or is a
// published data source in one of the scope's projects.
func (s *refreshScope) allows(snap *tableau.Snapshot, e StaleExtractEntry) bool {
	if s == nil {
		return true
	}
	if e.Kind == KindDatasource {
		if d, ok := snap.PublishedDatasource(e.LUID); ok && s.projects[strings.ToLower(d.ProjectName)] {
			return true
		}
	}
	for _, luid := range e.WorkbookLUIDs {
		wb, ok := findWorkbook(snap, luid)
		if !ok {
			continue
		}
		if s.projects[strings.ToLower(wb.ProjectName)] {
			return true
		}
		if slices.ContainsFunc(wb.Collections, func(c string) bool { return s.collections[c] }) {
			return true
		}
		for _, c := range snap.Collections {
			if s.collections[c.LUID] && slices.Contains(c.WorkbookLUIDs, luid) {
				return true
			}
		}
	}
	return false
}

// findWorkbook looks a workbook up in a normalized snapshot, whose
// workbooks are sorted by LUID.
func findWorkbook(snap *tableau.Snapshot, luid string) (tableau.Workbook, bool) {
	i, ok := slices.BinarySearchFunc(snap.Workbooks, luid, func(w tableau.Workbook, l string) int { return cmp.Compare(w.LUID, l) })
	if ok {
		return snap.Workbooks[i], true
	}
	// A snapshot that was not normalized is searched in full.
	for _, w := range snap.Workbooks {
		if w.LUID == luid {
			return w, true
		}
	}
	return tableau.Workbook{}, false
}

// LoadRefreshRequests reads the refresh requests that FindStaleExtracts
// stored under ref.
func (a *Activities) LoadRefreshRequests(ref store.Ref) ([]RefreshRequest, error) {
	return loadRefreshArtifact(ref, "refresh requests", func() ([]RefreshRequest, error) {
		var requests []RefreshRequest
		err := a.getJSON(ref, &requests)
		return requests, err
	})
}

// loadStaleInputs reads the three artifacts from the store. The manifest
// and the snapshot come through the worker's decode cache, which
// ComputeExposures has usually just filled for the same run.
func (a *Activities) loadStaleInputs(in FindStaleInput) (*dbt.Manifest, *tableau.Snapshot, *dbt.RunResults, error) {
	m, err := loadRefreshArtifact(in.Manifest, "manifest", func() (*dbt.Manifest, error) {
		return a.manifest(in.Manifest, in.Manifest.String())
	})
	if err != nil {
		return nil, nil, nil, err
	}
	snap, err := loadRefreshArtifact(in.Snapshot, "Tableau snapshot", func() (*tableau.Snapshot, error) {
		return a.snapshot(in.Snapshot)
	})
	if err != nil {
		return nil, nil, nil, err
	}
	rr, err := loadRefreshArtifact(in.RunResults, "run results", func() (*dbt.RunResults, error) {
		return a.runResults(in.RunResults, in.RunResults.String())
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return m, snap, rr, nil
}

// loadRefreshArtifact runs load, which reads ref from the store, and
// classifies its error. Errors that a retry cannot fix (no reference, a
// missing or corrupt blob, an invalid artifact) are non-retryable.
func loadRefreshArtifact[T any](ref store.Ref, what string, load func() (T, error)) (T, error) {
	var zero T
	if ref.IsZero() {
		return zero, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("no %s reference given: the caller must pass the store reference of the run's %s", what, what),
			ErrTypeInvalidInput, nil)
	}

	v, err := load()
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return v, nil
	case errors.Is(err, store.ErrNotFound):
		return zero, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s %s is not in the store: check that the worker uses the same AUTOEXPOSURES_STATE_DIR as the run that stored it", what, ref), ErrTypeInvalidInput, nil)
	case errors.Is(err, dbt.ErrInvalidArtifact), errors.Is(err, store.ErrCorrupt),
		errors.As(err, &syntaxErr), errors.As(err, &typeErr), errors.Is(err, io.ErrUnexpectedEOF):
		return zero, temporal.NewNonRetryableApplicationError(fmt.Sprintf("reading %s %s: %v", what, ref, err), ErrTypeInvalidArtifact, nil)
	default:
		return zero, storeError(fmt.Sprintf("reading %s %s", what, ref), err)
	}
}

// writeJSONAtomic writes v as indented JSON to path through a temporary
// file and a rename, so that readers never see half a file.
func writeJSONAtomic(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", path, err)
	}
	data = append(data, '\n')
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}

	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("creating a temporary file next to %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", tmp.Name(), path, err)
	}
	return nil
}
