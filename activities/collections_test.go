package activities_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Workbooks and the collection of testdata/jaffle_site.json.
const (
	jaffleCollection = "c1000000-0000-4000-8000-000000000001"
	wbOrders         = "a1000000-0000-4000-8000-000000000001"
	wbCustomers      = "a1000000-0000-4000-8000-000000000002"
	wbSupplies       = "a1000000-0000-4000-8000-000000000003"
	wbScratch        = "a1000000-0000-4000-8000-000000000004"
)

// TestCollectionMembershipEverySelection checks that every kind of
// sync records the same collections for a workbook, so that exposures do
// not change when a whole-site sync follows a collection sync.
func TestCollectionMembershipEverySelection(t *testing.T) {
	inCollection := []string{jaffleCollection}
	want := map[string][]string{wbOrders: inCollection, wbCustomers: inCollection, wbSupplies: inCollection, wbScratch: nil}
	wantCollections := []tableau.Collection{{
		LUID: jaffleCollection, Name: "Jaffle dashboards",
		WorkbookLUIDs: []string{wbOrders, wbCustomers, wbSupplies},
	}}
	tests := []struct {
		name      string
		sel       tableau.Selection
		workbooks int
	}{
		{"whole site", tableau.Selection{}, 4},
		{"collection", tableau.Selection{Collections: []string{"Jaffle dashboards"}}, 3},
		{"project", tableau.Selection{Projects: []string{"Jaffle"}}, 4},
		{"workbook LUIDs", tableau.Selection{WorkbookLUIDs: []string{wbCustomers, wbScratch}}, 2},
	}
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			read := f.sync(t, tt.sel, 2)
			snap := f.snapshot(t, read.Snapshot)
			if len(snap.Workbooks) != tt.workbooks {
				t.Fatalf("snapshot holds %d workbooks, want %d", len(snap.Workbooks), tt.workbooks)
			}
			if diff := cmp.Diff(wantCollections, snap.Collections); diff != "" {
				t.Errorf("snapshot collections (-want +got):\n%s", diff)
			}
			for _, wb := range snap.Workbooks {
				if diff := cmp.Diff(want[wb.LUID], wb.Collections); diff != "" {
					t.Errorf("collections of workbook %s (-want +got):\n%s", wb.Name, diff)
				}
			}
		})
	}
}

// TestSyncOfSiteWithoutCollections reads a site whose REST API lacks the
// collections methods (a Tableau older than REST 3.28 returns 404 for them): a
// whole-site or project sync goes on without membership, a collection sync
// fails for good and says why.
func TestSyncOfSiteWithoutCollections(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// An unknown path gets the simulator's own 404 for it.
		r.URL.Path = strings.Replace(r.URL.Path, "/collections", "/no-collections", 1)
		f.sim.Handler().ServeHTTP(w, r)
	}))
	front.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front.Listener = ln
	front.Start()
	t.Cleanup(front.Close)
	client, err := tableau.New(tableau.Config{
		ServerURL: front.URL, Site: f.client.Site(), TokenName: tokenName, TokenSecret: tokenSecret,
		MaxAttempts: 2, MaxRetryWait: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	acts := &activities.Activities{Tableau: client, Store: f.store, Settings: f.settings}
	old := &fixture{sim: f.sim, client: client, store: f.store, acts: acts, settings: f.settings}

	for _, sel := range []tableau.Selection{{}, {Projects: []string{"Jaffle"}}} {
		read := old.sync(t, sel, 2)
		snap := old.snapshot(t, read.Snapshot)
		if read.Workbooks != 4 {
			t.Errorf("selection %+v read %d workbooks, want 4", sel, read.Workbooks)
		}
		if len(snap.Collections) != 0 {
			t.Errorf("selection %+v recorded collections %+v on a site without them", sel, snap.Collections)
		}
		for _, wb := range snap.Workbooks {
			if len(wb.Collections) != 0 {
				t.Errorf("selection %+v: workbook %s has collections %v", sel, wb.Name, wb.Collections)
			}
		}
	}

	_, err = run[activities.ListWorkbooksResult](t, old.env(), activities.ListWorkbooksName,
		activities.ListWorkbooksInput{Selection: tableau.Selection{Collections: []string{"Jaffle dashboards"}}})
	if err == nil {
		t.Fatal("a collection sync of a site without collections succeeded")
	}
	appErr := applicationError(t, err)
	if appErr.Type() != activities.ErrTypeNotFound || !appErr.NonRetryable() {
		t.Errorf("error type %q, non-retryable %v; want %q and non-retryable (%v)", appErr.Type(), appErr.NonRetryable(), activities.ErrTypeNotFound, err)
	}
	for _, part := range []string{"does not serve Tableau collections", "3.28"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %v does not say %q", err, part)
		}
	}
	checkNoSecret(t, "error", err.Error())
}
