package activities_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// manifestVariant writes the bundled manifest with metadata.generated_at set
// to generatedAt and, when dropSupplies is set, without the supplies model,
// and loads it into the store as dbt run runID would.
func manifestVariant(t *testing.T, f *fixture, runID string, generatedAt time.Time, dropSupplies bool) store.Ref {
	t.Helper()
	data, err := os.ReadFile(manifestFile)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	m["metadata"].(map[string]any)["generated_at"] = generatedAt.UTC().Format(time.RFC3339Nano)
	if dropSupplies {
		delete(m["nodes"].(map[string]any), "model.jaffle_shop.supplies")
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	loaded, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
		DbtRunID: runID, ManifestLocation: path,
	})
	if err != nil {
		t.Fatal(err)
	}
	return loaded.Manifest
}

func setLatest(t *testing.T, f *fixture, kind string, ref store.Ref) {
	t.Helper()
	if _, err := f.env().ExecuteActivity(activities.SetLatestName, activities.SetLatestInput{Kind: kind, Ref: ref}); err != nil {
		t.Fatal(err)
	}
}

func latest(t *testing.T, f *fixture, kind string) store.Ref {
	t.Helper()
	ref, err := f.store.Latest(kind)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

var monday = time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)

func TestSetLatestKeepsNewerManifest(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	newer := manifestVariant(t, f, "run-2", monday.Add(time.Hour), false)
	older := manifestVariant(t, f, "run-1", monday, true)
	sameTime := manifestVariant(t, f, "run-3", monday.Add(time.Hour), true)

	setLatest(t, f, store.KindManifest, newer)
	setLatest(t, f, store.KindManifest, older)
	if diff := cmp.Diff(newer, latest(t, f, store.KindManifest)); diff != "" {
		t.Errorf("latest after a late older manifest (-want +got):\n%s", diff)
	}

	// At equal generated_at the newest arrival wins.
	setLatest(t, f, store.KindManifest, sameTime)
	if diff := cmp.Diff(sameTime, latest(t, f, store.KindManifest)); diff != "" {
		t.Errorf("latest after a manifest of the same time (-want +got):\n%s", diff)
	}
}

func TestComputeLateRunKeepsExposuresFile(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	read := f.sync(t, tableauAll, 4)
	setLatest(t, f, store.KindSnapshot, read.Snapshot)
	newer := manifestVariant(t, f, "run-2", monday.Add(time.Hour), true)
	setLatest(t, f, store.KindManifest, newer)
	current, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{DbtRunID: "run-2", Manifest: newer, Snapshot: read.Snapshot})
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	reportBefore, err := os.ReadFile(f.settings.Report())
	if err != nil {
		t.Fatal(err)
	}

	// The notice of run-1, which finished before run-2, arrives late.
	older := manifestVariant(t, f, "run-1", monday, false)
	setLatest(t, f, store.KindManifest, older)
	late, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{DbtRunID: "run-1", Manifest: older, Snapshot: read.Snapshot})
	if err != nil {
		t.Fatal(err)
	}

	if current.Superseded {
		t.Error("the newest run is marked superseded")
	}
	if !late.Superseded {
		t.Error("the late run is not marked superseded")
	}
	if diff := cmp.Diff(newer, late.NewerManifest); diff != "" {
		t.Errorf("NewerManifest (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(older, late.Manifest); diff != "" {
		t.Errorf("the late run's report used manifest (-want +got):\n%s", diff)
	}
	if !strings.Contains(late.Note, "left as it is") {
		t.Errorf("Note = %q, want it to say the exposures file was left as it is", late.Note)
	}
	after, err := os.ReadFile(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(before), string(after)); diff != "" {
		t.Errorf("exposures file changed by the late run (-before +after):\n%s", diff)
	}
	reportAfter, err := os.ReadFile(f.settings.Report())
	if err != nil {
		t.Fatal(err)
	}
	if string(reportAfter) != string(reportBefore) {
		t.Error("the report file was rewritten by the late run")
	}
	// The late run's own report is in the store, computed from its manifest.
	var report activities.RunReport
	rc, err := f.store.Open(late.Report)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(&report); err != nil {
		t.Fatal(err)
	}
	if report.DbtRunID != "run-1" || report.Manifest != older {
		t.Errorf("stored report is for run %q and manifest %s, want run-1 and %s", report.DbtRunID, report.Manifest, older)
	}
	if late.Added != 1 {
		t.Errorf("late run Added = %d, want the 1 exposure its manifest adds against the file", late.Added)
	}
}

