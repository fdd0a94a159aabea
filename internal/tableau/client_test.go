package tableau_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// expectedSnapshot is what ReadSnapshot should return for the test site
// served at serverURL, for a selection of the given workbooks.
func expectedSnapshot(serverURL string, sel tableau.Selection, luids []string, cols []tableau.Collection) *tableau.Snapshot {
	want := testSnapshot()
	want.ServerURL = serverURL
	want.Selection = sel
	want.Collections = cols
	inCol := map[string][]string{}
	for _, c := range cols {
		for _, l := range c.WorkbookLUIDs {
			inCol[l] = append(inCol[l], c.LUID)
		}
	}
	var wbs []tableau.Workbook
	used := map[string]bool{}
	for _, wb := range want.Workbooks {
		if !slices.Contains(luids, wb.LUID) {
			continue
		}
		_, id, _ := strings.Cut(wb.WebURL, "/workbooks/")
		wb.WebURL = serverURL + "/#/site/" + testSite + "/workbooks/" + id
		wb.Collections = inCol[wb.LUID]
		for _, l := range wb.PublishedDatasourceLUIDs {
			used[l] = true
		}
		wbs = append(wbs, wb)
	}
	want.Workbooks = wbs
	var pds []tableau.PublishedDatasource
	for _, d := range want.PublishedDatasources {
		if used[d.LUID] {
			pds = append(pds, d)
		}
	}
	want.PublishedDatasources = pds
	want.Normalize()
	return &want
}

func allLUIDs() []string { return []string{wbOrders, wbCustomers, wbFinance, wbLive} }

func TestReadSnapshotWholeSite(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)

	got, err := h.client.ReadSnapshot(context.Background(), tableau.Selection{})
	if err := h.checkErr(t, err); err != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	want := expectedSnapshot(sim.URL(), tableau.Selection{}, allLUIDs(), testSnapshot().Collections)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadSnapshot (-want +got):\n%s", diff)
	}
	if n := sim.Count(tableausim.KindSignIn); n != 1 {
		t.Errorf("sign-ins = %d, want 1", n)
	}
	if n := sim.Count(tableausim.KindServerInfo); n != 1 {
		t.Errorf("serverinfo requests = %d, want 1 (no TABLEAU_API_VERSION set)", n)
	}
	for _, p := range h.rec.requestPaths() {
		if strings.HasPrefix(p, "POST /api/") && strings.HasSuffix(p, "/auth/signin") && p != "POST /api/"+tableausim.DefaultAPIVersion+"/auth/signin" {
			t.Errorf("sign-in used %q, want the version serverinfo reported (%s)", p, tableausim.DefaultAPIVersion)
		}
	}
}

func TestConfiguredAPIVersionSkipsServerInfo(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{APIVersion: "3.22"}))
	h := newHarness(t, sim, func(c *tableau.Config) { c.APIVersion = "3.21" })

	if _, err := h.client.ListCollections(context.Background()); h.checkErr(t, err) != nil {
		t.Fatalf("ListCollections: %v", err)
	}
	if n := sim.Count(tableausim.KindServerInfo); n != 0 {
		t.Errorf("serverinfo requests = %d, want 0", n)
	}
	for _, p := range h.rec.requestPaths() {
		if !strings.HasPrefix(p, "POST /api/3.21/") && !strings.HasPrefix(p, "GET /api/3.21/") {
			t.Errorf("request %q does not use the configured version 3.21", p)
		}
	}
}

