package tableau_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const (
	testTokenName   = "ci-token"
	testTokenSecret = "pat-secret-4f1d9a7e-never-print"
	testSite        = "acme"
	testSiteLUID    = "0d1c2b3a-4f5e-6d7c-8b9a-0a1b2c3d4e5f"
)

// Workbook, data source and collection LUIDs of the test site.
const (
	wbOrders    = "11111111-0000-4000-8000-000000000001"
	wbCustomers = "11111111-0000-4000-8000-000000000002"
	wbFinance   = "11111111-0000-4000-8000-000000000003"
	wbLive      = "11111111-0000-4000-8000-000000000004"
	pdsSales    = "22222222-0000-4000-8000-000000000001"
	colExec     = "33333333-0000-4000-8000-000000000001"
	colOps      = "33333333-0000-4000-8000-000000000002"
)

func timePtr(t time.Time) *time.Time { return &t }

// testSnapshot is a small site: four workbooks in two projects, embedded
// data sources with and without extracts, one published data source, custom
// SQL with and without parsed tables, and two collections.
func testSnapshot() tableau.Snapshot {
	refreshed := time.Date(2026, 11, 30, 6, 0, 0, 0, time.UTC)
	updated := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	orders := tableau.Table{ID: "t-orders", Name: "ORDERS", Schema: "ANALYTICS", FullName: "[ANALYTICS].[ORDERS]", Database: "PROD", ConnectionType: "snowflake"}
	customers := tableau.Table{ID: "t-customers", Name: "CUSTOMERS", Schema: "ANALYTICS", FullName: "[ANALYTICS].[CUSTOMERS]", Database: "PROD", ConnectionType: "snowflake"}
	payments := tableau.Table{ID: "t-payments", Name: "PAYMENTS", Schema: "FINANCE", FullName: "[FINANCE].[PAYMENTS]", Database: "PROD", ConnectionType: "snowflake"}
	ledger := tableau.Table{ID: "t-ledger", Name: "ledger", Schema: "public", FullName: "[public].[ledger]", Database: "erp", ConnectionType: "postgres"}

	return tableau.Snapshot{
		FormatVersion: tableau.SnapshotFormatVersion,
		Site:          testSite,
		SiteLUID:      testSiteLUID,
		Collections: []tableau.Collection{
			{LUID: colExec, Name: "Executive Dashboards", WorkbookLUIDs: []string{wbOrders, wbFinance}},
			{LUID: colOps, Name: "Operations", WorkbookLUIDs: []string{wbCustomers}},
		},
		Workbooks: []tableau.Workbook{
			{
				LUID: wbOrders, Name: "Orders Overview", ProjectName: "Sales", ProjectLUID: "p-sales",
				Description: "Daily orders", Owner: tableau.Owner{Name: "Ada Lovelace", Email: "ada@example.com", Username: "ada"},
				WebURL: "https://placeholder/#/site/acme/workbooks/1001", UpdatedAt: updated, Tags: []string{"certified", "sales"},
				Dashboards: []tableau.Dashboard{{ID: "d-1", LUID: "dl-1", Name: "Overview", Path: "OrdersOverview/Overview"}},
				EmbeddedDatasources: []tableau.EmbeddedDatasource{{
					ID: "e-orders", Name: "Orders (extract)", HasExtracts: true, ExtractLastRefreshTime: timePtr(refreshed),
					UpstreamTables: []tableau.Table{orders, customers},
					CustomSQL: []tableau.CustomSQL{{
						ID: "q-1", Name: "Custom SQL Query", Query: "select * from analytics.orders o join analytics.customers c using (customer_id)",
						Database: "PROD", ConnectionType: "snowflake", Tables: []tableau.Table{orders, customers},
					}},
				}},
			},
			{
				LUID: wbCustomers, Name: "Customer Health", ProjectName: "Sales",
				Owner:  tableau.Owner{Name: "Grace Hopper", Email: "grace@example.com", Username: "grace"},
				WebURL: "https://placeholder/#/site/acme/workbooks/1002", UpdatedAt: updated,
				EmbeddedDatasources: []tableau.EmbeddedDatasource{{
					ID: "e-customers", Name: "Sales (published)", UpstreamTables: []tableau.Table{orders},
				}},
				PublishedDatasourceLUIDs: []string{pdsSales},
			},
			{
				LUID: wbFinance, Name: "Cash Flow", ProjectName: "Finance",
				Owner:  tableau.Owner{Name: "Ada Lovelace", Email: "ada@example.com", Username: "ada"},
				WebURL: "https://placeholder/#/site/acme/workbooks/1003", UpdatedAt: updated,
				EmbeddedDatasources: []tableau.EmbeddedDatasource{{
					ID: "e-finance", Name: "Ledger", HasExtracts: true,
					UpstreamTables: []tableau.Table{ledger},
					CustomSQL: []tableau.CustomSQL{{
						ID: "q-2", Name: "Custom SQL Query", Query: "select {fn NOW()} as ts, * from ledger_view", Database: "erp", ConnectionType: "postgres",
					}},
				}},
			},
			{
				LUID: wbLive, Name: "Live Payments", ProjectName: "Finance",
				Owner:  tableau.Owner{Name: "Grace Hopper", Email: "grace@example.com", Username: "grace"},
				WebURL: "https://placeholder/#/site/acme/workbooks/1004", UpdatedAt: updated,
				EmbeddedDatasources: []tableau.EmbeddedDatasource{{
					ID: "e-live", Name: "Payments (live)", UpstreamTables: []tableau.Table{payments},
				}},
				PublishedDatasourceLUIDs: []string{pdsSales},
			},
		},
		PublishedDatasources: []tableau.PublishedDatasource{{
			LUID: pdsSales, ID: "pds-id-sales", Name: "Sales", ProjectName: "Sales",
			Owner:       tableau.Owner{Name: "Grace Hopper", Email: "grace@example.com", Username: "grace"},
			HasExtracts: true, ExtractLastRefreshTime: timePtr(refreshed),
			UpstreamTables: []tableau.Table{orders, payments},
			CustomSQL: []tableau.CustomSQL{{
				ID: "q-3", Name: "Custom SQL Query", Query: "select * from finance.payments", Database: "PROD", ConnectionType: "snowflake",
				Tables: []tableau.Table{payments},
			}},
		}},
	}
}

