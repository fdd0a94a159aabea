package config_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sethvargo/go-envconfig"

	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

func TestLoadDefaults(t *testing.T) {
	got, err := config.LoadFrom(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}

	want := config.Settings{
		StateDir:           ".state",
		ExposuresPath:      "out/tableau_exposures.yml",
		SyncChunkSize:      1000,
		SyncParallelChunks: 4,
		StateRetention:     10,
		StateRetentionAge:  24 * time.Hour,
		Refresh:            true,
		RefreshMinInterval: 24 * time.Hour,
		ScheduleID:         "autoexposures-daily-sync",
		TaskQueue:          "autoexposures",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if got, want := got.Report(), "out/tableau_exposures.report.json"; got != want {
		t.Errorf("Report() = %q, want %q", got, want)
	}
}

func TestLoadFromEnvironment(t *testing.T) {
	curation := filepath.Join(t.TempDir(), "curation.yml")
	if err := os.WriteFile(curation, []byte("exposures: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"AUTOEXPOSURES_STATE_DIR":            "/var/lib/autoexposures",
		"AUTOEXPOSURES_EXPOSURES_FILE":       "models/exposures/tableau.yaml",
		"AUTOEXPOSURES_REPORT_FILE":          "reports/run.json",
		"AUTOEXPOSURES_ENRICHED_MANIFEST":    "target/manifest.enriched.json",
		"AUTOEXPOSURES_DBT_PROJECT_DIR":      "/srv/dbt",
		"AUTOEXPOSURES_CURATION_FILE":        curation,
		"AUTOEXPOSURES_COLLECTIONS":          "Finance,Sales KPIs",
		"AUTOEXPOSURES_PROJECTS":             "Default",
		"AUTOEXPOSURES_WORKBOOK_LUIDS":       "wb-1,wb-2",
		"AUTOEXPOSURES_SYNC_CHUNK_SIZE":      "250",
		"AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS": "2",
		"AUTOEXPOSURES_STATE_RETENTION":      "3",
		"AUTOEXPOSURES_STATE_RETENTION_AGE":  "72h",
		"AUTOEXPOSURES_REFRESH":              "OFF",
		"AUTOEXPOSURES_REFRESH_MIN_INTERVAL": "90m",
		"AUTOEXPOSURES_REFRESH_COLLECTIONS":  "Finance",
		"AUTOEXPOSURES_REFRESH_PROJECTS":     "Executive",
		"AUTOEXPOSURES_SCHEDULE_ID":          "nightly-sync",
		"AUTOEXPOSURES_TASK_QUEUE":           "lineage",
	}

	got, err := config.LoadFrom(context.Background(), envconfig.MapLookuper(env))
	if err != nil {
		t.Fatal(err)
	}

	want := config.Settings{
		StateDir:             "/var/lib/autoexposures",
		ExposuresPath:        "models/exposures/tableau.yaml",
		ReportPath:           "reports/run.json",
		EnrichedManifestPath: "target/manifest.enriched.json",
		DbtProjectDir:        "/srv/dbt",
		CurationPath:         curation,
		Collections:          []string{"Finance", "Sales KPIs"},
		Projects:             []string{"Default"},
		WorkbookLUIDs:        []string{"wb-1", "wb-2"},
		SyncChunkSize:        250,
		SyncParallelChunks:   2,
		StateRetention:       3,
		StateRetentionAge:    72 * time.Hour,
		Refresh:              false,
		RefreshMinInterval:   90 * time.Minute,
		RefreshCollections:   []string{"Finance"},
		RefreshProjects:      []string{"Executive"},
		ScheduleID:           "nightly-sync",
		TaskQueue:            "lineage",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("settings (-want +got):\n%s", diff)
	}
	if got, want := got.Report(), "reports/run.json"; got != want {
		t.Errorf("Report() = %q, want %q", got, want)
	}
	wantSel := tableau.Selection{Collections: []string{"Finance", "Sales KPIs"}, Projects: []string{"Default"}, WorkbookLUIDs: []string{"wb-1", "wb-2"}}
	if diff := cmp.Diff(wantSel, got.DefaultSelection()); diff != "" {
		t.Errorf("DefaultSelection (-want +got):\n%s", diff)
	}
}

func TestRefreshSwitchValues(t *testing.T) {
	tests := []struct {
		value string
		want  config.Switch
	}{
		{"on", true}, {"True", true}, {"yes", true}, {"1", true},
		{"off", false}, {"FALSE", false}, {"no", false}, {"0", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			env := envconfig.MapLookuper(map[string]string{"AUTOEXPOSURES_REFRESH": tt.value})

			got, err := config.LoadFrom(context.Background(), env)
			if err != nil {
				t.Fatal(err)
			}

			if got.Refresh != tt.want {
				t.Errorf("Refresh = %v, want %v", got.Refresh, tt.want)
			}
		})
	}
}

func TestLoadListsEveryProblem(t *testing.T) {
	env := envconfig.MapLookuper(map[string]string{
		"AUTOEXPOSURES_REFRESH":              "sometimes",
		"AUTOEXPOSURES_REFRESH_MIN_INTERVAL": "a day",
		"AUTOEXPOSURES_SYNC_CHUNK_SIZE":      "0",
		"AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS": "17",
		"AUTOEXPOSURES_EXPOSURES_FILE":       "exposures.json",
		"AUTOEXPOSURES_CURATION_FILE":        "/nonexistent/curation.yml",
		"AUTOEXPOSURES_TASK_QUEUE":           " ",
		"AUTOEXPOSURES_STATE_RETENTION":      "0",
		"AUTOEXPOSURES_STATE_RETENTION_AGE":  "10m",
	})

	_, err := config.LoadFrom(context.Background(), env)

	ce, ok := err.(*config.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *config.Error", err, err)
	}
	for _, key := range []string{
		"AUTOEXPOSURES_REFRESH=",
		"AUTOEXPOSURES_REFRESH_MIN_INTERVAL=",
		"AUTOEXPOSURES_SYNC_CHUNK_SIZE=",
		"AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS=",
		"AUTOEXPOSURES_EXPOSURES_FILE=",
		"AUTOEXPOSURES_CURATION_FILE=",
		"AUTOEXPOSURES_TASK_QUEUE",
		"AUTOEXPOSURES_STATE_RETENTION=",
		"AUTOEXPOSURES_STATE_RETENTION_AGE=",
	} {
		found := false
		for _, p := range ce.Problems {
			if strings.HasPrefix(p, key) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem starts with %s; problems:\n%s", key, err)
		}
	}
	if got := len(ce.Problems); got != 9 {
		t.Errorf("got %d problems, want 9:\n%s", got, err)
	}
}

func TestLoadTemporalDefaults(t *testing.T) {
	got, err := config.LoadTemporalFrom(context.Background(), envconfig.MapLookuper(nil))
	if err != nil {
		t.Fatal(err)
	}

	want := config.Temporal{Address: "127.0.0.1:7233", Namespace: "default"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("temporal settings (-want +got):\n%s", diff)
	}
	if got.TLS() {
		t.Error("TLS() = true without certificates or an API key")
	}
}

func TestLoadTemporalProblems(t *testing.T) {
	env := envconfig.MapLookuper(map[string]string{
		"TEMPORAL_ADDRESS":  "temporal.example",
		"TEMPORAL_TLS_CERT": "/nonexistent/client.pem",
		"TEMPORAL_TLS_CA":   "/nonexistent/ca.pem",
	})

	_, err := config.LoadTemporalFrom(context.Background(), env)

	ce, ok := err.(*config.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *config.Error", err, err)
	}
	want := []string{
		`TEMPORAL_ADDRESS="temporal.example" is not host:port`,
		"TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together",
		`TEMPORAL_TLS_CERT="/nonexistent/client.pem" cannot be read`,
		`TEMPORAL_TLS_CA="/nonexistent/ca.pem" cannot be read`,
	}
	if len(ce.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(ce.Problems), len(want), err)
	}
	for i, prefix := range want {
		if !strings.HasPrefix(ce.Problems[i], prefix) {
			t.Errorf("problem %d = %q, want it to start with %q", i, ce.Problems[i], prefix)
		}
	}
}