func TestSelections(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	// Every selection records the membership of every collection, so that
	// a workbook's collections do not depend on how it was selected.
	all := testSnapshot().Collections
	tests := []struct {
		name  string
		sel   tableau.Selection
		luids []string
	}{
		{"collection by name", tableau.Selection{Collections: []string{"executive dashboards"}}, []string{wbOrders, wbFinance}},
		{"collection by LUID", tableau.Selection{Collections: []string{colOps}}, []string{wbCustomers}},
		{"project", tableau.Selection{Projects: []string{"Finance"}}, []string{wbFinance, wbLive}},
		{"workbook LUID", tableau.Selection{WorkbookLUIDs: []string{wbLive}}, []string{wbLive}},
		{"union", tableau.Selection{Collections: []string{"Operations"}, Projects: []string{"Finance"}, WorkbookLUIDs: []string{wbOrders}}, allLUIDs()},
		{"whole site", tableau.Selection{}, allLUIDs()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, sim, nil)
			got, err := h.client.ReadSnapshot(context.Background(), tt.sel)
			if h.checkErr(t, err) != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			want := expectedSnapshot(sim.URL(), tt.sel, tt.luids, all)
			want.Selection = tt.sel
			want.Normalize()
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadSnapshot (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSiteWithoutCollections reads a site whose REST API has no collections
// methods. A Tableau older than REST 3.28 returns 404 for their paths.
func TestSiteWithoutCollections(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	// The front rewrites the collections paths to a path the simulator
	// does not serve, so the response is the simulator's own 404 for an
	// unknown resource.
	front := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Path, "/collections") {
			r.URL.Path = strings.Replace(r.URL.Path, "/collections", "/no-collections", 1)
		}
		sim.Handler().ServeHTTP(w, r)
	}))
	front.Listener.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	front.Listener = ln
	front.Start()
	t.Cleanup(front.Close)
	h := newHarness(t, sim, func(c *tableau.Config) { c.ServerURL = front.URL + "/#/site/" + testSite + "/explore" })
	ctx := context.Background()

	tests := []struct {
		name  string
		sel   tableau.Selection
		luids []string
	}{
		{"whole site", tableau.Selection{}, allLUIDs()},
		{"project", tableau.Selection{Projects: []string{"Finance"}}, []string{wbFinance, wbLive}},
		{"workbook LUID", tableau.Selection{WorkbookLUIDs: []string{wbLive}}, []string{wbLive}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := h.client.ReadSnapshot(ctx, tt.sel)
			if h.checkErr(t, err) != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			want := expectedSnapshot(front.URL, tt.sel, tt.luids, nil)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadSnapshot without collections (-want +got):\n%s", diff)
			}
		})
	}
	if n := strings.Count(h.logs.String(), "does not serve collections"); n != len(tests) {
		t.Errorf("logged the missing collections %d times, want once per read (%d):\n%s", n, len(tests), h.logs.String())
	}

	for _, call := range []struct {
		name string
		run  func() error
	}{
		{"collection selection", func() error {
			_, _, err := h.client.ListWorkbooks(ctx, tableau.Selection{Collections: []string{"Operations"}, Projects: []string{"Finance"}})
			return err
		}},
		{"ListCollections", func() error { _, err := h.client.ListCollections(ctx); return err }},
	} {
		t.Run(call.name, func(t *testing.T) {
			err := h.checkErr(t, call.run())
			if err == nil {
				t.Fatal("succeeded on a site without collections")
			}
			if !errors.Is(err, tableau.ErrNotFound) || tableau.IsRetryable(err) {
				t.Errorf("error %v: want a non-retryable ErrNotFound", err)
			}
			for _, part := range []string{"does not serve Tableau collections", "3.28", testSite} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not say %q", err, part)
				}
			}
		})
	}
}

// TestCollectionDeletedWhileListing leaves out a collection whose items are
// gone by the time they are read, instead of failing the whole sync.
func TestCollectionDeletedWhileListing(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, func(c *tableau.Config) { c.Concurrency = 1 })
	// The collections list is the first collections request; the items of
	// the first collection (by LUID) the second.
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindCollections, Skip: 1, Status: http.StatusNotFound})

	_, got, err := h.client.ListWorkbooks(context.Background(), tableau.Selection{Projects: []string{"Sales"}})
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListWorkbooks: %v", err)
	}
	if diff := cmp.Diff(testSnapshot().Collections[1:], got); diff != "" {
		t.Errorf("collections (-want +got):\n%s", diff)
	}
}

func TestUnknownCollection(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)

	_, _, err := h.client.ListWorkbooks(context.Background(), tableau.Selection{Collections: []string{"Executive Dashboards", "Board Pack"}})
	if h.checkErr(t, err) == nil {
		t.Fatal("ListWorkbooks with an unknown collection succeeded")
	}
	if !errors.Is(err, tableau.ErrNotFound) || tableau.IsRetryable(err) {
		t.Errorf("error %v: want a non-retryable ErrNotFound", err)
	}
	if !strings.Contains(err.Error(), `"Board Pack"`) {
		t.Errorf("error %q does not name the collection", err)
	}
}

