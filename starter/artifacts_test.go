package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestArtifactLocation(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.MkdirAll("target", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("target/manifest.json", []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	// t.Chdir may go through a symlinked temp directory, so compare with
	// the working directory the process reports.
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		value       string
		want        string
		wantMissing bool
	}{
		{"target/manifest.json", filepath.Join(wd, "target", "manifest.json"), false},
		{" target/manifest.json ", filepath.Join(wd, "target", "manifest.json"), false},
		{filepath.Join(wd, "target", "manifest.json"), filepath.Join(wd, "target", "manifest.json"), false},
		{"/dbt/target/manifest.json", "/dbt/target/manifest.json", true},
		{"http://127.0.0.1:9/run/42/manifest.json", "http://127.0.0.1:9/run/42/manifest.json", false},
		{"HTTP://127.0.0.1:9/manifest.json", "HTTP://127.0.0.1:9/manifest.json", false},
		{"file:///dbt/target/manifest.json", "file:///dbt/target/manifest.json", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			got, missing, err := artifactLocation("manifest", tt.value)
			if err != nil {
				t.Fatalf("artifactLocation: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("location (-want +got):\n%s", diff)
			}
			if missing != tt.wantMissing {
				t.Errorf("missing = %v, want %v", missing, tt.wantMissing)
			}
		})
	}
}

func TestParseClock(t *testing.T) {
	tests := []struct {
		in        string
		hour, min int
		wantErr   bool
	}{
		{"06:00", 6, 0, false},
		{"6:05", 6, 5, false},
		{"23:59", 23, 59, false},
		{"00:00", 0, 0, false},
		{"24:00", 0, 0, true},
		{"12:60", 0, 0, true},
		{"12:5", 0, 0, true},
		{"noon", 0, 0, true},
		{"-1:00", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			hour, minute, err := parseClock(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("parseClock(%q) error = %v, wantErr %v", tt.in, err, tt.wantErr)
			}
			if hour != tt.hour || minute != tt.min {
				t.Errorf("parseClock(%q) = %02d:%02d, want %02d:%02d", tt.in, hour, minute, tt.hour, tt.min)
			}
		})
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"Sales,Finance", []string{"Sales", "Finance"}},
		{" Sales , Finance ,, ", []string{"Sales", "Finance"}},
		{"Sales & Ops", []string{"Sales & Ops"}},
		{"", nil},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, splitList(tt.in)); diff != "" {
			t.Errorf("splitList(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
