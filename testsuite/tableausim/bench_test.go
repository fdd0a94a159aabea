package tableausim_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

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
// lineage of 100 workbooks, selected by LUID, from a 10,000-workbook site:
// parsing, validation, execution and encoding. It reports the ratio to the
// baseline of encoding/json decoding and encoding the same response body,
// measured in the same run, as x-encoding-json.
func BenchmarkReadBatch(b *testing.B) {
	site := sitegen.Generate(sitegen.Params{Seed: 1, Workbooks: 10000})
	luids := make([]string, 100)
	for i := range luids {
		luids[i] = site.Workbooks[i*97].LUID
	}
	h := tableausim.New(site).Handler()

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

	serve := func() []byte {
		req := httptest.NewRequest("POST", "/api/metadata/graphql", strings.NewReader(string(payload)))
		req.Header.Set("X-Tableau-Auth", cred.Credentials.Token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 || strings.Contains(rec.Body.String(), `"errors"`) {
			b.Fatalf("status %d: %.300s", rec.Code, rec.Body.String())
		}
		return rec.Body.Bytes()
	}
	response := serve()

	// The baseline runs as many rounds as the benchmark, right before it.
	// testing.Benchmark cannot run inside a benchmark, so it is timed here.
	var baseline time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		start := time.Now()
		var v any
		if err := json.Unmarshal(response, &v); err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(v); err != nil {
			b.Fatal(err)
		}
		baseline += time.Since(start)
		b.StartTimer()

		serve()
	}
	perOp := float64(b.Elapsed()) / float64(b.N)
	b.ReportMetric(perOp/(float64(baseline)/float64(b.N)), "x-encoding-json")
	b.ReportMetric(float64(len(response)), "response-bytes")
}