func TestListCollections(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)

	got, err := h.client.ListCollections(context.Background())
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListCollections: %v", err)
	}
	if diff := cmp.Diff(testSnapshot().Collections, got); diff != "" {
		t.Errorf("ListCollections (-want +got):\n%s", diff)
	}
}

func TestSignInFailures(t *testing.T) {
	tests := []struct {
		name   string
		tokens []tableausim.Token
		secret string
	}{
		{"wrong secret", nil, "not-the-secret"},
		{"revoked token", []tableausim.Token{{Name: "other", Secret: "x"}}, testTokenSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site := &tableausim.Site{Snapshot: testSnapshot()}
			site.Simulator.Tokens = append(tt.tokens, tableausim.Token{Name: testTokenName, Secret: testTokenSecret, Revoked: tt.name == "revoked token"})
			sim := startSim(t, site)
			h := newHarness(t, sim, func(c *tableau.Config) { c.TokenSecret = tt.secret })

			_, err := h.client.ListCollections(context.Background())
			if h.checkErr(t, err) == nil {
				t.Fatal("ListCollections succeeded with a bad token")
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error %q contains the secret that was tried", err)
			}
			if !errors.Is(err, tableau.ErrInvalidCredentials) || tableau.IsRetryable(err) {
				t.Errorf("error %v: want a non-retryable ErrInvalidCredentials", err)
			}
			var te *tableau.Error
			if !errors.As(err, &te) || te.Code != "401001" {
				t.Errorf("error %v: want Tableau code 401001", err)
			}
			if !strings.Contains(err.Error(), testTokenName) {
				t.Errorf("error %q does not name the token", err)
			}
			if n := sim.Count(tableausim.KindSignIn); n != 1 {
				t.Errorf("sign-ins = %d, want 1 (no retry of a rejected token)", n)
			}
		})
	}
}

func TestSessionExpiryMidPaging(t *testing.T) {
	// A small node limit makes the lineage read take several requests.
	sim := startSim(t, testSimSite(tableausim.Settings{NodeLimit: 40}))
	h := newHarness(t, sim, func(c *tableau.Config) { c.NodeLimit = 40; c.Concurrency = 1 })
	ctx := context.Background()

	refs, _, err := h.client.ListWorkbooks(ctx, tableau.Selection{})
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListWorkbooks: %v", err)
	}
	before := sim.Count(tableausim.KindGraphQL)
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Skip: 1, ExpireSession: true})

	res, err := h.client.ReadWorkbooks(ctx, luidsOf(refs))
	if h.checkErr(t, err) != nil {
		t.Fatalf("ReadWorkbooks: %v", err)
	}
	if got := sim.Count(tableausim.KindGraphQL) - before; got < 3 {
		t.Errorf("lineage read took %d requests; the test needs paging", got)
	}
	if n := sim.Count(tableausim.KindSignIn); n != 2 {
		t.Errorf("sign-ins = %d, want 2 (one after the session expired)", n)
	}
	if sim.PendingFaults() != 0 {
		t.Error("the session expiry fault was never applied")
	}
	want := expectedSnapshot(sim.URL(), tableau.Selection{}, allLUIDs(), nil)
	if diff := cmp.Diff(want.Workbooks, res.Workbooks); diff != "" {
		t.Errorf("workbooks after re-sign-in (-want +got):\n%s", diff)
	}
	if len(h.rec.sessionTokens()) != 2 {
		t.Errorf("session tokens used = %d, want 2", len(h.rec.sessionTokens()))
	}
}

