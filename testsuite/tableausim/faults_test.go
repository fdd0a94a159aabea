package tableausim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const listQuery = `{ workbooks { luid } }`

func TestFaultHTTPStatus(t *testing.T) {
	cases := []struct {
		name       string
		fault      tableausim.Fault
		status     int
		code       string
		retryAfter string
	}{
		{"429 with Retry-After", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: 429, RetryAfter: 7 * time.Second}, 429, "429000", "7"},
		{"429 rounds Retry-After up", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: 429, RetryAfter: 1500 * time.Millisecond}, 429, "429000", "2"},
		{"500", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: 500}, 500, "500000", ""},
		{"503", tableausim.Fault{Kind: tableausim.KindGraphQL, Status: 503}, 503, "503000", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := startFixture(t, nil)
			token := h.signIn(tokenName, tokenSecret)
			h.srv.InjectFault(tc.fault)

			resp := h.do("POST", "/api/metadata/graphql", token, "application/json", `{"query":"`+listQuery+`"}`)
			if resp.status != tc.status {
				t.Fatalf("status %d, want %d", resp.status, tc.status)
			}
			if got := restErrorCode(t, resp.body); got != tc.code {
				t.Errorf("code %s, want %s", got, tc.code)
			}
			if got := resp.header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After = %q, want %q", got, tc.retryAfter)
			}

			// The fault applies once; the next request is served.
			if status, body := h.graphql(token, listQuery, nil); status != 200 || body["errors"] != nil {
				t.Errorf("request after the fault: status %d errors %v", status, body["errors"])
			}
		})
	}
}

func TestFaultSkipAndTimes(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Skip: 1, Times: 2, Status: 503})

	var statuses []int
	for range 5 {
		resp := h.do("POST", "/api/metadata/graphql", token, "application/json", `{"query":"`+listQuery+`"}`)
		statuses = append(statuses, resp.status)
	}
	if diff := cmp.Diff([]int{200, 503, 503, 200, 200}, statuses); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if got := h.srv.PendingFaults(); got != 0 {
		t.Errorf("PendingFaults() = %d, want 0", got)
	}
}

func TestFaultOnlyMatchingKind(t *testing.T) {
	h := startFixture(t, nil)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindRefresh, Status: 500})
	token := h.signIn(tokenName, tokenSecret)
	if status, _ := h.graphql(token, listQuery, nil); status != 200 {
		t.Errorf("GraphQL got the refresh fault: status %d", status)
	}
	if resp := h.refresh(token, "workbooks", revenueLUID); resp.status != 500 {
		t.Errorf("refresh: status %d, want 500", resp.status)
	}
}

func TestFaultRateExceeded(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, GraphQLCode: "RATE_EXCEEDED"})

	status, body := h.graphql(token, listQuery, nil)
	if status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	if diff := cmp.Diff([]string{"RATE_EXCEEDED"}, errorCodes(body)); diff != "" {
		t.Errorf("error codes (-want +got):\n%s", diff)
	}
	if body["data"] != nil {
		t.Errorf("a throttled request returned data: %v", body["data"])
	}
}

func TestFaultExpireSession(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Skip: 2, ExpireSession: true})

	for i := range 2 {
		if status, _ := h.graphql(token, listQuery, nil); status != 200 {
			t.Fatalf("request %d before expiry: status %d", i, status)
		}
	}
	resp := h.do("POST", "/api/metadata/graphql", token, "application/json", `{"query":"`+listQuery+`"}`)
	if resp.status != http.StatusUnauthorized || restErrorCode(t, resp.body) != "401002" {
		t.Fatalf("request at expiry: status %d body %s, want 401002", resp.status, resp.body)
	}
	fresh := h.signIn(tokenName, tokenSecret)
	if status, body := h.graphql(fresh, listQuery, nil); status != 200 || body["errors"] != nil {
		t.Errorf("after signing in again: status %d errors %v", status, body["errors"])
	}
}

