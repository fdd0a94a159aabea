package tableau

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// readFixture reads a recorded Tableau response from testdata/tableau.
func readFixture(t *testing.T, parts ...string) []byte {
	t.Helper()
	path := filepath.Join(append([]string{"..", "..", "testdata", "tableau"}, parts...)...)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading fixture: %v", err)
	}
	return data
}

func TestDecodeErrorBodyFixtures(t *testing.T) {
	tests := []struct {
		file                  string
		code, summary, detail string
	}{
		{"auth_sign_in_error.xml", "401001", "Signin Error", "Error signing in to Tableau Server"},
		{"server_info_404.xml", "404003", "Resource Not Found", "Unknown resource '/2.4/serverInfo' specified in URI."},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			code, summary, detail := decodeErrorBody("application/xml", readFixture(t, "rest", tt.file))
			if diff := cmp.Diff([]string{tt.code, tt.summary, tt.detail}, []string{code, summary, detail}); diff != "" {
				t.Errorf("decodeErrorBody (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrorBodyJSONAndOther(t *testing.T) {
	tests := []struct {
		name, contentType, body string
		want                    []string
	}{
		{"json", "application/json", `{"error":{"summary":"Bad Request","detail":"no extract","code":"409090"}}`, []string{"409090", "Bad Request", "no extract"}},
		{"html from a proxy", "text/html", `<html><body>502 Bad Gateway</body></html>`, []string{"", "", ""}},
		{"empty", "", ``, []string{"", "", ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, summary, detail := decodeErrorBody(tt.contentType, []byte(tt.body))
			if diff := cmp.Diff(tt.want, []string{code, summary, detail}); diff != "" {
				t.Errorf("decodeErrorBody (-want +got):\n%s", diff)
			}
		})
	}
}

func TestKindForStatus(t *testing.T) {
	tests := []struct {
		status    int
		code      string
		want      error
		retryable bool
	}{
		{401, "401001", ErrInvalidCredentials, false},
		{401, "401002", ErrSessionExpired, true},
		{403, "403004", ErrPermission, false},
		{404, "404004", ErrNotFound, false},
		{409, "409090", ErrNoExtract, false},
		{409, "409093", ErrConflict, false},
		{429, "", ErrRateLimited, true},
		{500, "", ErrServer, true},
		{503, "", ErrServer, true},
		{400, "400000", ErrBadRequest, false},
	}
	for _, tt := range tests {
		kind := kindForStatus(tt.status, tt.code)
		if kind != tt.want {
			t.Errorf("kindForStatus(%d, %q) = %v, want %v", tt.status, tt.code, kind, tt.want)
		}
		err := &Error{Kind: kind, Code: tt.code, HTTPStatus: tt.status}
		if !errors.Is(err, tt.want) {
			t.Errorf("errors.Is(%v, %v) = false", err, tt.want)
		}
		if got := IsRetryable(err); got != tt.retryable {
			t.Errorf("IsRetryable(%v) = %v, want %v", err, got, tt.retryable)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"-3", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.value, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

func TestRetryAfterFromError(t *testing.T) {
	err := error(&Error{Kind: ErrRateLimited, RetryAfter: 3 * time.Second, Message: "refreshing"})
	wrapped := errors.Join(errors.New("context"), err)
	d, ok := RetryAfter(wrapped)
	if !ok || d != 3*time.Second {
		t.Errorf("RetryAfter = %v, %v; want 3s, true", d, ok)
	}
	if _, ok := RetryAfter(errors.New("plain")); ok {
		t.Error("RetryAfter(plain error) reported a wait")
	}
}

func ptr[T any](v T) *T { return &v }

func TestJobFromFixtures(t *testing.T) {
	tests := []struct {
		file string
		want Job
	}{
		{"workbook_refresh.xml", Job{
			ID: "7c3d599e-949f-44c3-94a1-f30ba85757e4", Type: "RefreshExtract", ResourceType: "workbook",
			ResourceLUID: "3cc6cd06-89ce-4fdc-b935-5294135d6d42", Status: JobQueued,
			CreatedAt: time.Date(2020, 3, 5, 22, 5, 32, 0, time.UTC),
		}},
		{"datasource_refresh.xml", Job{
			ID: "7c3d599e-949f-44c3-94a1-f30ba85757e4", Type: "RefreshExtract", ResourceType: "datasource",
			ResourceLUID: "9dbd2263-16b5-46e1-9c43-a76bb8ab65fb", Status: JobQueued,
			CreatedAt: time.Date(2020, 3, 5, 22, 5, 32, 0, time.UTC),
		}},
		{"job_get_by_id.xml", Job{
			ID: "2eef4225-aa0c-41c4-8662-a76d89ed7336", Type: "extractRefreshJob", Status: JobSucceeded,
			FinishCode: ptr(0), Progress: 100,
			CreatedAt:   time.Date(2020, 5, 13, 20, 23, 45, 0, time.UTC),
			CompletedAt: time.Date(2020, 5, 13, 20, 25, 18, 0, time.UTC),
			Notes:       []string{"Job detail notes", "Description of how many users were added to the group during the import."},
		}},
		{"job_get_by_id_failed_workbook.xml", Job{
			ID: "bb1aab79-db54-4e96-9dd3-461d8f081d08", Type: "RefreshExtract", ResourceType: "workbook",
			ResourceLUID: "5998aaaf-1abe-4d38-b4d9-bc53e85bdd13", Status: JobFailed, FinishCode: ptr(1), Progress: 100,
			CreatedAt:   time.Date(2021, 10, 5, 18, 53, 34, 0, time.UTC),
			StartedAt:   time.Date(2021, 10, 5, 18, 53, 34, 0, time.UTC),
			CompletedAt: time.Date(2021, 10, 5, 18, 53, 35, 0, time.UTC),
			Notes:       []string{`java.lang.RuntimeException: [Microsoft][ODBC Driver 17 for SQL Server][SQL Server]Login failed for user.\nIntegrated authentication failed.`},
		}},
		{"job_get_by_id_inprogress.xml", Job{
			ID: "777bf7c4-421d-4b2c-a518-11b90187c545", Type: "UpdateUploadedFile", Status: JobInProgress,
			CreatedAt: time.Date(2021, 10, 5, 18, 53, 34, 0, time.UTC),
			StartedAt: time.Date(2021, 10, 5, 18, 53, 34, 0, time.UTC),
		}},
		{"job_get_by_id_completed.xml", Job{
			ID: "2eef4225-aa0c-41c4-8662-a76d89ed7336", Type: "extractRefreshJob", Status: JobFailed,
			FinishCode: ptr(3), Progress: 100,
			CreatedAt:   time.Date(2020, 5, 13, 20, 23, 45, 0, time.UTC),
			CompletedAt: time.Date(2020, 5, 13, 20, 25, 18, 0, time.UTC),
			Notes:       []string{"Job detail notes", "Description of how many users were added to the group during the import."},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			var doc tsResponse
			if err := xml.Unmarshal(readFixture(t, "rest", tt.file), &doc); err != nil {
				t.Fatalf("xml.Unmarshal: %v", err)
			}
			if doc.Job == nil {
				t.Fatal("no <job> element decoded")
			}
			if diff := cmp.Diff(tt.want, doc.Job.job()); diff != "" {
				t.Errorf("job (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRESTFixturesDecode(t *testing.T) {
	var signIn tsResponse
	if err := xml.Unmarshal(readFixture(t, "rest", "auth_sign_in.xml"), &signIn); err != nil {
		t.Fatal(err)
	}
	gotSignIn := []string{signIn.Credentials.Token, signIn.Credentials.Site.ID, signIn.Credentials.Site.ContentURL, signIn.Credentials.User.ID}
	wantSignIn := []string{"eIX6mvFsqyansa4KqEI1UwOpS8ggRs2l", "6b7179ba-b82b-4f0f-91ed-812074ac5da6", "Samples", "1a96d216-e9b8-497b-a82a-0b899a965e01"}
	if diff := cmp.Diff(wantSignIn, gotSignIn); diff != "" {
		t.Errorf("sign-in (-want +got):\n%s", diff)
	}

	for file, want := range map[string]string{"server_info_get.xml": "3.10", "server_info_25.xml": "2.5"} {
		var info tsResponse
		if err := xml.Unmarshal(readFixture(t, "rest", file), &info); err != nil {
			t.Fatal(err)
		}
		if info.ServerInfo == nil || info.ServerInfo.RESTAPIVersion != want {
			t.Errorf("%s: restApiVersion = %+v, want %s", file, info.ServerInfo, want)
		}
	}

	var jobs tsResponse
	if err := xml.Unmarshal(readFixture(t, "rest", "job_get.xml"), &jobs); err != nil {
		t.Fatal(err)
	}
	wantJobs := []restBackgroundJob{{ID: "2eef4225-aa0c-41c4-8662-a76d89ed7336", Status: "Success", JobType: "single_subscription_notify", CreatedAt: "2018-05-22T13:00:29Z"}}
	if diff := cmp.Diff(wantJobs, jobs.Jobs); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(&restPagination{PageNumber: 1, PageSize: 100, TotalAvailable: 1}, jobs.Pagination); diff != "" {
		t.Errorf("pagination (-want +got):\n%s", diff)
	}
}

func TestGraphQLErrorWithPartialData(t *testing.T) {
	c := &Client{}
	resp := &http.Response{StatusCode: 200, Header: http.Header{}}
	err := c.graphQLError(resp, readFixture(t, "metadata", "tsc_metadata_query_error.json"), &session{generation: 1})
	if err == nil {
		t.Fatal("graphQLError = nil for a response with partial data and errors")
	}
	if !errors.Is(err, ErrServer) || !IsRetryable(err) || !isTooBig(err) {
		t.Errorf("error %v: want a retryable ErrServer that asks for a smaller page", err)
	}
	if err := c.graphQLError(resp, readFixture(t, "metadata", "tsc_metadata_query_success.json"), &session{}); err != nil {
		t.Errorf("graphQLError on a clean response = %v", err)
	}
}

func TestGraphQLErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
		code string
	}{
		{"node limit", `{"data":{"workbooksConnection":null},"errors":[{"message":"Showing partial results. The request exceeded the 20000 node limit.","extensions":{"severity":"WARNING","code":"NODE_LIMIT_EXCEEDED","properties":{"nodeLimit":20000}}}]}`, ErrNodeLimitExceeded, "NODE_LIMIT_EXCEEDED"},
		{"rate exceeded", `{"errors":[{"message":"Request was throttled.","extensions":{"severity":"ERROR","code":"RATE_EXCEEDED"}}]}`, ErrRateLimited, "RATE_EXCEEDED"},
		{"throttled without code", `{"errors":[{"message":"Query throttled, try later"}]}`, ErrRateLimited, ""},
		{"validation", `{"errors":[{"message":"Validation error of type FieldUndefined: Field 'luids' in type 'Workbook' is undefined","extensions":{"classification":"ValidationError"}}]}`, ErrBadRequest, ""},
		{"node limit wins", `{"errors":[{"message":"other"},{"message":"limit","extensions":{"code":"NODE_LIMIT_EXCEEDED"}}]}`, ErrNodeLimitExceeded, "NODE_LIMIT_EXCEEDED"},
	}
	c := &Client{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := c.graphQLError(&http.Response{StatusCode: 200, Header: http.Header{}}, []byte(tt.body), &session{})
			var te *Error
			if !errors.As(err, &te) {
				t.Fatalf("graphQLError = %v, want *Error", err)
			}
			if te.Kind != tt.want || te.Code != tt.code {
				t.Errorf("kind, code = %v, %q; want %v, %q", te.Kind, te.Code, tt.want, tt.code)
			}
		})
	}
}

// TestWorkbookFromDatahubFixture converts the recorded workbooksConnection
// response, decoded by encoding/json into the query's node type, and checks
// the workbook fields that the snapshot keeps.
func TestWorkbookFromDatahubFixture(t *testing.T) {
	var doc struct {
		Data struct {
			WorkbooksConnection struct {
				Nodes []workbookNode
			}
		}
	}
	if err := json.Unmarshal(readFixture(t, "metadata", "datahub_workbooksConnection_all.json"), &doc); err != nil {
		t.Fatal(err)
	}
	nodes := doc.Data.WorkbooksConnection.Nodes
	if len(nodes) < 2 {
		t.Fatalf("decoded %d workbooks, want at least 2", len(nodes))
	}
	c := &Client{cfg: Config{ServerURL: "https://10az.online.tableau.com", Site: "acme"}}
	got := c.workbookFromNode(nodes[1])
	want := Workbook{
		LUID:        "b2c84ac6-1e37-4ca0-bf9b-62339be046fc",
		Name:        "Dvdrental Workbook",
		ProjectName: "default",
		Owner:       Owner{Username: "jawadqu@gmail.com"},
		WebURL:      "https://10az.online.tableau.com/#/site/acme/workbooks/15619",
		UpdatedAt:   time.Date(2022, 1, 18, 16, 14, 34, 0, time.UTC),
		Tags:        []string{"TagSheet3"},
		Dashboards:  []Dashboard{{ID: "20e44c22-1ccd-301a-220c-7b6837d09a52"}, {ID: "39b7a1de-6276-cfc7-9b59-1d22f3bbb06b"}},
		EmbeddedDatasources: []EmbeddedDatasource{
			{ID: "4644ccb1-2adc-cf26-c654-04ed1dcc7090"},
			{ID: "618c87db-5959-338b-bcc7-6f5f4cc0b6c6"},
			{ID: "d00f4ba6-707e-4684-20af-69eb47587cc2"},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workbookFromNode (-want +got):\n%s", diff)
	}

	c.cfg.Site = ""
	if got := c.webURL("sites/4989/workbooks/15995"); got != "https://10az.online.tableau.com/#/workbooks/15995" {
		t.Errorf("webURL on the default site = %q", got)
	}
}

// TestTablesFromDatahubFixtures converts the upstream tables of recorded
// embedded and published data sources, and the tables parsed from recorded
// custom SQL.
func TestTablesFromDatahubFixtures(t *testing.T) {
	var embedded struct {
		Data struct {
			EmbeddedDatasourcesConnection struct {
				Nodes []struct {
					ID                     string
					Name                   string
					HasExtracts            bool
					ExtractLastRefreshTime *string
					UpstreamTables         []tableNode
				}
			}
		}
	}
	if err := json.Unmarshal(readFixture(t, "metadata", "datahub_embeddedDatasourcesConnection_all.json"), &embedded); err != nil {
		t.Fatal(err)
	}
	nodes := embedded.Data.EmbeddedDatasourcesConnection.Nodes
	if len(nodes) == 0 || len(nodes[0].UpstreamTables) == 0 {
		t.Fatal("fixture decoded without upstream tables")
	}
	for _, n := range nodes {
		for _, table := range tablesFromNodes(n.UpstreamTables) {
			if table.Name == "" || table.Database == "" {
				t.Errorf("data source %s: table %+v lacks a name or database", n.ID, table)
			}
		}
		if n.HasExtracts && n.ExtractLastRefreshTime != nil && parseTimePtr(n.ExtractLastRefreshTime) == nil {
			t.Errorf("data source %s: extractLastRefreshTime %q did not parse", n.ID, *n.ExtractLastRefreshTime)
		}
	}

	var custom struct {
		Data struct {
			CustomSQLTablesConnection struct {
				Nodes []customSQLNode
			}
		}
	}
	if err := json.Unmarshal(readFixture(t, "metadata", "datahub_customSQLTablesConnection_all.json"), &custom); err != nil {
		t.Fatal(err)
	}
	if len(custom.Data.CustomSQLTablesConnection.Nodes) != 3 {
		t.Fatalf("decoded %d custom SQL nodes, want 3", len(custom.Data.CustomSQLTablesConnection.Nodes))
	}
	for _, n := range custom.Data.CustomSQLTablesConnection.Nodes {
		sql := customSQLFromNode(n)
		if sql.Query == "" {
			t.Errorf("custom SQL %s has no query", n.ID)
		}
		for _, table := range sql.Tables {
			if table.Name == "" {
				t.Errorf("custom SQL %s: table %+v has no name", n.ID, table)
			}
		}
	}
}

// TestSnapshotDocExample decodes the example in docs/snapshot.md strictly,
// so that the documented form and the Go type cannot drift apart.
func TestSnapshotDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "snapshot.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/snapshot.md has no json example")
	}
	dec := json.NewDecoder(strings.NewReader(example))
	dec.DisallowUnknownFields()
	var snap Snapshot
	if err := dec.Decode(&snap); err != nil {
		t.Fatalf("decoding the example: %v", err)
	}
	if len(snap.Workbooks) != 1 || len(snap.Workbooks[0].EmbeddedDatasources[0].CustomSQL) != 1 || len(snap.PublishedDatasources) != 1 {
		t.Errorf("example decoded incompletely: %+v", snap)
	}

	again, err := json.Marshal(snap)
	if err != nil {
		t.Fatal(err)
	}
	var roundTrip Snapshot
	if err := json.Unmarshal(again, &roundTrip); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(snap, roundTrip); diff != "" {
		t.Errorf("JSON round trip (-want +got):\n%s", diff)
	}
}