func TestConcurrentRequestsShareOneReSignIn(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, func(c *tableau.Config) { c.Concurrency = 4 })
	ctx := context.Background()
	if _, err := h.client.ListCollections(ctx); h.checkErr(t, err) != nil {
		t.Fatal(err)
	}
	sim.ExpireSessions()

	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { _, errs[i] = h.client.ListCollections(ctx) })
	}
	wg.Wait()
	for _, err := range errs {
		if h.checkErr(t, err) != nil {
			t.Errorf("ListCollections after expiry: %v", err)
		}
	}
	// A new sign-in with the same token ends the previous session on
	// Tableau, so concurrent renewals must collapse into one.
	if n := sim.Count(tableausim.KindSignIn); n != 2 {
		t.Errorf("sign-ins = %d, want 2", n)
	}
	if max := sim.MaxConcurrent(); max > 4 {
		t.Errorf("requests in flight reached %d, want at most 4", max)
	}
}

func TestRetryableFaults(t *testing.T) {
	tests := []struct {
		name      string
		fault     tableausim.Fault
		wantWaits []time.Duration // nil: any back-off, one per fault
	}{
		{"429 with Retry-After", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: http.StatusTooManyRequests, RetryAfter: 3 * time.Second}, []time.Duration{3 * time.Second}},
		{"500", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: http.StatusInternalServerError}, nil},
		{"503 twice", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: http.StatusServiceUnavailable, Times: 2}, nil},
		{"RATE_EXCEEDED", tableausim.Fault{Kind: tableausim.KindGraphQL, GraphQLCode: "RATE_EXCEEDED"}, nil},
		{"500 on collections", tableausim.Fault{Kind: tableausim.KindCollections, Status: http.StatusInternalServerError}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, testSimSite(tableausim.Settings{}))
			h := newHarness(t, sim, nil)
			sim.InjectFault(tt.fault)

			got, err := h.client.ReadSnapshot(context.Background(), tableau.Selection{Collections: []string{colExec, colOps}})
			if h.checkErr(t, err) != nil {
				t.Fatalf("ReadSnapshot: %v", err)
			}
			snap := testSnapshot()
			want := expectedSnapshot(sim.URL(), tableau.Selection{Collections: []string{colExec, colOps}}, []string{wbOrders, wbCustomers, wbFinance}, snap.Collections)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("ReadSnapshot after fault (-want +got):\n%s", diff)
			}
			waits := h.waits.all()
			times := max(tt.fault.Times, 1)
			if len(waits) != times {
				t.Errorf("waits = %v, want %d", waits, times)
			}
			if tt.wantWaits != nil {
				if diff := cmp.Diff(tt.wantWaits, waits); diff != "" {
					t.Errorf("waits (-want +got):\n%s", diff)
				}
			}
			if !strings.Contains(h.logs.String(), "retrying") {
				t.Errorf("the retry was not logged:\n%s", h.logs.String())
			}
		})
	}
}

func TestPersistentFaultsGiveTypedErrors(t *testing.T) {
	tests := []struct {
		name       string
		fault      tableausim.Fault
		maxWait    time.Duration
		kind       error
		retryAfter time.Duration
		attempts   int
	}{
		{"503 every time", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: http.StatusServiceUnavailable, Times: -1}, 0, tableau.ErrServer, 0, 4},
		{"RATE_EXCEEDED every time", tableausim.Fault{Kind: tableausim.KindGraphQL, GraphQLCode: "RATE_EXCEEDED", Times: -1}, 0, tableau.ErrRateLimited, 0, 4},
		{"Retry-After longer than the client waits", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Minute}, time.Minute, tableau.ErrRateLimited, 2 * time.Minute, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sim := startSim(t, testSimSite(tableausim.Settings{}))
			h := newHarness(t, sim, func(c *tableau.Config) { c.MaxRetryWait = tt.maxWait })
			sim.InjectFault(tt.fault)

			_, _, err := h.client.ListWorkbooks(context.Background(), tableau.Selection{})
			if h.checkErr(t, err) == nil {
				t.Fatal("ListWorkbooks succeeded against a failing server")
			}
			if !errors.Is(err, tt.kind) || !tableau.IsRetryable(err) {
				t.Errorf("error %v: want a retryable %v", err, tt.kind)
			}
			if d, ok := tableau.RetryAfter(err); d != tt.retryAfter || ok != (tt.retryAfter > 0) {
				t.Errorf("RetryAfter = %v, %v; want %v", d, ok, tt.retryAfter)
			}
			if n := sim.Count(tableausim.KindGraphQL); n != tt.attempts {
				t.Errorf("GraphQL requests = %d, want %d", n, tt.attempts)
			}
		})
	}
}

