package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	enumspb "go.temporal.io/api/enums/v1"
	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// refreshEnv holds the worker settings that `refresh --exposure` reads to
// find an exposure's extracts. The defaults are the worker's.
type refreshEnv struct {
	ExposuresPath string `env:"AUTOEXPOSURES_EXPOSURES_FILE, default=out/tableau_exposures.yml"`
	StateDir      string `env:"AUTOEXPOSURES_STATE_DIR, default=.state"`
}

func runRefresh(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("refresh", "refresh (--exposure NAME | --workbook LUID | --datasource LUID) [--min-interval DURATION] [--no-wait] [--timeout DURATION]", stderr)
	exposure := fs.String("exposure", "", "name of a generated exposure: refreshes every extract its workbook uses, as the latest snapshot lists them")
	workbook := fs.String("workbook", "", "LUID of a workbook: refreshes its embedded extracts")
	datasource := fs.String("datasource", "", "LUID of a published data source with an extract")
	minInterval := fs.Duration("min-interval", 0, "skip an extract refreshed more recently than this; 0 always refreshes")
	noWait := fs.Bool("no-wait", false, "print the workflow IDs and exit without waiting for the outcome")
	timeout := fs.Duration("timeout", time.Hour, "how long to wait for the outcome; the refresh goes on after the starter gives up")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}

	given := 0
	for _, v := range []string{*exposure, *workbook, *datasource} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		return usageError(fs, "pass exactly one of --exposure, --workbook and --datasource")
	}
	if *minInterval < 0 {
		return usageError(fs, "--min-interval=%s is negative: use a duration such as 1h, or 0 to always refresh", *minInterval)
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}

	var requests []activities.RefreshRequest
	switch {
	case *workbook != "":
		requests = []activities.RefreshRequest{{ExtractLUID: *workbook, Kind: activities.KindWorkbook, Name: *workbook, WorkbookLUIDs: []string{*workbook}}}
	case *datasource != "":
		requests = []activities.RefreshRequest{{ExtractLUID: *datasource, Kind: activities.KindDatasource, Name: *datasource}}
	default:
		var env refreshEnv
		if err := envconfig.Process(ctx, &env); err != nil {
			fmt.Fprintf(stderr, "starter refresh: reading AUTOEXPOSURES_* variables: %v\n", err)
			return exitFailure
		}
		var notes []string
		var err error
		requests, notes, err = exposureRefreshes(env, *exposure)
		if err != nil {
			fmt.Fprintf(stderr, "starter refresh: %v\n", err)
			return exitFailure
		}
		for _, n := range notes {
			fmt.Fprintf(stderr, "starter refresh: note: %s\n", n)
		}
	}
	for i := range requests {
		requests[i].OnDemand = true
		requests[i].MinInterval = *minInterval
	}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter refresh: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	return startRefreshes(ctx, conn, requests, *noWait, *timeout, stdout, stderr)
}

// startRefreshes starts a refresh workflow per request, or joins the one
// that runs for the same extract, and unless noWait waits for each outcome.
// It returns exitFailure when a refresh failed or was cancelled.
func startRefreshes(ctx context.Context, conn *connection, requests []activities.RefreshRequest, noWait bool, timeout time.Duration, stdout, stderr io.Writer) int {
	type started struct {
		id  string
		get func(context.Context, any) error
	}
	var runs []started
	for _, req := range requests {
		id := activities.RefreshWorkflowID(req.ExtractLUID)
		joined := false
		if desc, err := conn.client.DescribeWorkflowExecution(ctx, id, ""); err == nil {
			joined = desc.GetWorkflowExecutionInfo().GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		}

		run, err := conn.client.ExecuteWorkflow(ctx, activities.RefreshStartOptions(req, conn.env.TaskQueue), activities.ExposureRefreshWorkflowName, req)
		if err != nil {
			fmt.Fprintf(stderr, "starter refresh: starting %s: %v\n", id, err)
			return exitFailure
		}
		verb := "Started"
		if joined {
			verb = "Joined the running"
		}
		fmt.Fprintf(stdout, "%s refresh %s (run %s) of %s %s.\n", verb, id, run.GetRunID(), req.Kind, req.Name)
		runs = append(runs, started{id: id, get: run.Get})
	}
	if noWait {
		return exitOK
	}

	waitCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	code := exitOK
	for _, r := range runs {
		var res activities.RefreshResult
		if err := r.get(waitCtx, &res); err != nil {
			code = reportWaitError(stderr, "refresh", r.id, timeout, err)
			continue
		}
		writeRefreshResult(stdout, res)
		if res.Outcome == activities.OutcomeFailed || res.Outcome == activities.OutcomeCancelled {
			code = exitFailure
		}
	}
	return code
}

// writeRefreshResult prints one refresh's outcome.
func writeRefreshResult(w io.Writer, res activities.RefreshResult) {
	fmt.Fprintf(w, "%s %s (%s): %s", res.Kind, res.Name, res.ExtractLUID, res.Outcome)
	if res.SkipReason != "" {
		fmt.Fprintf(w, ": %s", res.SkipReason)
	}
	fmt.Fprintln(w)
	if res.JobID != "" {
		adopted := ""
		if res.Adopted {
			adopted = ", adopted from the queue"
		}
		fmt.Fprintf(w, "  Tableau job %s%s, %d status reads\n", res.JobID, adopted, res.Polls)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(w, "  note: %s\n", n)
	}
}