func TestAPIKeyNeverPrinted(t *testing.T) {
	const key = "tmprl-api-key-do-not-print"
	got, err := config.LoadTemporalFrom(context.Background(), envconfig.MapLookuper(map[string]string{"TEMPORAL_API_KEY": key}))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.APIKey) != key {
		t.Fatalf("APIKey = %q, want the variable's value", string(got.APIKey))
	}
	if !got.TLS() {
		t.Error("TLS() = false with an API key, want true")
	}

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("settings", "temporal", got, "api_key", got.APIKey)
	encoded, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v":   fmt.Sprintf("%v", got),
		"%+v":  fmt.Sprintf("%+v", got),
		"%#v":  fmt.Sprintf("%#v", got),
		"%s":   fmt.Sprintf("%s", got.APIKey),
		"json": string(encoded),
		"slog": logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, key) {
			t.Errorf("%s output contains the API key: %s", name, out)
		}
	}
}

func TestJoinMergesProblems(t *testing.T) {
	_, settingsErr := config.LoadFrom(context.Background(), envconfig.MapLookuper(map[string]string{"AUTOEXPOSURES_REFRESH": "maybe"}))
	_, temporalErr := config.LoadTemporalFrom(context.Background(), envconfig.MapLookuper(map[string]string{"TEMPORAL_ADDRESS": "nohost"}))
	other := fmt.Errorf("TABLEAU_SERVER_URL is missing")

	err := config.Join(settingsErr, nil, temporalErr, other)

	ce, ok := err.(*config.Error)
	if !ok {
		t.Fatalf("error = %v (%T), want *config.Error", err, err)
	}
	if got := len(ce.Problems); got != 3 {
		t.Errorf("got %d problems, want 3:\n%s", got, err)
	}
	if config.Join(nil, nil) != nil {
		t.Error("Join of nil errors is not nil")
	}
}