func TestDeletedWorkbookIsMissing(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	refs, _, err := h.client.ListWorkbooks(ctx, tableau.Selection{})
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListWorkbooks: %v", err)
	}
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, DeleteWorkbook: wbCustomers})

	res, err := h.client.ReadWorkbooks(ctx, luidsOf(refs))
	if h.checkErr(t, err) != nil {
		t.Fatalf("ReadWorkbooks: %v", err)
	}
	if diff := cmp.Diff([]string{wbCustomers}, res.Missing); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
	want := expectedSnapshot(sim.URL(), tableau.Selection{}, []string{wbOrders, wbFinance, wbLive}, nil)
	if diff := cmp.Diff(want.Workbooks, res.Workbooks); diff != "" {
		t.Errorf("Workbooks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.PublishedDatasources, res.PublishedDatasources); diff != "" {
		t.Errorf("PublishedDatasources (-want +got):\n%s", diff)
	}
}

func TestNodeLimitShrinksBatches(t *testing.T) {
	// The client assumes the default limit; the server allows far fewer
	// nodes, so every first try is too large and must be split.
	sim := startSim(t, testSimSite(tableausim.Settings{NodeLimit: 12}))
	h := newHarness(t, sim, nil)

	got, err := h.client.ReadSnapshot(context.Background(), tableau.Selection{})
	if h.checkErr(t, err) != nil {
		t.Fatalf("ReadSnapshot: %v", err)
	}
	want := expectedSnapshot(sim.URL(), tableau.Selection{}, allLUIDs(), testSnapshot().Collections)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadSnapshot under a small node limit (-want +got):\n%s", diff)
	}
	if !strings.Contains(h.logs.String(), "splitting") {
		t.Errorf("no batch was split:\n%s", h.logs.String())
	}
}

func TestWorkbookOverNodeLimit(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{NodeLimit: 5}))
	h := newHarness(t, sim, nil)

	_, err := h.client.ReadWorkbooks(context.Background(), []string{wbOrders})
	if h.checkErr(t, err) == nil {
		t.Fatal("ReadWorkbooks succeeded for a workbook over the node limit")
	}
	if !errors.Is(err, tableau.ErrNodeLimitExceeded) || tableau.IsRetryable(err) {
		t.Errorf("error %v: want a non-retryable ErrNodeLimitExceeded", err)
	}
	if !strings.Contains(err.Error(), wbOrders) {
		t.Errorf("error %q does not name the workbook", err)
	}
}

func TestSignOut(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	if err := h.client.SignOut(ctx); err != nil {
		t.Fatalf("SignOut without a session: %v", err)
	}
	if _, err := h.client.ListCollections(ctx); h.checkErr(t, err) != nil {
		t.Fatal(err)
	}
	if n := sim.Sessions(); n != 1 {
		t.Fatalf("open sessions = %d, want 1", n)
	}
	if err := h.client.SignOut(ctx); h.checkErr(t, err) != nil {
		t.Fatalf("SignOut: %v", err)
	}
	if n := sim.Sessions(); n != 0 {
		t.Errorf("open sessions after sign-out = %d, want 0", n)
	}
	if _, err := h.client.ListCollections(ctx); h.checkErr(t, err) != nil {
		t.Fatalf("ListCollections after sign-out: %v", err)
	}
	if n := sim.Count(tableausim.KindSignIn); n != 2 {
		t.Errorf("sign-ins = %d, want 2", n)
	}
}

func luidsOf(refs []tableau.WorkbookRef) []string {
	out := make([]string, len(refs))
	for i, r := range refs {
		out[i] = r.LUID
	}
	return out
}