// exposureRefreshes finds the extracts of the exposure named name: the
// exposures file gives its workbook LUID, and the latest snapshot in the
// state directory the workbook's embedded and published extracts. Without a
// snapshot it falls back to refreshing the workbook and returns a note.
func exposureRefreshes(env refreshEnv, name string) ([]activities.RefreshRequest, []string, error) {
	workbookLUID, err := exposureWorkbook(env.ExposuresPath, name)
	if err != nil {
		return nil, nil, err
	}
	fallback := []activities.RefreshRequest{{ExtractLUID: workbookLUID, Kind: activities.KindWorkbook, Name: name, WorkbookLUIDs: []string{workbookLUID}}}

	snap, err := latestSnapshot(env.StateDir)
	if err != nil {
		return fallback, []string{fmt.Sprintf("%v; refreshing workbook %s, which renews its embedded extracts but not the published data sources it uses", err, workbookLUID)}, nil
	}
	i := slices.IndexFunc(snap.Workbooks, func(w tableau.Workbook) bool { return w.LUID == workbookLUID })
	if i < 0 {
		return fallback, []string{fmt.Sprintf("workbook %s is not in the latest snapshot; refreshing the workbook only: run starter sync to update the snapshot", workbookLUID)}, nil
	}
	return workbookExtracts(snap, snap.Workbooks[i], name)
}

// workbookExtracts lists the refreshes that renew every extract wb uses:
// one of the workbook for its embedded extracts, one per published data
// source with an extract.
func workbookExtracts(snap *tableau.Snapshot, wb tableau.Workbook, exposure string) ([]activities.RefreshRequest, []string, error) {
	var requests []activities.RefreshRequest
	var embedded []string
	for _, d := range wb.EmbeddedDatasources {
		if d.HasExtracts {
			embedded = append(embedded, d.ID)
		}
	}
	if len(embedded) > 0 {
		requests = append(requests, activities.RefreshRequest{
			ExtractLUID: wb.LUID, Kind: activities.KindWorkbook, Name: wb.Name,
			WorkbookLUIDs: []string{wb.LUID}, DatasourceIDs: embedded,
		})
	}
	for _, luid := range wb.PublishedDatasourceLUIDs {
		d, ok := snap.PublishedDatasource(luid)
		if ok && d.HasExtracts {
			requests = append(requests, activities.RefreshRequest{
				ExtractLUID: d.LUID, Kind: activities.KindDatasource, Name: d.Name, WorkbookLUIDs: []string{wb.LUID},
			})
		}
	}
	if len(requests) == 0 {
		return nil, nil, fmt.Errorf("exposure %s (workbook %s %q) uses no extract in the latest snapshot: its live connections need no refresh", exposure, wb.LUID, wb.Name)
	}
	return requests, nil, nil
}

// exposureWorkbook reads the exposures file and returns the workbook LUID
// that autoexposures recorded in the meta of the exposure named name.
func exposureWorkbook(path, name string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the exposures file (AUTOEXPOSURES_EXPOSURES_FILE): %w; set it to the file the worker writes, or use --workbook LUID", err)
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
		return "", fmt.Errorf("reading exposures file %s: %w", path, err)
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
		return "", fmt.Errorf("exposure %s in %s has no meta.autoexposures.workbook_luid, so autoexposures did not generate it: use --workbook LUID", name, path)
	}
	if len(names) == 0 {
		return "", fmt.Errorf("no exposure named %q in %s, which contains no exposures: run starter sync first", name, path)
	}
	return "", fmt.Errorf("no exposure named %q in %s (%d exposures, such as %s): check the name, which is the exposure's name, not its label",
		name, path, len(names), strings.Join(names[:min(3, len(names))], ", "))
}

// latestSnapshot reads the latest Tableau snapshot from the state
// directory, without creating the directory when it is missing.
func latestSnapshot(stateDir string) (*tableau.Snapshot, error) {
	if _, err := os.Stat(stateDir); err != nil {
		return nil, fmt.Errorf("no state directory at %s (AUTOEXPOSURES_STATE_DIR)", stateDir)
	}
	st, err := store.New(stateDir)
	if err != nil {
		return nil, fmt.Errorf("opening the state directory %s: %w", stateDir, err)
	}
	ref, err := st.Latest(store.KindSnapshot)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no Tableau snapshot in %s yet", stateDir)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the latest snapshot in %s: %w", stateDir, err)
	}
	rc, err := st.Open(ref)
	if err != nil {
		return nil, fmt.Errorf("opening snapshot %s: %w", ref, err)
	}
	defer rc.Close()
	var snap tableau.Snapshot
	if err := json.NewDecoder(rc).Decode(&snap); err != nil {
		return nil, fmt.Errorf("reading snapshot %s: %w", ref, err)
	}
	return &snap, nil
}
