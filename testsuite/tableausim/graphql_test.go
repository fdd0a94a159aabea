package tableausim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func TestGraphQLMisspelledFieldFailsValidation(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	status, body := h.graphql(token, `{ workbooks { id nmae } }`, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200 with errors in the body", status)
	}
	if _, ok := body["data"]; ok {
		t.Errorf("a query that fails validation returned data: %v", body["data"])
	}
	if diff := cmp.Diff([]string{"ValidationError"}, errorCodes(body)); diff != "" {
		t.Errorf("error classifications (-want +got):\n%s", diff)
	}
	msg, _ := dig(body, "errors", 0, "message").(string)
	if !strings.Contains(msg, "nmae") || !strings.Contains(msg, "Workbook") {
		t.Errorf("message %q does not name the field and type", msg)
	}
}

func TestGraphQLValidationCases(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	cases := []struct{ name, query string }{
		{"unknown filter field", `{ workbooks(filter: {projectNam: "x"}) { id } }`},
		{"wrong filter type name", `query($f: WorkbookFilter) { workbooks(filter: $f) { id } }`},
		{"unknown root field", `{ workbookz { id } }`},
		{"syntax error", `{ workbooks { id }`},
		{"missing selection", `{ workbooks }`},
		{"wrong argument type", `{ workbooksConnection(first: "ten") { totalCount } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.graphql(token, tc.query, nil)
			if status != http.StatusOK {
				t.Errorf("status %d, want 200", status)
			}
			if len(errorCodes(body)) == 0 {
				t.Errorf("query %s passed validation: %v", tc.query, body)
			}
		})
	}
}

// TestGraphQLExecutesSelection checks aliases, fragments on interfaces,
// variables, __typename and nested lists against the fixture site. Lists
// come sorted by Metadata API id, as on Tableau, so the two tags come in the
// order of their derived ids.
func TestGraphQLExecutesSelection(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	query := `
query Lineage($luids: [String], $n: Int) {
  page: workbooksConnection(filter: {luidWithin: $luids}, first: $n) {
    totalCount
    nodes {
      luid
      title: name
      projectName
      owner { name email username }
      tags { name }
      dashboards { name path }
      embeddedDatasources { ...ds }
      upstreamDatasources { luid ...ds }
    }
  }
}
fragment ds on Datasource {
  __typename
  name
  hasExtracts
  extractLastRefreshTime
  upstreamTables { name schema fullName database { name connectionType } }
}`
	vars := map[string]any{"luids": []string{"a0000000-0000-4000-8000-000000000001"}, "n": 10}
	status, body := h.graphql(token, query, vars)
	if status != http.StatusOK || body["errors"] != nil {
		t.Fatalf("status %d errors %v", status, body["errors"])
	}
	want := `{
  "page": {
    "totalCount": 1,
    "nodes": [{
      "luid": "a0000000-0000-4000-8000-000000000001",
      "title": "Revenue",
      "projectName": "Finance",
      "owner": {"name": "Ada Lovelace", "email": "ada@example.com", "username": "ada"},
      "tags": [{"name": "monthly"}, {"name": "finance"}],
      "dashboards": [{"name": "Overview", "path": "Revenue/Overview"}],
      "embeddedDatasources": [{
        "__typename": "EmbeddedDatasource",
        "name": "orders (extract)",
        "hasExtracts": true,
        "extractLastRefreshTime": "2024-05-01T06:00:00Z",
        "upstreamTables": [{"name": "ORDERS", "schema": "MARTS", "fullName": "[ANALYTICS].[MARTS].[ORDERS]", "database": {"name": "ANALYTICS", "connectionType": "snowflake"}}]
      }],
      "upstreamDatasources": [{
        "luid": "50000000-0000-4000-8000-000000000001",
        "__typename": "PublishedDatasource",
        "name": "Shared sales",
        "hasExtracts": true,
        "extractLastRefreshTime": "2024-04-30T06:00:00Z",
        "upstreamTables": [{"name": "SALES", "schema": "MARTS", "fullName": "[ANALYTICS].[MARTS].[SALES]", "database": {"name": "ANALYTICS", "connectionType": "snowflake"}}]
      }]
    }]
  }
}`
	var wantData any
	if err := json.Unmarshal([]byte(want), &wantData); err != nil {
		t.Fatal(err)
	}
	gotData := normalizeNumbers(body["data"])
	if diff := cmp.Diff(normalizeNumbers(wantData), gotData); diff != "" {
		t.Errorf("data (-want +got):\n%s", diff)
	}
}

// normalizeNumbers turns json.Number and float64 into int64 where whole, so
// that expected and decoded responses compare equal.
func normalizeNumbers(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = normalizeNumbers(x)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalizeNumbers(x)
		}
		return out
	case json.Number:
		n, err := v.Int64()
		if err == nil {
			return n
		}
		return v.String()
	case float64:
		return int64(v)
	}
	return v
}

func TestGraphQLCustomSQL(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	query := `{
  customSQLTables {
    name
    isUnsupportedCustomSql
    tables { name }
    downstreamDatasources { __typename name }
    downstreamWorkbooks { luid }
  }
}`
	_, body := h.graphql(token, query, nil)
	if body["errors"] != nil {
		t.Fatalf("errors: %v", body["errors"])
	}
	want := []any{
		map[string]any{
			"name": "Custom SQL Query", "isUnsupportedCustomSql": false,
			"tables":                []any{map[string]any{"name": "ORDERS"}, map[string]any{"name": "CUSTOMERS"}},
			"downstreamDatasources": []any{map[string]any{"__typename": "EmbeddedDatasource", "name": "customers live"}},
			"downstreamWorkbooks":   []any{map[string]any{"luid": "a0000000-0000-4000-8000-000000000002"}},
		},
		map[string]any{
			"name": "Custom SQL Query (1)", "isUnsupportedCustomSql": true,
			"tables":                []any{},
			"downstreamDatasources": []any{map[string]any{"__typename": "EmbeddedDatasource", "name": "customers live"}},
			"downstreamWorkbooks":   []any{map[string]any{"luid": "a0000000-0000-4000-8000-000000000002"}},
		},
	}
	if diff := cmp.Diff(want, dig(body, "data", "customSQLTables")); diff != "" {
		t.Errorf("customSQLTables (-want +got):\n%s", diff)
	}
}

func TestGraphQLFilters(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	cases := []struct {
		name   string
		filter string
		want   []string
	}{
		{"project name", `{projectNameWithin: ["Marketing"]}`, []string{"Marketing funnel", "Static text"}},
		{"luid", `{luidWithin: ["a0000000-0000-4000-8000-000000000002", "missing"]}`, []string{"Customers"}},
		{"name equals", `{name: "Revenue"}`, []string{"Revenue"}},
		{"two fields", `{projectName: "Finance", nameWithin: ["Customers", "Static text"]}`, []string{"Customers"}},
		{"nothing matches", `{projectNameWithin: []}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, body := h.graphql(token, `{ workbooks(filter: `+tc.filter+`) { name } }`, nil)
			if body["errors"] != nil {
				t.Fatalf("errors: %v", body["errors"])
			}
			var got []string
			for _, w := range dig(body, "data", "workbooks").([]any) {
				got = append(got, w.(map[string]any)["name"].(string))
			}
			if diff := cmp.Diff(tc.want, got, sortStrings); diff != "" {
				t.Errorf("workbooks (-want +got):\n%s", diff)
			}
		})
	}
}