// testSimSite wraps the test snapshot with the simulator's settings.
func testSimSite(settings tableausim.Settings) *tableausim.Site {
	site := &tableausim.Site{Snapshot: testSnapshot(), Simulator: settings}
	site.Simulator.Tokens = append(site.Simulator.Tokens, tableausim.Token{Name: testTokenName, Secret: testTokenSecret})
	if err := site.Validate(); err != nil {
		panic(err)
	}
	return site
}

// startSim starts a simulator on 127.0.0.1 for the test.
func startSim(t *testing.T, site *tableausim.Site, opts ...tableausim.Option) *tableausim.Server {
	t.Helper()
	sim := tableausim.New(site, opts...)
	if err := sim.Start(); err != nil {
		t.Fatalf("starting simulator: %v", err)
	}
	t.Cleanup(sim.Close)
	return sim
}

// harness is a client under test with what it sent and logged.
type harness struct {
	client *tableau.Client
	rec    *recorder
	logs   *syncBuffer
	waits  *waitLog
}

// recorder is an http.RoundTripper that remembers the session tokens and
// request paths the client sent.
type recorder struct {
	// transport is the recorder's own, so that the test can close its idle
	// connections: a connection dialled but never used keeps the
	// simulator's shutdown waiting.
	transport *http.Transport

	mu      sync.Mutex
	tokens  map[string]bool
	paths   []string
	queries []string
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	if tok := req.Header.Get("X-Tableau-Auth"); tok != "" {
		r.tokens[tok] = true
	}
	r.paths = append(r.paths, req.Method+" "+req.URL.Path)
	r.mu.Unlock()
	if strings.HasSuffix(req.URL.Path, "/metadata/graphql") && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(body))
		r.mu.Lock()
		r.queries = append(r.queries, string(body))
		r.mu.Unlock()
	}
	return r.transport.RoundTrip(req)
}

func (r *recorder) sessionTokens() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for tok := range r.tokens {
		out = append(out, tok)
	}
	return out
}

// queriesWith counts the GraphQL requests whose body contains text.
func (r *recorder) queriesWith(text string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.queries {
		if strings.Contains(q, text) {
			n++
		}
	}
	return n
}

func (r *recorder) requestPaths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitLog records the waits between retries instead of sleeping.
type waitLog struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (w *waitLog) sleep(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.waits = append(w.waits, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waitLog) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.waits...)
}

// newHarness builds a client for sim from a browser URL of the site. edit
// may change the configuration. At the end of the test it checks that the
// logs hold neither the token secret nor any session token.
func newHarness(t *testing.T, sim *tableausim.Server, edit func(*tableau.Config)) *harness {
	t.Helper()
	cfg := tableau.Config{
		ServerURL:   sim.URL() + "/#/site/" + testSite + "/explore",
		TokenName:   testTokenName,
		TokenSecret: testTokenSecret,
		Concurrency: 2,
		MaxAttempts: 4,
	}
	if edit != nil {
		edit(&cfg)
	}
	h := &harness{
		rec:   &recorder{transport: http.DefaultTransport.(*http.Transport).Clone(), tokens: map[string]bool{}},
		logs:  &syncBuffer{},
		waits: &waitLog{},
	}
	t.Cleanup(h.rec.transport.CloseIdleConnections)
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, err := tableau.New(cfg, tableau.WithHTTPClient(&http.Client{Transport: h.rec}), tableau.WithLogger(logger))
	if err != nil {
		t.Fatalf("tableau.New: %v", err)
	}
	tableau.SetSleep(c, h.waits.sleep)
	h.client = c
	t.Cleanup(func() { h.checkNoSecrets(t, "logs", h.logs.String()) })
	return h
}

// checkNoSecrets fails the test when text holds the token secret or a
// session token the client used.
func (h *harness) checkNoSecrets(t *testing.T, what, text string) {
	t.Helper()
	if strings.Contains(text, testTokenSecret) {
		t.Errorf("%s contain the token secret:\n%s", what, text)
	}
	for _, tok := range h.rec.sessionTokens() {
		if strings.Contains(text, tok) {
			t.Errorf("%s contain a session token:\n%s", what, text)
		}
	}
}

// checkErr checks that an error holds no secret and returns it.
func (h *harness) checkErr(t *testing.T, err error) error {
	t.Helper()
	if err != nil {
		h.checkNoSecrets(t, "error", err.Error())
	}
	return err
}