func TestFaultDeleteWorkbookBetweenListingAndReading(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	// The listing returns four workbooks, and one is deleted before the read.
	_, listing := h.graphql(token, listQuery, nil)
	if n := len(dig(listing, "data", "workbooks").([]any)); n != 4 {
		t.Fatalf("listing holds %d workbooks, want 4", n)
	}
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, DeleteWorkbook: customersLUID})

	query := `query($l: [String]) { workbooks(filter: {luidWithin: $l}) { luid } }`
	_, body := h.graphql(token, query, map[string]any{"l": []string{revenueLUID, customersLUID}})
	if body["errors"] != nil {
		t.Fatalf("errors: %v", body["errors"])
	}
	want := []any{map[string]any{"luid": revenueLUID}}
	if diff := cmp.Diff(want, dig(body, "data", "workbooks")); diff != "" {
		t.Errorf("read after deletion (-want +got):\n%s", diff)
	}

	// The deleted workbook also leaves its collection.
	resp := h.do("GET", sitePrefix+"/collections/c0000000-0000-4000-8000-000000000001/items", token, "application/json", "")
	if strings.Contains(resp.body, customersLUID) {
		t.Errorf("collection still lists the deleted workbook: %s", resp.body)
	}
}

func TestDeletedWorkbookCursorStillPages(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	all, _ := pageThrough(t, h, token, 100)

	query := `query($after: String) { workbooksConnection(first: 2, after: $after) { pageInfo { endCursor } nodes { luid } } }`
	_, body := h.graphql(token, query, nil)
	cursor := dig(body, "data", "workbooksConnection", "pageInfo", "endCursor")
	// Delete the last workbook of the first page: the cursor still works.
	h.srv.DeleteWorkbook(all[1])
	_, body = h.graphql(token, query, map[string]any{"after": cursor})
	var got []string
	for _, n := range dig(body, "data", "workbooksConnection", "nodes").([]any) {
		got = append(got, n.(map[string]any)["luid"].(string))
	}
	if diff := cmp.Diff(all[2:4], got); diff != "" {
		t.Errorf("second page (-want +got):\n%s", diff)
	}
}

func TestFaultLatencyTimesOutShortDeadline(t *testing.T) {
	h := startFixture(t, nil)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindServerInfo, Latency: 5 * time.Second})

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", h.base+"/api/3.24/serverinfo", nil)
	_, err := http.DefaultClient.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("request with 5s latency and a 50ms deadline: err = %v, want deadline exceeded", err)
	}
}

func TestCountsByKind(t *testing.T) {
	h := startFixture(t, nil)
	h.do("GET", "/api/3.24/serverinfo", "", "", "")
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, Status: 503})
	h.graphql(token, listQuery, nil)
	h.graphql(token, listQuery, nil)
	h.do("GET", sitePrefix+"/collections", token, "", "")
	id := decodeJob(t, h.refresh(token, "workbooks", revenueLUID).body).Job.ID
	h.job(token, id)
	h.do("POST", "/api/3.24/auth/signout", token, "", "")
	h.do("GET", "/nowhere", "", "", "")

	want := map[string]int{
		tableausim.KindServerInfo:  1,
		tableausim.KindSignIn:      1,
		tableausim.KindGraphQL:     2,
		tableausim.KindCollections: 1,
		tableausim.KindRefresh:     1,
		tableausim.KindJobs:        1,
		tableausim.KindSignOut:     1,
		tableausim.KindOther:       1,
	}
	if diff := cmp.Diff(want, h.srv.Counts()); diff != "" {
		t.Errorf("Counts() (-want +got):\n%s", diff)
	}
	if got := h.srv.Count(tableausim.KindGraphQL); got != 2 {
		t.Errorf("Count(graphql) = %d, want 2", got)
	}
	if got := h.srv.NodesServed(); got != 4 {
		t.Errorf("NodesServed() = %d, want 4 (one served listing of 4 workbooks)", got)
	}
	h.srv.ResetCounts()
	if got := h.srv.Counts(); len(got) != 0 {
		t.Errorf("Counts() after ResetCounts = %v", got)
	}
}