var sortStrings = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

func TestGraphQLFilterByMetadataID(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	_, body := h.graphql(token, `{ workbooks(filter: {name: "Customers"}) { id } }`, nil)
	id := dig(body, "data", "workbooks", 0, "id")
	_, body = h.graphql(token, `query($ids: [ID]) { workbooks(filter: {idWithin: $ids}) { name } }`, map[string]any{"ids": []any{id}})
	if got := dig(body, "data", "workbooks", 0, "name"); got != "Customers" {
		t.Errorf("idWithin found %v, want Customers", got)
	}
}

// pageThrough reads workbooksConnection page by page and returns the LUIDs
// in order and the number of requests.
func pageThrough(t *testing.T, h *harness, token string, first int) ([]string, int) {
	t.Helper()
	query := `query($first: Int, $after: String) {
  workbooksConnection(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { luid }
  }
}`
	var luids []string
	var after any
	for requests := 1; ; requests++ {
		_, body := h.graphql(token, query, map[string]any{"first": first, "after": after})
		if body["errors"] != nil {
			t.Fatalf("errors: %v", body["errors"])
		}
		conn := dig(body, "data", "workbooksConnection")
		for _, n := range dig(conn, "nodes").([]any) {
			luids = append(luids, n.(map[string]any)["luid"].(string))
		}
		if dig(conn, "pageInfo", "hasNextPage") != true {
			return luids, requests
		}
		after = dig(conn, "pageInfo", "endCursor")
		if requests > 100 {
			t.Fatal("paging did not end")
		}
	}
}

