package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunRejectsBadUsage(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(manifest, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		args []string
		// wantStderr is the part of the message that names what to fix.
		wantStderr string
	}{
		{"no command", nil, "Usage: starter <command>"},
		{"unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", []string{"sync", "--bogus"}, "flag provided but not defined: -bogus"},
		{"stray argument", []string{"sync", "extra"}, `unexpected argument "extra"`},
		{"job-completed without run ID", []string{"job-completed", "--manifest", manifest}, "--run-id is required"},
		{"job-completed without manifest", []string{"job-completed", "--run-id", "r1"}, "--manifest is required"},
		{"job-completed bad run ID", []string{"job-completed", "--run-id", "a b", "--manifest", manifest}, `--run-id="a b" is invalid`},
		{"job-completed missing relative manifest", []string{"job-completed", "--run-id", "r1", "--manifest", "target/nope.json"}, "cannot be read here"},
		{"job-completed manifest is a directory", []string{"job-completed", "--run-id", "r1", "--manifest", filepath.Dir(manifest)}, "is a directory"},
		{"job-completed ftp URL", []string{"job-completed", "--run-id", "r1", "--manifest", "ftp://host/manifest.json"}, `uses scheme "ftp"`},
		{"job-completed URL without host", []string{"job-completed", "--run-id", "r1", "--manifest", "https:///manifest.json"}, "has no host"},
		{"job-completed zero timeout", []string{"job-completed", "--run-id", "r1", "--manifest", manifest, "--timeout", "0s"}, "--timeout=0s must be positive"},
		{"sync empty collections", []string{"sync", "--collections", ""}, `invalid value "" for flag -collections: "" names nothing`},
		{"sync blank projects", []string{"sync", "--projects", " , "}, `invalid value " , " for flag -projects`},
		{"schedule empty workbooks", []string{"schedule", "--workbooks="}, `invalid value "" for flag -workbooks`},
		{"schedule bad time", []string{"schedule", "--at", "25:00"}, `--at="25:00" is not a time of day`},
		{"schedule time without minutes", []string{"schedule", "--at", "6"}, `--at="6" is not a time of day`},
		{"schedule bad zone", []string{"schedule", "--time-zone", "Mars/Olympus"}, `--time-zone="Mars/Olympus" is not an IANA time zone name`},
		{"schedule local zone", []string{"schedule", "--time-zone", "Local"}, `--time-zone="Local" is not an IANA time zone name`},
		{"schedule short catch-up", []string{"schedule", "--catchup-window", "5s"}, "--catchup-window=5s is out of range"},
		{"schedule long catch-up", []string{"schedule", "--catchup-window", "48h"}, "--catchup-window=48h0m0s is out of range"},
		{"collections without subcommand", []string{"collections"}, "starter collections set"},
		{"collections unknown subcommand", []string{"collections", "add", "A"}, `unknown subcommand "add"`},
		{"collections set without names", []string{"collections", "set"}, "give the collections as one comma-separated argument"},
		{"collections set empty list", []string{"collections", "set", " , "}, "names no collection"},
		{"collections set two arguments", []string{"collections", "set", "A", "B"}, `unexpected argument "B"`},
		{"health zero max age", []string{"health", "--max-age", "0s"}, "--max-age=0s must be positive"},
		{"status bad limit", []string{"status", "--limit", "0"}, "--limit=0 is out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit code = %d, want %d (usage)\nstderr:\n%s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr.String())
			}
		})
	}
}

func TestRunHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"sync", "-h"}, {"job-completed", "--help"}, {"collections", "help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), args, &stdout, &stderr); code != exitOK {
				t.Errorf("exit code = %d, want 0\nstderr:\n%s", code, stderr.String())
			}
			if stdout.Len()+stderr.Len() == 0 {
				t.Error("printed no usage")
			}
		})
	}
}

func TestUsageListsEveryCommand(t *testing.T) {
	var stdout bytes.Buffer
	run(context.Background(), []string{"help"}, &stdout, &bytes.Buffer{})
	for _, c := range commands() {
		if !strings.Contains(stdout.String(), "  "+c.name+" ") {
			t.Errorf("usage does not list %q:\n%s", c.name, stdout.String())
		}
	}
}

func TestRunReportsBadEnvironment(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		wantStderr string
	}{
		{"address without port", map[string]string{"TEMPORAL_ADDRESS": "temporal.internal"}, `TEMPORAL_ADDRESS="temporal.internal" is not host:port`},
		{"empty task queue", map[string]string{"AUTOEXPOSURES_TASK_QUEUE": ""}, "AUTOEXPOSURES_TASK_QUEUE is empty"},
		{"empty schedule ID", map[string]string{"AUTOEXPOSURES_SCHEDULE_ID": ""}, "AUTOEXPOSURES_SCHEDULE_ID is empty"},
		{"half an mTLS pair", map[string]string{"TEMPORAL_TLS_CERT": "/nonexistent/client.pem"}, "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A port nothing listens on, so no test reaches a server.
			t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"status"}, &stdout, &stderr)
			if code != exitFailure {
				t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitFailure, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr does not contain %q:\n%s", tt.wantStderr, stderr.String())
			}
		})
	}
}

func TestRunReportsUnreachableServer(t *testing.T) {
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"job-completed", "--run-id", "r1", "--manifest", "http://127.0.0.1:9/manifest.json"}, &stdout, &stderr)
	if code != exitFailure {
		t.Errorf("exit code = %d, want %d", code, exitFailure)
	}
	if want := "connecting to Temporal at 127.0.0.1:1"; !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr does not contain %q:\n%s", want, stderr.String())
	}
}

func TestJobCompletedAcceptsOrchestratorRunIDs(t *testing.T) {
	// Accepted IDs get past flag checks to the connection, which fails on a
	// port nothing listens on.
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:1")
	for _, id := range []string{
		"24ad943b-c71e-497c-be0b-d037a3c525ad",     // dbt invocation_id
		"scheduled__2024-01-01T00:00:00+00:00",     // Airflow
		"manual__2024-01-01T06:30:12.123456+00:00", // Airflow, manual
		"gh-123456789-2",                           // GitHub Actions run and attempt
		"70403145",                                 // dbt Cloud run
	} {
		t.Run(id, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), []string{"job-completed", "--run-id", id, "--manifest", "http://127.0.0.1:9/manifest.json"}, &stdout, &stderr)
			if code != exitFailure || !strings.Contains(stderr.String(), "connecting to Temporal") {
				t.Errorf("exit code %d; want the run ID accepted and the connection to fail:\n%s", code, stderr.String())
			}
		})
	}
}
