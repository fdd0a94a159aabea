package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/demo"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// Token of the test sites. The secret is distinctive so that a search for
// it in histories and logs cannot match anything else.
const (
	testTokenName   = "e2e-token"
	testTokenSecret = "e2e-secret-5c2f9a7d41b8e063"
)

// tableauSite is a simulator serving a site through a recorder of the
// session tokens the worker sends, so tests can look for them where they
// must not be.
type tableauSite struct {
	sim    *tableausim.Server
	server *httptest.Server
	// siteName is the site's content URL, for TABLEAU_SITE.
	siteName string

	mu     sync.Mutex
	tokens map[string]bool
	// firstGraphQL is when the first Metadata API request arrived.
	firstGraphQL time.Time
}

// startTableau serves site on 127.0.0.1 for the rest of the test.
func startTableau(t testing.TB, site *tableausim.Site, opts ...tableausim.Option) *tableauSite {
	t.Helper()
	site.Simulator.Tokens = []tableausim.Token{{Name: testTokenName, Secret: testTokenSecret}}
	ts := &tableauSite{sim: tableausim.New(site, opts...), siteName: site.Site, tokens: map[string]bool{}}
	handler := ts.sim.Handler()
	ts.server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.mu.Lock()
		if token := r.Header.Get("X-Tableau-Auth"); token != "" {
			ts.tokens[token] = true
		}
		if strings.HasSuffix(r.URL.Path, "/metadata/graphql") && ts.firstGraphQL.IsZero() {
			ts.firstGraphQL = time.Now()
		}
		ts.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.server.Close)
	return ts
}

// sessionTokens returns every session token the worker sent.
func (ts *tableauSite) sessionTokens() []string {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	var out []string
	for token := range ts.tokens {
		out = append(out, token)
	}
	return out
}

func (ts *tableauSite) config() stackConfig {
	return stackConfig{
		tableauURL:  ts.server.URL,
		tableauSite: ts.siteName,
		tokenName:   testTokenName,
		tokenSecret: testTokenSecret,
	}
}

// demoSite returns a fresh copy of the bundled demo site, written for the
// jaffle_shop manifest.
func demoSite(t testing.TB) *tableausim.Site {
	t.Helper()
	site, err := tableausim.ParseSite(demo.Site())
	if err != nil {
		t.Fatalf("parsing the demo site: %v", err)
	}
	return site
}

// widenSite returns the demo site with each workbook copied n times under
// new LUIDs and names, so that a sync reads many pages and a test can stop
// a worker in the middle.
func widenSite(t testing.TB, n int) *tableausim.Site {
	t.Helper()
	base := demoSite(t)
	var workbooks []tableau.Workbook
	for i := range n {
		for _, w := range base.Workbooks {
			var c tableau.Workbook
			copyJSON(t, w, &c)
			c.LUID = fmt.Sprintf("%s-%04d", w.LUID, i)
			c.Name = fmt.Sprintf("%s %03d", w.Name, i)
			for j := range c.EmbeddedDatasources {
				c.EmbeddedDatasources[j].ID = fmt.Sprintf("%s-%04d", c.EmbeddedDatasources[j].ID, i)
			}
			for j := range c.Dashboards {
				d := &c.Dashboards[j]
				if d.ID != "" {
					d.ID = fmt.Sprintf("%s-%04d", d.ID, i)
				}
				if d.LUID != "" {
					d.LUID = fmt.Sprintf("%s-%04d", d.LUID, i)
				}
			}
			workbooks = append(workbooks, c)
		}
	}
	base.Workbooks = workbooks
	// Collections name the original LUIDs; the copies are selected by
	// project or as the whole site.
	base.Collections = nil
	for i := range base.Workbooks {
		base.Workbooks[i].Collections = nil
	}
	if err := base.Validate(); err != nil {
		t.Fatalf("widened site is invalid: %v", err)
	}
	return base
}

func copyJSON(t testing.TB, from, to any) {
	t.Helper()
	data, err := json.Marshal(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, to); err != nil {
		t.Fatal(err)
	}
}

// sinceFirstGraphQL returns how long ago the first Metadata API request
// arrived, and false before any did.
func (ts *tableauSite) sinceFirstGraphQL() (time.Duration, bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.firstGraphQL.IsZero() {
		return 0, false
	}
	return time.Since(ts.firstGraphQL), true
}

// waitForCount polls a simulator counter until it reaches n.
func (ts *tableauSite) waitForCount(t testing.TB, kind string, n int, timeout time.Duration) {
	t.Helper()
	waitFor(t, timeout, fmt.Sprintf("%d %s requests", n, kind), func() bool {
		return ts.sim.Count(kind) >= n
	})
}