// TestErrorBodiesInBothForms checks that one error reads the same in XML
// and JSON.
func TestErrorBodiesInBothForms(t *testing.T) {
	h := startFixture(t, nil)
	xmlResp := h.do("GET", sitePrefix+"/collections", "bogus", "", "")
	jsonResp := h.do("GET", sitePrefix+"/collections", "bogus", "application/json", "")

	if !strings.HasPrefix(xmlResp.header.Get("Content-Type"), "application/xml") {
		t.Errorf("XML Content-Type = %q", xmlResp.header.Get("Content-Type"))
	}
	if !strings.Contains(xmlResp.body, `<error code="401002"><summary>Unauthorized Access</summary><detail>`) {
		t.Errorf("XML error body %s", xmlResp.body)
	}
	if !strings.HasPrefix(jsonResp.header.Get("Content-Type"), "application/json") {
		t.Errorf("JSON Content-Type = %q", jsonResp.header.Get("Content-Type"))
	}
	if !strings.Contains(jsonResp.body, `{"error":{"code":"401002","summary":"Unauthorized Access","detail":`) {
		t.Errorf("JSON error body %s", jsonResp.body)
	}
}

func TestHandlerServesWithoutStart(t *testing.T) {
	site, err := tableausim.LoadSite(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	srv := tableausim.New(site)
	if srv.URL() != "" {
		t.Errorf("URL() before Start = %q, want empty", srv.URL())
	}
	rec := httptest.NewRecorder()
	srv.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/api/3.24/serverinfo", nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "<restApiVersion>3.24</restApiVersion>") {
		t.Errorf("Handler serverinfo: status %d body %s", rec.Code, rec.Body.String())
	}
}

func TestFaultHTMLBody(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindRefresh, Status: 502, HTMLBody: true})

	resp := h.refresh(token, "workbooks", revenueLUID)
	if resp.status != http.StatusBadGateway {
		t.Errorf("status %d, want 502", resp.status)
	}
	if got := resp.header.Get("Content-Type"); got != "text/html" {
		t.Errorf("Content-Type = %q, want text/html", got)
	}
	if !strings.Contains(resp.body, "<h1>502 Bad Gateway</h1>") {
		t.Errorf("body %q is not the proxy page", resp.body)
	}
}

func TestFaultDisconnect(t *testing.T) {
	h := startFixture(t, nil)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindServerInfo, Disconnect: true})

	if _, err := http.Get(h.base + "/api/3.24/serverinfo"); err == nil {
		t.Errorf("request got a response through a disconnect fault")
	}
	resp, err := http.Get(h.base + "/api/3.24/serverinfo")
	if err != nil {
		t.Fatalf("request after the fault: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("request after the fault: status %d", resp.StatusCode)
	}
}

func TestFaultTimeLimitReturnsPartialData(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, GraphQLCode: tableausim.TimeLimitExceeded})

	status, body := h.graphql(token, `{ workbooks { luid owner { name } } }`, nil)
	if status != http.StatusOK {
		t.Errorf("status %d, want 200", status)
	}
	// Four workbooks with owners are 8 nodes; half of them is 4.
	if n := len(dig(body, "data", "workbooks").([]any)); n != 2 {
		t.Errorf("partial data holds %d workbooks, want 2", n)
	}
	msg, _ := dig(body, "errors", 0, "message").(string)
	if msg != "Reached time limit of PT5S for query execution." {
		t.Errorf("error message %q, want the recorded time-limit message", msg)
	}

	// The next request is whole again.
	_, body = h.graphql(token, `{ workbooks { luid owner { name } } }`, nil)
	if n := len(dig(body, "data", "workbooks").([]any)); n != 4 || body["errors"] != nil {
		t.Errorf("request after the fault: %d workbooks, errors %v", n, body["errors"])
	}
}
