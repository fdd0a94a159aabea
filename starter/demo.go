package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"
	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/demo"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/devserver"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
	"github.com/autoexposures/autoexposures/workflows"
)

// Preferred ports of the demo's dev server. They are the Temporal CLI's
// defaults, so the Web UI is at the address Temporal's documentation gives.
// Busy ports fall back to free ones.
const (
	demoTemporalPort = 7233
	demoUIPort       = 8233
	demoTaskQueue    = "autoexposures"
	// demoTableauPort keeps the simulator's address, and so the exposure
	// URLs, the same from one demo run to the next.
	demoTableauPort = 8234
)

// demoOptions are the demo's flags.
type demoOptions struct {
	keepRunning bool
	stateDir    string
	outDir      string
	verbose     bool
	// refreshWait bounds the wait for the extract refreshes the run starts.
	refreshWait time.Duration
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", "demo [--keep-running] [--state-dir DIR] [--out-dir DIR] [--refresh-wait DURATION] [--verbose]", stderr)
	var opts demoOptions
	fs.BoolVar(&opts.keepRunning, "keep-running", false, "keep the dev server, simulator and worker up until Ctrl-C")
	fs.StringVar(&opts.stateDir, "state-dir", ".state", "directory of the dev server's SQLite file, the store and the demo inputs")
	fs.StringVar(&opts.outDir, "out-dir", "out", "directory the exposures YAML and run report are written to")
	fs.BoolVar(&opts.verbose, "verbose", false, "print the worker's and the simulator's logs")
	fs.DurationVar(&opts.refreshWait, "refresh-wait", time.Minute, "how long to wait for the extract refreshes the run starts")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	if opts.stateDir == "" || opts.outDir == "" {
		return usageError(fs, "--state-dir and --out-dir must not be empty")
	}
	if opts.refreshWait < 0 {
		return usageError(fs, "--refresh-wait=%s must not be negative", opts.refreshWait)
	}

	if err := demoMain(ctx, opts, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "starter demo: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func demoMain(ctx context.Context, opts demoOptions, stdout, stderr io.Writer) error {
	level := slog.LevelWarn
	if opts.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	stateDir, err := filepath.Abs(opts.stateDir)
	if err != nil {
		return fmt.Errorf("resolving --state-dir: %w", err)
	}
	outDir, err := filepath.Abs(opts.outDir)
	if err != nil {
		return fmt.Errorf("resolving --out-dir: %w", err)
	}
	release, err := lockDemoState(stateDir)
	if err != nil {
		return err
	}
	defer release()

	// 1. Temporal.
	if cli, err := devserver.CLIPath(); err == nil {
		if _, err := os.Stat(cli); err != nil {
			fmt.Fprintf(stdout, "Building the Temporal CLI into %s (first run only; a few minutes)...\n", cli)
		}
	}
	serverOpts := devserver.Options{
		StateDir: filepath.Join(stateDir, "temporal"),
		Port:     portOrZero(demoTemporalPort),
		UI:       true,
		UIPort:   portOrZero(demoUIPort),
		Logger:   logger,
	}
	server, err := devserver.Start(ctx, serverOpts)
	if err != nil && (serverOpts.Port != 0 || serverOpts.UIPort != 0) {
		// Another process may have taken a preferred port since the check.
		logger.Warn("dev server did not start on the preferred ports; trying free ones", "error", err)
		serverOpts.Port, serverOpts.UIPort = 0, 0
		server, err = devserver.Start(ctx, serverOpts)
	}
	if err != nil {
		return fmt.Errorf("starting the Temporal dev server: %w", err)
	}
	defer server.Stop()
	fmt.Fprintf(stdout, "Temporal dev server: %s (state in %s)\n", server.Address, server.DBPath)

	// 2. Tableau.
	site, err := tableausim.ParseSite(demo.Site())
	if err != nil {
		return fmt.Errorf("reading the bundled demo site: %w", err)
	}
	sim := tableausim.New(site, tableausim.WithLogger(logger))
	err = sim.StartAt(fmt.Sprintf("127.0.0.1:%d", demoTableauPort))
	if err != nil {
		err = sim.Start()
	}
	if err != nil {
		return fmt.Errorf("starting the Tableau simulator: %w", err)
	}
	defer sim.Close()
	fmt.Fprintf(stdout, "Tableau simulator:   %s (site %q, %d workbooks)\n", sim.URL(), site.Site, len(site.Workbooks))

	// 3. The worker, in this process, configured as an operator would
	// configure it through the environment.
	files, err := demo.WriteFiles(filepath.Join(stateDir, "demo"))
	if err != nil {
		return err
	}
	cfg, err := demoWorkerConfig(ctx, server.Address, sim.URL(), site, stateDir, outDir)
	if err != nil {
		return err
	}
	workerCtx, stopWorker := context.WithCancel(context.WithoutCancel(ctx))
	workerDone := make(chan error, 1)
	go func() { workerDone <- app.RunWorker(workerCtx, cfg, logger) }()
	defer func() {
		stopWorker()
		if err := <-workerDone; err != nil {
			logger.Error("demo worker stopped with an error", "error", err)
		}
	}()

	c, err := app.Dial(ctx, cfg.Temporal, logger)
	if err != nil {
		return err
	}
	defer c.Close()

	// 4. A production dbt run finished: the post-job flow.
	runID := "demo-" + time.Now().UTC().Format("20060102T150405Z")
	fmt.Fprintf(stdout, "\n== job-completed: dbt run %s with the bundled jaffle_shop manifest\n", runID)
	lineage, err := runJobLineage(ctx, c, workflows.JobLineageInput{
		DbtRunID:           runID,
		ManifestLocation:   files.Manifest,
		RunResultsLocation: files.BuildRunResults,
	}, workerDone)
	if err != nil {
		return err
	}
	writeLineageResult(stdout, lineage)

	// 5. The daily sync, here of every collection of the demo site.
	selection := tableau.Selection{}
	for _, col := range site.Collections {
		selection.Collections = append(selection.Collections, col.Name)
	}
	fmt.Fprintf(stdout, "\n== collection sync: %s\n", describeSelection(selection))
	synced, err := runCollectionSync(ctx, c, workflows.CollectionSyncInput{Selection: selection}, workerDone)
	if err != nil {
		return err
	}
	writeSyncResult(stdout, synced)

	// 6. The refreshes the post-job run started, followed to their end.
	if len(lineage.Refresh.Refreshes) > 0 && opts.refreshWait > 0 {
		fmt.Fprintf(stdout, "\n== extract refreshes started by dbt run %s\n", runID)
		writeRefreshOutcomes(ctx, c, stdout, lineage.Refresh.Refreshes, opts.refreshWait, site.Simulator.RefreshOutcomes)
	}

	// 7. What was found.
	exposuresPath := lineage.Exposures.ExposuresPath
	if synced.Exposures != nil {
		exposuresPath = synced.Exposures.ExposuresPath
	}
	fmt.Fprintf(stdout, "\n== %s\n", exposuresPath)
	if err := writeFound(stdout, exposuresPath, cfg.Settings.Report()); err != nil {
		return err
	}

	fmt.Fprintf(stdout, "\nTemporal Web UI: %s/namespaces/default/workflows\n", server.UIURL)
	if !opts.keepRunning {
		fmt.Fprintln(stdout, "Run with --keep-running to keep everything up and explore the Web UI.")
		return nil
	}
	fmt.Fprintf(stdout, `
Everything stays up until Ctrl-C. In another terminal:
  export TEMPORAL_ADDRESS=%s AUTOEXPOSURES_TASK_QUEUE=%s
  go run ./starter status
  go run ./starter sync --projects %q
`, server.Address, demoTaskQueue, firstProject(site))
	select {
	case <-ctx.Done():
	case err := <-workerDone:
		workerDone <- err
		return fmt.Errorf("the worker stopped: %v", err)
	case <-server.Done():
		return errors.New("the Temporal dev server exited")
	}
	fmt.Fprintln(stdout, "\nStopping.")
	return nil
}

// portOrZero returns port when it is free on 127.0.0.1, else 0 (any free
// port).
func portOrZero(port int) int {
	if devserver.PortFree(port) {
		return port
	}
	return 0
}

// demoWorkerConfig builds the worker's configuration through the same
// loaders, defaults and checks as the environment of a real worker.
func demoWorkerConfig(ctx context.Context, temporalAddress, tableauURL string, site *tableausim.Site, stateDir, outDir string) (app.Config, error) {
	token := tableausim.Token{Name: tableausim.DefaultTokenName, Secret: tableausim.DefaultTokenSecret}
	if len(site.Simulator.Tokens) > 0 {
		token = site.Simulator.Tokens[0]
	}
	env := envconfig.MapLookuper(map[string]string{
		"TEMPORAL_ADDRESS":             temporalAddress,
		"TEMPORAL_NAMESPACE":           "default",
		"AUTOEXPOSURES_TASK_QUEUE":     demoTaskQueue,
		"AUTOEXPOSURES_STATE_DIR":      filepath.Join(stateDir, "store"),
		"AUTOEXPOSURES_EXPOSURES_FILE": filepath.Join(outDir, "tableau_exposures.yml"),
		"TABLEAU_SERVER_URL":           tableauURL,
		"TABLEAU_SITE":                 site.Site,
		"TABLEAU_TOKEN_NAME":           token.Name,
		"TABLEAU_TOKEN_SECRET":         token.Secret,
	})
	var cfg app.Config
	var settingsErr, temporalErr, tableauErr error
	cfg.Settings, settingsErr = config.LoadFrom(ctx, env)
	cfg.Temporal, temporalErr = config.LoadTemporalFrom(ctx, env)
	cfg.Tableau, tableauErr = tableau.LoadConfigFrom(ctx, env)
	if err := config.Join(settingsErr, temporalErr, tableauErr); err != nil {
		return cfg, fmt.Errorf("demo worker configuration: %w", err)
	}
	return cfg, nil
}

func runJobLineage(ctx context.Context, c client.Client, in workflows.JobLineageInput, workerDone <-chan error) (workflows.JobLineageResult, error) {
	var res workflows.JobLineageResult
	run, err := c.ExecuteWorkflow(ctx, workflows.JobLineageStartOptions(demoTaskQueue, in), workflows.JobLineageWorkflowName, in)
	if err != nil {
		return res, fmt.Errorf("starting the post-job workflow: %w", err)
	}
	return res, waitResult(ctx, run, &res, workerDone)
}

func runCollectionSync(ctx context.Context, c client.Client, in workflows.CollectionSyncInput, workerDone <-chan error) (workflows.CollectionSyncResult, error) {
	var res workflows.CollectionSyncResult
	run, err := c.ExecuteWorkflow(ctx, workflows.CollectionSyncStartOptions(demoTaskQueue, in, time.Now()), workflows.CollectionSyncWorkflowName, in)
	if err != nil {
		return res, fmt.Errorf("starting the collection sync: %w", err)
	}
	return res, waitResult(ctx, run, &res, workerDone)
}

// waitResult waits for a run, and gives up when the in-process worker
// stops, because nothing would then run the workflow.
func waitResult(ctx context.Context, run client.WorkflowRun, result any, workerDone <-chan error) error {
	got := make(chan error, 1)
	go func() { got <- run.Get(ctx, result) }()
	select {
	case err := <-got:
		if err != nil {
			return fmt.Errorf("workflow %s failed: %w", run.GetID(), err)
		}
		return nil
	case err := <-workerDone:
		return fmt.Errorf("the worker stopped while %s ran: %v", run.GetID(), err)
	}
}

// writeRefreshOutcomes waits up to wait for each refresh workflow, prints
// its outcome, and ends with a count by outcome. Each refresh that Tableau
// reports as failed or cancelled is repeated on a line of its own after the
// count. configured holds the outcomes that the simulator's site file sets.
func writeRefreshOutcomes(ctx context.Context, c client.Client, w io.Writer, workflowIDs []string, wait time.Duration, configured map[string]tableausim.Outcome) {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	counts := map[string]int{}
	var failed []activities.RefreshResult
	for _, id := range workflowIDs {
		var res activities.RefreshResult
		if err := c.GetWorkflow(ctx, id, "").Get(ctx, &res); err != nil {
			fmt.Fprintf(w, "  %s: not finished (%s)\n", id, firstLine(err.Error()))
			counts["not finished"]++
			continue
		}
		fmt.Fprintf(w, "  %s: %s\n", id, refreshResultLine(res))
		counts[res.Outcome]++
		if res.Outcome == activities.OutcomeFailed || res.Outcome == activities.OutcomeCancelled {
			failed = append(failed, res)
		}
	}

	var parts []string
	for _, outcome := range []string{activities.OutcomeSucceeded, activities.OutcomeFailed, activities.OutcomeCancelled, activities.OutcomeSkipped, "not finished"} {
		if n := counts[outcome]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, outcome))
		}
	}
	fmt.Fprintf(w, "%d extract refreshes: %s\n", len(workflowIDs), strings.Join(parts, ", "))
	for _, res := range failed {
		line := fmt.Sprintf("  REFRESH %s: %s %q; Tableau job %s", strings.ToUpper(res.Outcome), res.Kind, res.Name, res.JobID)
		if outcome := configured[res.ExtractLUID]; outcome != "" {
			line += fmt.Sprintf(" (the demo site sets this refresh to end in %s)", outcome)
		}
		fmt.Fprintln(w, line)
	}
}

