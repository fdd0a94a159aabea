package activities_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/activity"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// A selection that names a project, collection or workbook that matches
// no workbook is a mistake to fix, not a site to sync as empty: listing
// fails before anything is stored, and names every culprit.
func TestListWorkbooksRejectsUnmatchedSelection(t *testing.T) {
	tests := []struct {
		name string
		sel  tableau.Selection
		want []string // in the message
	}{
		{"unknown project", tableau.Selection{Projects: []string{"NoSuch"}},
			[]string{`project "NoSuch" has no workbook`, "letter case"}},
		{"project in another case", tableau.Selection{Projects: []string{"jaffle"}},
			[]string{`project "jaffle" has no workbook`}},
		{"one known and one unknown project", tableau.Selection{Projects: []string{"Jaffle", "Finanse"}},
			[]string{`project "Finanse" has no workbook`}},
		{"unknown workbook LUID", tableau.Selection{WorkbookLUIDs: []string{wbOrders, "d0000000-0000-4000-8000-00000000dead"}},
			[]string{"workbook LUIDs not found: d0000000-0000-4000-8000-00000000dead"}},
		{"project and LUID together", tableau.Selection{Projects: []string{"NoSuch"}, WorkbookLUIDs: []string{"d0000000-0000-4000-8000-00000000dead"}},
			[]string{`project "NoSuch"`, "d0000000-0000-4000-8000-00000000dead"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)
			_, err := run[activities.ListWorkbooksResult](t, f.env(), activities.ListWorkbooksName,
				activities.ListWorkbooksInput{Selection: tt.sel})
			if err == nil {
				t.Fatal("listing succeeded, want an error")
			}
			appErr := applicationError(t, err)
			if appErr.Type() != activities.ErrTypeNotFound || !appErr.NonRetryable() {
				t.Errorf("error type %q, non-retryable %v; want %q, non-retryable", appErr.Type(), appErr.NonRetryable(), activities.ErrTypeNotFound)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if files := countFiles(t, f.settings.StateDir); files != 0 {
				t.Errorf("state directory holds %d files after the failed listing, want none", files)
			}
		})
	}
}

// An existing collection that contains no workbook fails the same way.
func TestListWorkbooksRejectsEmptyCollection(t *testing.T) {
	site := siteWith(t, func(doc map[string]any) {
		doc["collections"] = append(doc["collections"].([]any), map[string]any{
			"luid": "c2000000-0000-4000-8000-000000000002", "name": "Empty for now",
		})
	})
	f := newFixture(t, site, tokenName, tokenSecret)
	_, err := run[activities.ListWorkbooksResult](t, f.env(), activities.ListWorkbooksName,
		activities.ListWorkbooksInput{Selection: tableau.Selection{Collections: []string{"Jaffle dashboards", "Empty for now"}}})
	if err == nil || !strings.Contains(err.Error(), `collection "Empty for now" contains no workbook`) {
		t.Fatalf("error = %v, want one naming the empty collection", err)
	}
	if appErr := applicationError(t, err); !appErr.NonRetryable() {
		t.Error("error is retryable")
	}
}

// siteWith writes a copy of the test site changed by edit and returns its
// path.
func siteWith(t *testing.T, edit func(map[string]any)) string {
	t.Helper()
	data, err := os.ReadFile(siteFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	edit(doc)
	data, err = json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "site.json")
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Selections whose every part matches a workbook still list.
func TestListWorkbooksAcceptsMatchedSelection(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	for _, sel := range []tableau.Selection{
		{},
		{Projects: []string{"Jaffle"}},
		{Collections: []string{"Jaffle dashboards"}},
		{Collections: []string{jaffleCollection}, WorkbookLUIDs: []string{wbScratch}},
	} {
		if _, err := run[activities.ListWorkbooksResult](t, f.env(), activities.ListWorkbooksName,
			activities.ListWorkbooksInput{Selection: sel}); err != nil {
			t.Errorf("selection %+v: %v", sel, err)
		}
	}
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && !strings.HasPrefix(d.Name(), ".") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// The latest snapshot's selection comes before the worker's default; the
// schedule step between them runs on a dev server (workflows package).
func TestResolveSelection(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	settings := f.settings
	settings.Projects = []string{"Jaffle"}
	acts := &activities.Activities{Tableau: f.client, Store: f.store, Settings: settings}
	env := envFor(acts)
	env.RegisterActivityWithOptions(acts.ResolveSelection, activity.RegisterOptions{Name: activities.ResolveSelectionName})

	got, err := run[activities.ResolveSelectionResult](t, env, activities.ResolveSelectionName, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := activities.ResolveSelectionResult{Selection: settings.DefaultSelection(), Source: activities.SelectionFromDefault}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("without a snapshot (-want +got):\n%s", diff)
	}

	collection := tableau.Selection{Collections: []string{"Jaffle dashboards"}}
	read := f.sync(t, collection, 2)
	if err := f.store.SetLatest(store.KindSnapshot, read.Snapshot); err != nil {
		t.Fatal(err)
	}
	got, err = run[activities.ResolveSelectionResult](t, env, activities.ResolveSelectionName, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = activities.ResolveSelectionResult{Selection: collection, Source: activities.SelectionFromSnapshot}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with a snapshot (-want +got):\n%s", diff)
	}
}
