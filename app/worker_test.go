package app_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sethvargo/go-envconfig"

	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
)

func TestLoadConfigListsEveryProblem(t *testing.T) {
	const secret = "tableau-secret-never-shown"
	env := envconfig.MapLookuper(map[string]string{
		"AUTOEXPOSURES_REFRESH":   "sometimes",
		"TEMPORAL_ADDRESS":        "nohost",
		"TABLEAU_TOKEN_SECRET":    secret,
		"TABLEAU_CONCURRENCY":     "many",
		"TEMPORAL_API_KEY":        "temporal-key-never-shown",
		"TABLEAU_REQUEST_TIMEOUT": "soon",
	})

	_, err := app.LoadConfigFrom(context.Background(), env)

	ce, ok := err.(*config.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *config.Error", err, err)
	}
	for _, want := range []string{
		"AUTOEXPOSURES_REFRESH=",
		"TEMPORAL_ADDRESS=",
		"TABLEAU_SERVER_URL",
		"TABLEAU_TOKEN_NAME",
		"TABLEAU_CONCURRENCY=",
		"TABLEAU_REQUEST_TIMEOUT=",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not mention %s:\n%v", want, err)
		}
	}
	if len(ce.Problems) != 6 {
		t.Errorf("got %d problems, want 6:\n%v", len(ce.Problems), err)
	}
	for _, s := range []string{secret, "temporal-key-never-shown"} {
		if strings.Contains(err.Error(), s) {
			t.Errorf("error shows a secret: %v", err)
		}
	}
}

func TestLoadConfigValid(t *testing.T) {
	env := envconfig.MapLookuper(map[string]string{
		"TABLEAU_SERVER_URL":   "https://10az.online.tableau.com/#/site/acme/explore",
		"TABLEAU_TOKEN_NAME":   "autoexposures",
		"TABLEAU_TOKEN_SECRET": "secret",
	})

	cfg, err := app.LoadConfigFrom(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}

	if cfg.Tableau.ServerURL != "https://10az.online.tableau.com" || cfg.Tableau.Site != "acme" {
		t.Errorf("Tableau server %q site %q, want the host and site acme from the browser URL", cfg.Tableau.ServerURL, cfg.Tableau.Site)
	}
	if cfg.Settings.TaskQueue != "autoexposures" || cfg.Temporal.Address != "127.0.0.1:7233" {
		t.Errorf("defaults not applied: task queue %q, address %q", cfg.Settings.TaskQueue, cfg.Temporal.Address)
	}
}