func TestComputeUsesNewestInputs(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	// A sync read the selection and found manifest old as the latest ...
	oldSnapshot := f.sync(t, tableau.Selection{WorkbookLUIDs: []string{"a1000000-0000-4000-8000-000000000001"}}, 4).Snapshot
	setLatest(t, f, store.KindSnapshot, oldSnapshot)
	oldManifest := manifestVariant(t, f, "run-1", monday, true)
	setLatest(t, f, store.KindManifest, oldManifest)
	// ... while a post-job run stored a newer manifest and another sync a
	// newer snapshot.
	newManifest := manifestVariant(t, f, "run-2", monday.Add(time.Hour), false)
	setLatest(t, f, store.KindManifest, newManifest)
	newSnapshot := f.sync(t, tableauAll, 4).Snapshot
	setLatest(t, f, store.KindSnapshot, newSnapshot)

	res, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{Manifest: oldManifest, Snapshot: oldSnapshot})
	if err != nil {
		t.Fatal(err)
	}

	if diff := cmp.Diff(newManifest, res.Manifest); diff != "" {
		t.Errorf("manifest used (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(newSnapshot, res.Snapshot); diff != "" {
		t.Errorf("snapshot used (-want +got):\n%s", diff)
	}
	if res.Superseded {
		t.Error("a sync is marked superseded")
	}
	var report activities.RunReport
	data, err := os.ReadFile(f.settings.Report())
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatal(err)
	}
	if report.Manifest != newManifest || report.Snapshot != newSnapshot {
		t.Errorf("report names manifest %s and snapshot %s, want %s and %s", report.Manifest, report.Snapshot, newManifest, newSnapshot)
	}
	yaml, err := os.ReadFile(f.settings.ExposuresPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(yaml), "ref('supplies')") {
		t.Error("exposures file lacks ref('supplies'), which only the newer manifest has")
	}
}

func TestComputeWaitsForComputeLock(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	read := f.sync(t, tableauAll, 4)
	manifest := loadManifest(t, f)
	unlock, err := f.store.Lock(context.Background(), "compute")
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() {
		_, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName,
			activities.ComputeExposuresInput{Manifest: manifest, Snapshot: read.Snapshot})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("ComputeExposures finished while another worker held the compute lock (error %v)", err)
	case <-time.After(500 * time.Millisecond):
	}
	if _, err := os.Stat(f.settings.ExposuresPath); err == nil {
		t.Error("the exposures file was written while another worker held the compute lock")
	}

	unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(f.settings.ExposuresPath); err != nil {
		t.Errorf("exposures file after the lock was released: %v", err)
	}
}

func TestComputePrunesOldBlobs(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	f.acts.Settings.StateRetention = 2
	f.acts.Settings.StateRetentionAge = time.Hour
	read := f.sync(t, tableauAll, 4)
	var old []store.Ref
	for i := range 4 {
		ref, err := f.store.Put(store.KindReport, strings.NewReader(fmt.Sprintf(`{"old report": %d}`, i)))
		if err != nil {
			t.Fatal(err)
		}
		when := time.Now().Add(-time.Duration(48+i) * time.Hour)
		if err := os.Chtimes(filepath.Join(f.store.Root(), "kinds", store.KindReport, ref.Hash), when, when); err != nil {
			t.Fatal(err)
		}
		old = append(old, ref)
	}

	res, err := run[activities.ComputeExposuresResult](t, f.env(), activities.ComputeExposuresName,
		activities.ComputeExposuresInput{Manifest: loadManifest(t, f), Snapshot: read.Snapshot})
	if err != nil {
		t.Fatal(err)
	}

	// Kept: this run's report and the newest old one.
	for i, ref := range append([]store.Ref{res.Report}, old...) {
		_, err := f.store.Path(ref)
		if kept := err == nil; kept != (i < 2) {
			t.Errorf("report %d (%s): kept = %v, want %v", i, ref.Short(), kept, i < 2)
		}
	}
}
