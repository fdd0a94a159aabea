// Package tableausim is a simulated Tableau site: a real HTTP server that
// speaks the parts of Tableau's REST API and Metadata API that autoexposures
// uses, seeded from a site file, with faults that tests switch on.
//
// # Serving a site
//
// A site file is a snapshot's JSON form (tableau.Snapshot, documented in
// docs/snapshot.md) with an optional top-level "simulator" object (Settings:
// tokens, job durations, refresh outcomes, node limit). LoadSite reads and
// checks one; New serves it:
//
//	site, err := tableausim.LoadSite("testsuite/sites/fixture.json")
//	srv := tableausim.New(site, tableausim.WithClock(clock.Now))
//	if err := srv.Start(); err != nil { ... } // listens on 127.0.0.1:0
//	defer srv.Close()
//	client := tableau.New(tableau.Config{ServerURL: srv.URL(), Site: site.Site, ...})
//
// Handler returns the server as an http.Handler for httptest instead.
//
// # Endpoints
//
//	GET  /api/{v}/serverinfo                                  no sign-in needed
//	POST /api/{v}/auth/signin                                 personal access tokens only
//	POST /api/{v}/auth/signout
//	POST /api/metadata/graphql                                Metadata API
//	GET  /api/{v}/sites/{site-luid}/collections               paged with pageSize, pageNumber
//	GET  /api/{v}/sites/{site-luid}/collections/{luid}/items  paged likewise
//	POST /api/{v}/sites/{site-luid}/workbooks/{luid}/refresh
//	POST /api/{v}/sites/{site-luid}/datasources/{luid}/refresh
//	GET  /api/{v}/sites/{site-luid}/jobs                      refresh jobs, newest first
//	GET  /api/{v}/sites/{site-luid}/jobs/{id}
//	PUT  /api/{v}/sites/{site-luid}/jobs/{id}                 cancels the job
//
// REST responses are XML unless the request's Accept header names
// application/json. Errors carry Tableau's six-digit codes in both forms
// (401000 no token, 401001 sign-in failure, 401002 invalid or expired
// session, 404003 unknown resource or REST version, 404006 workbook and
// 404011 data source not found, 409090 nothing to refresh, 409093 refresh
// already queued, 429000 rate limited). The session token travels in the
// X-Tableau-Auth header, for the Metadata API too.
//
// # Metadata API
//
// Queries are parsed and validated with gqlparser against schema.graphql,
// the served part of Tableau's schema with Tableau's names (SchemaSDL
// returns it), so a misspelled field fails validation as on a real site.
// The executor honours aliases, fragments, inline fragments on interfaces,
// variables, @skip and @include. Lists come sorted by Metadata API id;
// *Connection fields page with first (default 100), after (a cursor of the
// same type and site) and offset, and return nodes, pageInfo and totalCount.
// Filters (Workbook_Filter and the others) match X by equality and XWithin
// by membership. Errors come in HTTP 200 bodies, like Tableau's. With
// Settings.MaxPageSize set, a larger first is cut to it with a
// MAX_PAGE_SIZE_EXCEEDED warning.
//
// The node limit (Settings.NodeLimit, DefaultNodeLimit by default) counts
// every object in the result once: a workbook, its owner, each tag,
// dashboard, data source, table and database. Connection wrappers, pageInfo
// and scalars do not count. A query over the limit gets the data up to the
// limit and a NODE_LIMIT_EXCEEDED error, and must be repeated with smaller
// pages.
//
// # Refresh jobs
//
// A refresh creates a job that is queued for Settings.JobQueued, runs for
// Settings.JobRuns and finishes with the outcome Settings.RefreshOutcomes
// gives the workbook LUID, data source LUID or embedded data source id
// (success by default; finishCode 0, 1 or 2). A successful refresh sets the
// extracts' extractLastRefreshTime to the job's completion time. Time comes
// from the clock given with WithClock, so a test moves jobs along by moving
// its clock.
//
// # Faults and counters
//
// InjectFault adds a Fault for requests of one kind (KindGraphQL,
// KindSignIn, KindCollections, KindRefresh, KindJobs, ...): an HTTP status
// such as 429 with Retry-After, 500 or 503; a Metadata API error code such
// as RATE_EXCEEDED in an HTTP 200 body; partial data with Tableau's
// time-limit error (TimeLimitExceeded); a session that expires at that
// request; a workbook deleted just before that request; extra latency; an
// HTML error page from a proxy; a dropped connection.
// SetLatency and WithLatency delay every request. DeleteWorkbook and
// ExpireSessions change the site directly.
//
// Count and Counts report requests received per kind, faulted ones
// included; NodesServed the Metadata API nodes returned; MaxConcurrent the
// highest number of requests served at once; Jobs the refresh jobs.
package tableausim