func TestRequestTimeout(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, func(c *tableau.Config) {
		c.RequestTimeout = 50 * time.Millisecond
		c.MaxAttempts = 2
	})
	ctx := context.Background()
	if _, err := h.client.ListCollections(ctx); h.checkErr(t, err) != nil {
		t.Fatal(err)
	}
	// The simulator's handlers sit out their latency even after the client
	// gave up, so the latency stays short to keep the test's shutdown quick.
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Latency: 300 * time.Millisecond, Times: -1})

	_, _, err := h.client.ListWorkbooks(ctx, tableau.Selection{})
	if h.checkErr(t, err) == nil {
		t.Fatal("ListWorkbooks succeeded against a server slower than the time-out")
	}
	if !errors.Is(err, tableau.ErrServer) || !tableau.IsRetryable(err) {
		t.Errorf("error %v: want a retryable ErrServer", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not wrap the deadline", err)
	}
	if n := sim.Count(tableausim.KindGraphQL); n != 2 {
		t.Errorf("GraphQL requests = %d, want 2 (TABLEAU_MAX_ATTEMPTS)", n)
	}
}

func TestChunkedReadsShareCustomSQL(t *testing.T) {
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	var got tableau.ReadResult
	for _, chunk := range [][]string{{wbOrders, wbCustomers}, {wbFinance, wbLive}} {
		res, err := h.client.ReadWorkbooks(ctx, chunk)
		if h.checkErr(t, err) != nil {
			t.Fatalf("ReadWorkbooks(%v): %v", chunk, err)
		}
		got.Workbooks = append(got.Workbooks, res.Workbooks...)
		// Each chunk returns the published data sources it uses, so both
		// return the shared one.
		for _, d := range res.PublishedDatasources {
			if !slices.ContainsFunc(got.PublishedDatasources, func(g tableau.PublishedDatasource) bool { return g.LUID == d.LUID }) {
				got.PublishedDatasources = append(got.PublishedDatasources, d)
			}
		}
	}
	want := expectedSnapshot(sim.URL(), tableau.Selection{}, allLUIDs(), nil)
	if diff := cmp.Diff(want.Workbooks, got.Workbooks); diff != "" {
		t.Errorf("workbooks read in chunks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.PublishedDatasources, got.PublishedDatasources); diff != "" {
		t.Errorf("published data sources read in chunks (-want +got):\n%s", diff)
	}
	if n := h.rec.queriesWith("customSQLTablesConnection"); n != 1 {
		t.Errorf("custom SQL reads = %d, want 1 for both chunks", n)
	}
	// Both chunks use the same published data source, and both read it:
	// its extract refresh time must be current in each.
	if n := h.rec.queriesWith("publishedDatasourcesConnection"); n != 2 {
		t.Errorf("published data source reads = %d, want 2", n)
	}
	// The second chunk reuses the cost per workbook measured on the first,
	// so it needs one lineage request.
	if n := h.rec.queriesWith("embeddedDatasources"); n != 2 {
		t.Errorf("lineage requests = %d, want 2 (one per chunk)", n)
	}
}

func TestPagedReadsWithSessionExpiry(t *testing.T) {
	tableau.SetPageSizes(t, 1, 1)
	sim := startSim(t, testSimSite(tableausim.Settings{}))
	h := newHarness(t, sim, nil)
	ctx := context.Background()

	// The session ends before the third page of each listing.
	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindCollections, Skip: 2, ExpireSession: true})
	cols, err := h.client.ListCollections(ctx)
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListCollections: %v", err)
	}
	if diff := cmp.Diff(testSnapshot().Collections, cols); diff != "" {
		t.Errorf("ListCollections one item per page (-want +got):\n%s", diff)
	}

	sim.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Skip: 2, ExpireSession: true})
	refs, _, err := h.client.ListWorkbooks(ctx, tableau.Selection{})
	if h.checkErr(t, err) != nil {
		t.Fatalf("ListWorkbooks: %v", err)
	}
	if diff := cmp.Diff(allLUIDs(), luidsOf(refs)); diff != "" {
		t.Errorf("ListWorkbooks one workbook per page (-want +got):\n%s", diff)
	}
	if n := h.rec.queriesWith("workbooksConnection"); n < 5 {
		t.Errorf("listing requests = %d, want one per workbook and a retry", n)
	}
	if n := sim.Count(tableausim.KindSignIn); n != 3 {
		t.Errorf("sign-ins = %d, want 3 (one at the start, one per expiry)", n)
	}
	if sim.PendingFaults() != 0 {
		t.Error("a session expiry fault was never applied")
	}
}
