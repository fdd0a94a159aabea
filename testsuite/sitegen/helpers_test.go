package sitegen_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/testsuite/sitegen"
)

func signIn(t *testing.T, h http.Handler) string {
	t.Helper()
	body := `{"credentials":{"personalAccessTokenName":"` + sitegen.Token.Name +
		`","personalAccessTokenSecret":"` + sitegen.Token.Secret + `","site":{"contentUrl":"sitegen"}}}`
	req := httptest.NewRequest("POST", "/api/3.24/auth/signin", strings.NewReader(body))
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct{ Credentials struct{ Token string } }
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || out.Credentials.Token == "" {
		t.Fatalf("sign-in: status %d body %s", rec.Code, rec.Body.String())
	}
	return out.Credentials.Token
}

func queryTotal(t *testing.T, h http.Handler, token string) int {
	t.Helper()
	req := httptest.NewRequest("POST", "/api/metadata/graphql",
		strings.NewReader(`{"query":"{ workbooksConnection(first: 10) { totalCount nodes { upstreamTables { fullName } } } }"}`))
	req.Header.Set("X-Tableau-Auth", token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out struct {
		Data struct {
			WorkbooksConnection struct{ TotalCount int }
		}
		Errors []any
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Errors) > 0 {
		t.Fatalf("query: status %d body %s", rec.Code, rec.Body.String())
	}
	return out.Data.WorkbooksConnection.TotalCount
}