func TestGraphQLCursorPaging(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	all, _ := pageThrough(t, h, token, 100)
	if len(all) != 4 {
		t.Fatalf("one page holds %d workbooks, want 4", len(all))
	}
	for _, first := range []int{1, 2, 3} {
		got, requests := pageThrough(t, h, token, first)
		if diff := cmp.Diff(all, got); diff != "" {
			t.Errorf("first=%d: pages (-want +got):\n%s", first, diff)
		}
		if want := (4 + first - 1) / first; requests != want {
			t.Errorf("first=%d: %d requests, want %d", first, requests, want)
		}
	}
}

func TestGraphQLPagingErrors(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	cases := []struct{ name, query string }{
		{"garbage cursor", `{ workbooksConnection(after: "bm90IGEgY3Vyc29y") { totalCount } }`},
		{"after with offset", `{ workbooksConnection(after: "eyJ0eXBlIjoiV29ya2Jvb2sifQ==", offset: 2) { totalCount } }`},
		{"negative first", `{ workbooksConnection(first: -1) { totalCount } }`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := h.graphql(token, tc.query, nil)
			if status != http.StatusOK {
				t.Errorf("status %d, want 200", status)
			}
			if diff := cmp.Diff([]string{"INVALID_ARGUMENT"}, errorCodes(body)); diff != "" {
				t.Errorf("error codes (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGraphQLCursorOfOtherTypeIsInvalid(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	_, body := h.graphql(token, `{ publishedDatasourcesConnection(first: 1) { pageInfo { endCursor } } }`, nil)
	cursor := dig(body, "data", "publishedDatasourcesConnection", "pageInfo", "endCursor")
	_, body = h.graphql(token, `query($c: String) { workbooksConnection(after: $c) { totalCount } }`, map[string]any{"c": cursor})
	if diff := cmp.Diff([]string{"INVALID_ARGUMENT"}, errorCodes(body)); diff != "" {
		t.Errorf("error codes (-want +got):\n%s", diff)
	}
}

func TestGraphQLOffsetPaging(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	all, _ := pageThrough(t, h, token, 100)
	_, body := h.graphql(token, `{ workbooksConnection(first: 2, offset: 1) { pageInfo { hasNextPage } nodes { luid } } }`, nil)
	var got []string
	for _, n := range dig(body, "data", "workbooksConnection", "nodes").([]any) {
		got = append(got, n.(map[string]any)["luid"].(string))
	}
	if diff := cmp.Diff(all[1:3], got); diff != "" {
		t.Errorf("offset page (-want +got):\n%s", diff)
	}
	if dig(body, "data", "workbooksConnection", "pageInfo", "hasNextPage") != true {
		t.Errorf("hasNextPage is not true with one workbook left")
	}
}

func TestGraphQLNodeLimit(t *testing.T) {
	// Each fixture workbook is at least 2 nodes (itself and its owner).
	h := startFixture(t, func(s *tableausim.Site) { s.Simulator.NodeLimit = 5 })
	token := h.signIn(tokenName, tokenSecret)

	status, body := h.graphql(token, `{ workbooksConnection(first: 4) { nodes { name owner { name } } pageInfo { hasNextPage } } }`, nil)
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200", status)
	}
	if diff := cmp.Diff([]string{"NODE_LIMIT_EXCEEDED"}, errorCodes(body)); diff != "" {
		t.Fatalf("error codes (-want +got):\n%s", diff)
	}
	nodes, _ := dig(body, "data", "workbooksConnection", "nodes").([]any)
	if len(nodes) == 0 || len(nodes) >= 4 {
		t.Errorf("partial data holds %d workbooks, want between 1 and 3", len(nodes))
	}
	if got := dig(body, "errors", 0, "extensions", "properties", "nodeLimit"); got != json.Number("5") {
		t.Errorf("nodeLimit property = %v, want 5", got)
	}

	// A page small enough passes: 2 workbooks with owners are 4 nodes.
	_, body = h.graphql(token, `{ workbooksConnection(first: 2) { nodes { name owner { name } } } }`, nil)
	if body["errors"] != nil {
		t.Errorf("a page within the limit failed: %v", body["errors"])
	}
}

func TestGraphQLNodeLimitCountsNestedObjects(t *testing.T) {
	// Revenue alone: workbook, owner, 2 tags, 1 dashboard, 1 embedded data
	// source with 1 table and its database = 8 nodes.
	query := `{ workbooks(filter: {name: "Revenue"}) { owner { name } tags { name } dashboards { name }
  embeddedDatasources { upstreamTables { name database { name } } } } }`
	for _, tc := range []struct {
		limit    int
		exceeded bool
	}{{8, false}, {7, true}} {
		h := startFixture(t, func(s *tableausim.Site) { s.Simulator.NodeLimit = tc.limit })
		token := h.signIn(tokenName, tokenSecret)
		_, body := h.graphql(token, query, nil)
		got := len(errorCodes(body)) > 0
		if got != tc.exceeded {
			t.Errorf("limit %d: exceeded = %v, want %v (%v)", tc.limit, got, tc.exceeded, body["errors"])
		}
	}
}

func TestGraphQLRepeatedLUIDReturnsWorkbookOnce(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	_, body := h.graphql(token, `{ workbooksConnection(filter: {luidWithin: ["`+revenueLUID+`", "`+revenueLUID+`"], luid: "`+revenueLUID+`"}) { totalCount } }`, nil)
	if got := dig(body, "data", "workbooksConnection", "totalCount"); got != json.Number("1") {
		t.Errorf("totalCount = %v, want 1", got)
	}
}

func TestGraphQLMaxPageSize(t *testing.T) {
	h := startFixture(t, func(s *tableausim.Site) { s.Simulator.MaxPageSize = 3 })
	token := h.signIn(tokenName, tokenSecret)

	_, body := h.graphql(token, `{ workbooksConnection(first: 10) { pageInfo { hasNextPage } nodes { luid } } }`, nil)
	if diff := cmp.Diff([]string{"MAX_PAGE_SIZE_EXCEEDED"}, errorCodes(body)); diff != "" {
		t.Errorf("error codes (-want +got):\n%s", diff)
	}
	if n := len(dig(body, "data", "workbooksConnection", "nodes").([]any)); n != 3 {
		t.Errorf("page holds %d workbooks, want the maximum page size 3", n)
	}
	if dig(body, "data", "workbooksConnection", "pageInfo", "hasNextPage") != true {
		t.Errorf("hasNextPage is not true with a fourth workbook left")
	}

	_, body = h.graphql(token, `{ workbooksConnection(first: 3) { nodes { luid } } }`, nil)
	if body["errors"] != nil {
		t.Errorf("a page at the maximum got errors: %v", body["errors"])
	}
}
