package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/demo"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// startWorker runs a worker for the task queue useTemporal chose against a simulator
// serving the bundled demo site, and returns the site.
func startWorker(t *testing.T) *tableausim.Site {
	t.Helper()
	site, err := tableausim.ParseSite(demo.Site())
	if err != nil {
		t.Fatal(err)
	}
	sim := tableausim.New(site)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)

	token := tableausim.Token{Name: tableausim.DefaultTokenName, Secret: tableausim.DefaultTokenSecret}
	if len(site.Simulator.Tokens) > 0 {
		token = site.Simulator.Tokens[0]
	}
	dir := t.TempDir()
	env := envconfig.MapLookuper(map[string]string{
		"TEMPORAL_ADDRESS":             temporalServer.Address,
		"TEMPORAL_NAMESPACE":           "default",
		"AUTOEXPOSURES_TASK_QUEUE":     os.Getenv("AUTOEXPOSURES_TASK_QUEUE"),
		"AUTOEXPOSURES_STATE_DIR":      filepath.Join(dir, "store"),
		"AUTOEXPOSURES_EXPOSURES_FILE": filepath.Join(dir, "out", "tableau_exposures.yml"),
		"TABLEAU_SERVER_URL":           sim.URL(),
		"TABLEAU_SITE":                 site.Site,
		"TABLEAU_TOKEN_NAME":           token.Name,
		"TABLEAU_TOKEN_SECRET":         token.Secret,
	})
	ctx := context.Background()
	var cfg app.Config
	var settingsErr, temporalErr, tableauErr error
	cfg.Settings, settingsErr = config.LoadFrom(ctx, env)
	cfg.Temporal, temporalErr = config.LoadTemporalFrom(ctx, env)
	cfg.Tableau, tableauErr = tableau.LoadConfigFrom(ctx, env)
	if err := config.Join(settingsErr, temporalErr, tableauErr); err != nil {
		t.Fatal(err)
	}

	workerCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.RunWorker(workerCtx, cfg, slog.New(slog.DiscardHandler)) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	})
	return site
}

func TestCollectionsSetValidatesBeforeSchedule(t *testing.T) {
	useTemporal(t)
	site := startWorker(t)
	if len(site.Collections) < 2 {
		t.Fatalf("the demo site has %d collections; the test needs two", len(site.Collections))
	}
	first, second := site.Collections[0].Name, site.Collections[1].Name

	// Without a schedule, a bad name creates none.
	wantRun(t, []string{"collections", "set", "Bogus"}, exitFailure, `Bogus`, "is unchanged")
	wantRun(t, []string{"collections", "show"}, exitFailure, "no schedule yet")

	out := wantRun(t, []string{"collections", "set", first}, exitOK)
	if !strings.Contains(out, "Created schedule") {
		t.Errorf("collections set did not create the schedule:\n%s", out)
	}
	wantSelection := fmt.Sprintf("selection: collections %s\n", first)
	if out := wantRun(t, []string{"collections", "show"}, exitOK); !strings.Contains(out, wantSelection) {
		t.Errorf("collections show does not contain %q:\n%s", wantSelection, out)
	}

	// A bad name keeps the schedule's selection, with and without waiting.
	wantRun(t, []string{"collections", "set", first + ",Bogus"}, exitFailure, "Bogus", "is unchanged")
	wantRun(t, []string{"collections", "set", "--no-wait", "Bogus"}, exitFailure, "Bogus", "is unchanged")
	if out := wantRun(t, []string{"collections", "show"}, exitOK); !strings.Contains(out, wantSelection) {
		t.Errorf("a failed collections set changed the selection; want %q:\n%s", wantSelection, out)
	}

	// --no-wait updates the schedule once the listing passed.
	wantRun(t, []string{"collections", "set", "--no-wait", second}, exitOK)
	wantSelection = fmt.Sprintf("selection: collections %s\n", second)
	if out := wantRun(t, []string{"collections", "show"}, exitOK); !strings.Contains(out, wantSelection) {
		t.Errorf("collections show does not contain %q:\n%s", wantSelection, out)
	}
}
