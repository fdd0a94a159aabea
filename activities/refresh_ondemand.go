package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Names of the on-demand refresh flow: the starter starts the workflow,
// which runs the activity on the worker, where the store and the exposures
// file are.
const (
	OnDemandRefreshWorkflowName = "OnDemandRefreshWorkflow"
	StartOnDemandRefreshName    = "StartOnDemandRefresh"
)

// OnDemandRefreshInput is an operator's refresh target: exactly one of
// Exposure (an exposure's name), WorkbookLUID and DatasourceLUID.
type OnDemandRefreshInput struct {
	Exposure       string `json:",omitempty"`
	WorkbookLUID   string `json:",omitempty"`
	DatasourceLUID string `json:",omitempty"`
	// MinInterval skips an extract refreshed more recently than this; zero
	// always refreshes.
	MinInterval time.Duration
}

// OnDemandRefreshResult is the target as the worker resolved it and the
// refresh workflows that run for it.
type OnDemandRefreshResult struct {
	// Target describes the target as the worker resolved it, such as
	// exposure orders (workbook "Orders" 3f2a...).
	Target string
	// NothingToRefresh, when set, explains why the target has no extract to
	// refresh. Refreshes is empty then.
	NothingToRefresh string   `json:",omitempty"`
	Notes            []string `json:",omitempty"`
	Refreshes        []OnDemandRefresh
}

// OnDemandRefresh is one refresh workflow started or joined on demand.
type OnDemandRefresh struct {
	WorkflowID  string
	RunID       string
	ExtractLUID string
	Kind        string
	Name        string `json:",omitempty"`
	// Joined is true when a refresh of the extract was already running.
	Joined bool `json:",omitempty"`
}

// StartOnDemandRefresh resolves the target against the worker's latest
// snapshot and exposures file, then starts the refresh workflow of each
// extract it uses (refresh-<extract LUID>, joining one that runs). An
// unknown exposure or an invalid input is a non-retryable error. Starting
// again is safe, so a retried activity does no harm.
func (a *Activities) StartOnDemandRefresh(ctx context.Context, in OnDemandRefreshInput) (OnDemandRefreshResult, error) {
	logger := activity.GetLogger(ctx)
	snap, err := a.latestSnapshot()
	if err != nil {
		return OnDemandRefreshResult{}, err
	}
	resolved, err := ResolveRefreshTarget(snap, a.Settings.ExposuresPath, in)
	if err != nil {
		return OnDemandRefreshResult{}, err
	}
	res := OnDemandRefreshResult{Target: resolved.Target, NothingToRefresh: resolved.NothingToRefresh, Notes: resolved.Notes}
	if len(resolved.Requests) == 0 {
		logger.Info("nothing to refresh on demand", "target", resolved.Target, "reason", resolved.NothingToRefresh)
		return res, nil
	}

	c := activity.GetClient(ctx)
	taskQueue := a.Settings.TaskQueue
	if taskQueue == "" {
		taskQueue = activity.GetInfo(ctx).TaskQueue
	}
	for _, req := range resolved.Requests {
		id := RefreshWorkflowID(req.ExtractLUID)
		if req.MinInterval > 0 {
			last, err := lastRefreshByUs(ctx, c, id)
			if err != nil {
				return res, err
			}
			req.LastRefreshByUs = last
		}
		joined := refreshRunning(ctx, c, id)
		run, err := c.ExecuteWorkflow(ctx, RefreshStartOptions(req, taskQueue), ExposureRefreshWorkflowName, req)
		if err != nil {
			return res, fmt.Errorf("starting refresh workflow %s: %w", id, err)
		}
		logger.Info("on-demand refresh workflow running", "workflow_id", id, "run_id", run.GetRunID(),
			"extract_luid", req.ExtractLUID, "joined", joined)
		res.Refreshes = append(res.Refreshes, OnDemandRefresh{
			WorkflowID: id, RunID: run.GetRunID(), ExtractLUID: req.ExtractLUID, Kind: req.Kind, Name: req.Name, Joined: joined,
		})
	}
	return res, nil
}

// latestSnapshot returns the latest Tableau snapshot in the store, or nil
// when there is none yet.
func (a *Activities) latestSnapshot() (*tableau.Snapshot, error) {
	ref, err := a.Store.Latest(store.KindSnapshot)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, storeError("reading the latest snapshot", err)
	}
	snap, err := a.snapshot(ref)
	if err != nil {
		return nil, storeError("reading snapshot "+ref.Short(), err)
	}
	return snap, nil
}