// writeFound prints the exposures in the YAML file with what they depend
// on, then the unmatched tables and skipped workbooks from the run report.
func writeFound(w io.Writer, exposuresPath, reportPath string) error {
	data, err := os.ReadFile(exposuresPath)
	if err != nil {
		return fmt.Errorf("reading the exposures file: %w", err)
	}
	var file struct {
		Exposures []struct {
			Name      string   `yaml:"name"`
			Label     string   `yaml:"label"`
			DependsOn []string `yaml:"depends_on"`
		} `yaml:"exposures"`
	}
	if err := yaml.Unmarshal(data, &file); err != nil {
		return fmt.Errorf("reading the exposures file %s: %w", exposuresPath, err)
	}
	fmt.Fprintf(w, "%d exposures:\n", len(file.Exposures))
	for _, e := range file.Exposures {
		fmt.Fprintf(w, "  %s (%q)\n    depends on %s\n", e.Name, e.Label, strings.Join(e.DependsOn, ", "))
	}

	data, err = os.ReadFile(reportPath)
	if err != nil {
		return fmt.Errorf("reading the run report: %w", err)
	}
	var report exposures.Report
	if err := json.Unmarshal(data, &report); err != nil {
		return fmt.Errorf("reading the run report %s: %w", reportPath, err)
	}
	fmt.Fprintf(w, "\n%d upstream tables matched no dbt node:\n", len(report.Unmatched))
	for _, u := range report.Unmatched {
		source := "table"
		if u.FromCustomSQL {
			source = "custom SQL table"
		}
		fmt.Fprintf(w, "  %s %s in data source %q: %s", source, u.Table, u.Datasource, u.Reason)
		if len(u.Candidates) > 0 {
			fmt.Fprintf(w, " (candidates: %s)", strings.Join(u.Candidates, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(report.Skipped) > 0 {
		fmt.Fprintf(w, "\n%d workbooks got no exposure:\n", len(report.Skipped))
		for _, s := range report.Skipped {
			fmt.Fprintf(w, "  %q: %s %s\n", s.WorkbookName, s.Reason, s.Detail)
		}
	}
	fmt.Fprintf(w, "\nRun report: %s\n", reportPath)
	return nil
}

func firstProject(site *tableausim.Site) string {
	for _, wb := range site.Workbooks {
		if wb.ProjectName != "" {
			return wb.ProjectName
		}
	}
	return "Default"
}
