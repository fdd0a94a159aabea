package tableausim_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/testsuite/sitegen"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const lineageQuery = `query($first: Int, $after: String, $filter: Workbook_Filter) {
  workbooksConnection(first: $first, after: $after, filter: $filter) {
    nodes {
      luid name projectName updatedAt
      owner { name email username }
      tags { name }
      dashboards { id luid name path }
      embeddedDatasources { id name hasExtracts extractLastRefreshTime
        upstreamTables { id name schema fullName connectionType database { name connectionType } } }
      upstreamDatasources { luid }
    }
    pageInfo { hasNextPage endCursor }
  }
}`

// BenchmarkReadBatch measures one Metadata API request that reads the full
// lineage of 100 workbooks, selected by LUID, from a 10,000-workbook site.
func BenchmarkReadBatch(b *testing.B) {
	site := sitegen.Generate(sitegen.Params{Seed: 1, Workbooks: 10000})
	luids := make([]string, 100)
	for i := range luids {
		luids[i] = site.Workbooks[i*97].LUID
	}
	srv := tableausim.New(site)
	h := srv.Handler()

	rec := httptest.NewRecorder()
	body := `{"credentials":{"personalAccessTokenName":"` + sitegen.Token.Name + `","personalAccessTokenSecret":"` +
		sitegen.Token.Secret + `","site":{"contentUrl":"sitegen"}}}`
	req := httptest.NewRequest("POST", "/api/3.24/auth/signin", strings.NewReader(body))
	req.Header.Set("Accept", "application/json")
	h.ServeHTTP(rec, req)
	var cred struct{ Credentials struct{ Token string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &cred); err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]any{"query": lineageQuery, "variables": map[string]any{
		"first": 100, "filter": map[string]any{"luidWithin": luids}}})

	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/api/metadata/graphql", strings.NewReader(string(payload)))
		req.Header.Set("X-Tableau-Auth", cred.Credentials.Token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body.String())
		}
	}
}