// ResolvedTarget is an on-demand target resolved to refresh requests.
type ResolvedTarget struct {
	Target           string
	Requests         []RefreshRequest
	NothingToRefresh string
	Notes            []string
}

// ResolveRefreshTarget turns an on-demand target into refresh requests.
// An exposure is looked up in the exposures file at exposuresPath, which
// gives its workbook. A workbook is refreshed through every extract it
// uses, as snap lists them: the workbook for its embedded extracts and
// each published data source with extracts. snap may be nil; the workbook
// or data source is then refreshed as given, with a note.
func ResolveRefreshTarget(snap *tableau.Snapshot, exposuresPath string, in OnDemandRefreshInput) (ResolvedTarget, error) {
	targets := 0
	for _, v := range []string{in.Exposure, in.WorkbookLUID, in.DatasourceLUID} {
		if v != "" {
			targets++
		}
	}
	if targets != 1 {
		return ResolvedTarget{}, invalidInput("on-demand refresh needs exactly one of an exposure name, a workbook LUID and a data source LUID; got %d", targets)
	}
	if in.MinInterval < 0 {
		return ResolvedTarget{}, invalidInput("minimum interval %s is negative", in.MinInterval)
	}

	var r ResolvedTarget
	switch {
	case in.DatasourceLUID != "":
		r = resolveDatasource(snap, in.DatasourceLUID)
	case in.WorkbookLUID != "":
		r = resolveWorkbook(snap, in.WorkbookLUID, "")
	default:
		luid, err := exposureWorkbook(exposuresPath, in.Exposure)
		if err != nil {
			return ResolvedTarget{}, err
		}
		r = resolveWorkbook(snap, luid, in.Exposure)
	}
	for i := range r.Requests {
		r.Requests[i].OnDemand = true
		r.Requests[i].MinInterval = in.MinInterval
	}
	return r, nil
}

// resolveWorkbook lists the refreshes of every extract the workbook uses.
// exposure is the exposure name the operator gave, or "".
func resolveWorkbook(snap *tableau.Snapshot, luid, exposure string) ResolvedTarget {
	prefix := ""
	if exposure != "" {
		prefix = fmt.Sprintf("exposure %s: ", exposure)
	}
	fallback := func(why string) ResolvedTarget {
		return ResolvedTarget{
			Target: prefix + "workbook " + luid,
			Requests: []RefreshRequest{{
				ExtractLUID: luid, Kind: KindWorkbook, Exposure: exposure, WorkbookLUIDs: []string{luid},
			}},
			Notes: []string{why + "; refreshing workbook " + luid + " alone, which renews its embedded extracts but not the published data sources it uses: run starter sync to take a snapshot"},
		}
	}
	if snap == nil {
		return fallback("the worker has no Tableau snapshot yet")
	}
	wb, ok := findWorkbook(snap, luid)
	if !ok {
		return fallback(fmt.Sprintf("workbook %s is not in the worker's latest snapshot", luid))
	}

	r := ResolvedTarget{Target: fmt.Sprintf("%sworkbook %q (%s)", prefix, wb.Name, wb.LUID)}
	var embedded []string
	var last *time.Time
	for _, d := range wb.EmbeddedDatasources {
		if d.HasExtracts {
			embedded = append(embedded, d.ID)
			last = older(last, d.ExtractLastRefreshTime)
		}
	}
	if len(embedded) > 0 {
		r.Requests = append(r.Requests, RefreshRequest{
			ExtractLUID: wb.LUID, Kind: KindWorkbook, Name: wb.Name, Exposure: exposure,
			WorkbookLUIDs: []string{wb.LUID}, DatasourceIDs: embedded, LastRefresh: last,
		})
	}
	for _, dl := range wb.PublishedDatasourceLUIDs {
		d, ok := snap.PublishedDatasource(dl)
		if ok && d.HasExtracts {
			r.Requests = append(r.Requests, RefreshRequest{
				ExtractLUID: d.LUID, Kind: KindDatasource, Name: d.Name, Exposure: exposure,
				WorkbookLUIDs: []string{wb.LUID}, LastRefresh: d.ExtractLastRefreshTime,
			})
		}
	}
	if len(r.Requests) == 0 {
		r.NothingToRefresh = fmt.Sprintf("%s uses no extract in the latest snapshot, only live connections, which need no refresh", r.Target)
	}
	return r
}

// resolveDatasource lists the refresh of a published data source.
func resolveDatasource(snap *tableau.Snapshot, luid string) ResolvedTarget {
	req := RefreshRequest{ExtractLUID: luid, Kind: KindDatasource}
	if snap == nil {
		return ResolvedTarget{Target: "data source " + luid, Requests: []RefreshRequest{req},
			Notes: []string{"the worker has no Tableau snapshot yet, so the data source's name and workbooks are unknown"}}
	}
	d, ok := snap.PublishedDatasource(luid)
	if !ok {
		return ResolvedTarget{Target: "data source " + luid, Requests: []RefreshRequest{req},
			Notes: []string{fmt.Sprintf("data source %s is not in the worker's latest snapshot; asking Tableau to refresh it anyway", luid)}}
	}
	target := fmt.Sprintf("data source %q (%s)", d.Name, d.LUID)
	if !d.HasExtracts {
		return ResolvedTarget{Target: target, NothingToRefresh: target + " is a live connection in the latest snapshot, which needs no refresh"}
	}
	req.Name, req.LastRefresh = d.Name, d.ExtractLastRefreshTime
	for _, wb := range snap.Workbooks {
		if slices.Contains(wb.PublishedDatasourceLUIDs, luid) {
			if len(req.WorkbookLUIDs) < maxWorkbooksInRequest {
				req.WorkbookLUIDs = append(req.WorkbookLUIDs, wb.LUID)
			}
			req.WorkbookCount++
		}
	}
	return ResolvedTarget{Target: target, Requests: []RefreshRequest{req}}
}

// older returns the earlier of two refresh times; a nil time is skipped.
func older(a, b *time.Time) *time.Time {
	if b == nil || (a != nil && !b.Before(*a)) {
		return a
	}
	t := *b
	return &t
}

// exposureWorkbook reads the exposures file and returns the workbook LUID
// that autoexposures recorded in the meta of the exposure named name.
func exposureWorkbook(path, name string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", invalidInput("reading the worker's exposures file (AUTOEXPOSURES_EXPOSURES_FILE): %v; run starter sync so that the worker writes it, or use --workbook LUID", err)
	}
	var doc struct {
		Exposures []struct {
			Name   string         `yaml:"name"`
			Meta   map[string]any `yaml:"meta"`
			Config struct {
				Meta map[string]any `yaml:"meta"`
			} `yaml:"config"`
		} `yaml:"exposures"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "", invalidInput("reading exposures file %s: %v", path, err)
	}

	var names []string
	for _, e := range doc.Exposures {
		if e.Name != name {
			names = append(names, e.Name)
			continue
		}
		for _, meta := range []map[string]any{e.Config.Meta, e.Meta} {
			ours, _ := meta["autoexposures"].(map[string]any)
			if luid, _ := ours["workbook_luid"].(string); luid != "" {
				return luid, nil
			}
		}
		return "", invalidInput("exposure %s in %s has no meta.autoexposures.workbook_luid, so autoexposures did not generate it: use --workbook LUID", name, path)
	}
	if len(names) == 0 {
		return "", invalidInput("unknown exposure %q: the exposures file %s holds no exposures yet; run starter sync first", name, path)
	}
	msg := fmt.Sprintf("unknown exposure %q: %s has %d exposures, none with that name (use the exposure's name, not its label)", name, path, len(names))
	if closest := closeNames(name, names, 3); len(closest) > 0 {
		msg += "; did you mean " + strings.Join(closest, ", ") + "?"
	}
	return "", invalidInput("%s", msg)
}

// closeNames returns up to n names near name: those that contain it or
// that it contains, then those within a small edit distance, nearest
// first.
func closeNames(name string, names []string, n int) []string {
	type scored struct {
		name string
		dist int
	}
	lower := strings.ToLower(name)
	limit := max(2, len(name)/3)
	var found []scored
	for _, c := range names {
		lc := strings.ToLower(c)
		switch d := editDistance(lower, lc); {
		case strings.Contains(lc, lower) || strings.Contains(lower, lc):
			found = append(found, scored{c, min(d, limit)})
		case d <= limit:
			found = append(found, scored{c, d})
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return a.dist - b.dist })
	var out []string
	for _, f := range found[:min(n, len(found))] {
		out = append(out, f.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes; the
// names are short, so the quadratic cost is small.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// refreshRunning reports whether the refresh workflow id is running, so
// that the operator learns that the request joined it. A failed read only
// loses that detail.
func refreshRunning(ctx context.Context, c client.Client, id string) bool {
	desc, err := c.DescribeWorkflowExecution(ctx, id, "")
	return err == nil && desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
}
