package tableausim_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const (
	revenueLUID   = "a0000000-0000-4000-8000-000000000001"
	customersLUID = "a0000000-0000-4000-8000-000000000002"
	marketingLUID = "a0000000-0000-4000-8000-000000000003"
	staticLUID    = "a0000000-0000-4000-8000-000000000004"
	sharedLUID    = "50000000-0000-4000-8000-000000000001"
	sitePrefix    = "/api/3.24/sites/" + siteLUID
)

// jobResponse is a job in JSON form.
type jobResponse struct {
	Job struct {
		ID                string `json:"id"`
		Type              string `json:"type"`
		Progress          string `json:"progress"`
		CreatedAt         string `json:"createdAt"`
		StartedAt         string `json:"startedAt"`
		CompletedAt       string `json:"completedAt"`
		FinishCode        string `json:"finishCode"`
		ExtractRefreshJob struct {
			Workbook   *struct{ ID, Name string } `json:"workbook"`
			Datasource *struct{ ID, Name string } `json:"datasource"`
			Notes      string                     `json:"notes"`
		} `json:"extractRefreshJob"`
	} `json:"job"`
}

func decodeJob(t *testing.T, body string) jobResponse {
	t.Helper()
	var j jobResponse
	if err := json.Unmarshal([]byte(body), &j); err != nil {
		t.Fatalf("decoding job %q: %v", body, err)
	}
	return j
}

func (h *harness) refresh(token, kind, luid string) response {
	h.t.Helper()
	return h.do("POST", sitePrefix+"/"+kind+"/"+luid+"/refresh", token, "application/json", "<tsRequest/>")
}

func (h *harness) job(token, id string) jobResponse {
	h.t.Helper()
	resp := h.do("GET", sitePrefix+"/jobs/"+id, token, "application/json", "")
	if resp.status != http.StatusOK {
		h.t.Fatalf("GET job %s: status %d: %s", id, resp.status, resp.body)
	}
	return decodeJob(h.t, resp.body)
}

// extractTime reads a workbook's first embedded extract refresh time
// through the Metadata API.
func (h *harness) extractTime(token, luid string) any {
	h.t.Helper()
	_, body := h.graphql(token, `query($l: [String]) { workbooks(filter: {luidWithin: $l}) { embeddedDatasources { extractLastRefreshTime } } }`,
		map[string]any{"l": []string{luid}})
	return dig(body, "data", "workbooks", 0, "embeddedDatasources", 0, "extractLastRefreshTime")
}

func TestRefreshJobLifecycle(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	start := h.clock.Now()

	resp := h.refresh(token, "workbooks", revenueLUID)
	if resp.status != http.StatusAccepted {
		t.Fatalf("refresh status %d: %s", resp.status, resp.body)
	}
	created := decodeJob(t, resp.body)
	if created.Job.ExtractRefreshJob.Workbook == nil || created.Job.ExtractRefreshJob.Workbook.ID != revenueLUID {
		t.Fatalf("job does not name the workbook: %s", resp.body)
	}
	id := created.Job.ID

	// The fixture queues jobs for 10s and runs them for 20s.
	steps := []struct {
		advance    time.Duration
		started    bool
		finishCode string
	}{
		{0, false, ""},
		{10 * time.Second, true, ""},
		{19 * time.Second, true, ""},
		{1 * time.Second, true, "0"},
	}
	for i, st := range steps {
		h.clock.Advance(st.advance)
		j := h.job(token, id)
		if got := j.Job.StartedAt != ""; got != st.started {
			t.Errorf("step %d: started = %v, want %v", i, got, st.started)
		}
		if j.Job.FinishCode != st.finishCode {
			t.Errorf("step %d: finishCode = %q, want %q", i, j.Job.FinishCode, st.finishCode)
		}
	}

	wantTime := start.Add(30 * time.Second).UTC().Format("2006-01-02T15:04:05Z")
	if got := h.extractTime(token, revenueLUID); got != wantTime {
		t.Errorf("extractLastRefreshTime = %v, want %s", got, wantTime)
	}
	if diff := cmp.Diff([]tableausim.Job{{
		ID: id, ResourceType: "workbook", ResourceLUID: revenueLUID, State: tableausim.JobSucceeded, CreatedAt: start,
	}}, h.srv.Jobs()); diff != "" {
		t.Errorf("Jobs() (-want +got):\n%s", diff)
	}
}

func TestRefreshConflictsAndErrors(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	first := h.refresh(token, "datasources", sharedLUID)
	if first.status != http.StatusAccepted {
		t.Fatalf("first refresh: status %d: %s", first.status, first.body)
	}
	queuedID := decodeJob(t, first.body).Job.ID

	cases := []struct {
		name       string
		kind, luid string
		status     int
		code       string
	}{
		{"second refresh while queued", "datasources", sharedLUID, http.StatusConflict, "409093"},
		{"live workbook", "workbooks", customersLUID, http.StatusConflict, "409090"},
		{"workbook without data sources", "workbooks", staticLUID, http.StatusConflict, "409090"},
		{"unknown workbook", "workbooks", "no-such-workbook", http.StatusNotFound, "404006"},
		{"unknown data source", "datasources", "no-such-datasource", http.StatusNotFound, "404011"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.refresh(token, tc.kind, tc.luid)
			if resp.status != tc.status {
				t.Errorf("status %d, want %d: %s", resp.status, tc.status, resp.body)
			}
			if got := restErrorCode(t, resp.body); got != tc.code {
				t.Errorf("code %s, want %s", got, tc.code)
			}
		})
	}

	// The 409093 detail names the queued job.
	resp := h.refresh(token, "datasources", sharedLUID)
	var e struct{ Error struct{ Detail string } }
	_ = json.Unmarshal([]byte(resp.body), &e)
	if !strings.Contains(e.Error.Detail, queuedID) {
		t.Errorf("409093 detail %q does not name job %s", e.Error.Detail, queuedID)
	}

	// Once the job runs, a new refresh is accepted again.
	h.clock.Advance(10 * time.Second)
	if resp := h.refresh(token, "datasources", sharedLUID); resp.status != http.StatusAccepted {
		t.Errorf("refresh while the first runs: status %d: %s", resp.status, resp.body)
	}
}

func TestRefreshOutcomesFromSiteFile(t *testing.T) {
	cases := []struct {
		outcome    tableausim.Outcome
		finishCode string
		notes      bool
		refreshed  bool
		state      tableausim.JobState
	}{
		{tableausim.OutcomeSuccess, "0", false, true, tableausim.JobSucceeded},
		{tableausim.OutcomeFailure, "1", true, false, tableausim.JobFailed},
		{tableausim.OutcomeCancelled, "2", false, false, tableausim.JobCancelled},
	}
	for _, tc := range cases {
		t.Run(string(tc.outcome), func(t *testing.T) {
			h := startFixture(t, func(s *tableausim.Site) {
				s.Simulator.RefreshOutcomes[marketingLUID] = tc.outcome
			})
			token := h.signIn(tokenName, tokenSecret)
			before := h.extractTime(token, marketingLUID)

			id := decodeJob(t, h.refresh(token, "workbooks", marketingLUID).body).Job.ID
			h.clock.Advance(time.Minute)

			j := h.job(token, id)
			if j.Job.FinishCode != tc.finishCode {
				t.Errorf("finishCode = %q, want %s", j.Job.FinishCode, tc.finishCode)
			}
			if got := j.Job.ExtractRefreshJob.Notes != ""; got != tc.notes {
				t.Errorf("job has notes = %v, want %v", got, tc.notes)
			}
			if got := h.extractTime(token, marketingLUID) != before; got != tc.refreshed {
				t.Errorf("extractLastRefreshTime changed = %v, want %v", got, tc.refreshed)
			}
			if got := h.srv.Jobs()[0].State; got != tc.state {
				t.Errorf("Jobs()[0].State = %s, want %s", got, tc.state)
			}
		})
	}
}

func TestCancelJob(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	before := h.extractTime(token, revenueLUID)

	id := decodeJob(t, h.refresh(token, "workbooks", revenueLUID).body).Job.ID
	if resp := h.do("PUT", sitePrefix+"/jobs/"+id, token, "", ""); resp.status != http.StatusOK {
		t.Fatalf("cancel status %d: %s", resp.status, resp.body)
	}
	h.clock.Advance(time.Minute)
	if got := h.job(token, id).Job.FinishCode; got != "2" {
		t.Errorf("finishCode = %q, want 2", got)
	}
	if got := h.extractTime(token, revenueLUID); got != before {
		t.Errorf("cancelled refresh changed extractLastRefreshTime from %v to %v", before, got)
	}
	resp := h.do("GET", sitePrefix+"/jobs/no-such-job", token, "application/json", "")
	if resp.status != http.StatusNotFound || restErrorCode(t, resp.body) != "404031" {
		t.Errorf("unknown job: status %d body %s, want 404031", resp.status, resp.body)
	}
}

func TestListJobsNewestFirstWithStatus(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	done := decodeJob(t, h.refresh(token, "workbooks", revenueLUID).body).Job.ID
	h.clock.Advance(time.Minute)
	queued := decodeJob(t, h.refresh(token, "datasources", sharedLUID).body).Job.ID

	resp := h.do("GET", sitePrefix+"/jobs?filter=jobType:eq:refresh_extracts", token, "", "")
	var got struct {
		Jobs []struct {
			ID     string `xml:"id,attr"`
			Status string `xml:"status,attr"`
		} `xml:"backgroundJobs>backgroundJob"`
	}
	if err := xml.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("decoding %q: %v", resp.body, err)
	}
	want := []struct {
		ID     string `xml:"id,attr"`
		Status string `xml:"status,attr"`
	}{{queued, "Pending"}, {done, "Success"}}
	if diff := cmp.Diff(want, got.Jobs); diff != "" {
		t.Errorf("jobs (-want +got):\n%s", diff)
	}
	pending := h.do("GET", sitePrefix+"/jobs?filter=jobType:eq:refresh_extracts,status:eq:Pending", token, "", "")
	got.Jobs = nil
	if err := xml.Unmarshal([]byte(pending.body), &got); err != nil {
		t.Fatalf("decoding %q: %v", pending.body, err)
	}
	if diff := cmp.Diff(want[:1], got.Jobs); diff != "" {
		t.Errorf("pending jobs (-want +got):\n%s", diff)
	}

	bad := h.do("GET", sitePrefix+"/jobs?filter=name:eq:x", token, "application/json", "")
	if bad.status != http.StatusBadRequest {
		t.Errorf("unsupported filter: status %d, want 400", bad.status)
	}
}

func TestCollectionsPaging(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	type page struct {
		Pagination struct {
			PageNumber     string `json:"pageNumber"`
			PageSize       string `json:"pageSize"`
			TotalAvailable string `json:"totalAvailable"`
		} `json:"pagination"`
		Collections struct {
			Collection []struct{ ID, Name string } `json:"collection"`
		} `json:"collections"`
		Items struct {
			Item []struct {
				ID          string `json:"id"`
				ContentType string `json:"contentType"`
			} `json:"item"`
		} `json:"items"`
	}
	get := func(path string) page {
		t.Helper()
		resp := h.do("GET", path, token, "application/json", "")
		if resp.status != http.StatusOK {
			t.Fatalf("GET %s: status %d: %s", path, resp.status, resp.body)
		}
		var p page
		if err := json.Unmarshal([]byte(resp.body), &p); err != nil {
			t.Fatalf("decoding %q: %v", resp.body, err)
		}
		return p
	}

	p1 := get(sitePrefix + "/collections?pageSize=1&pageNumber=1")
	p2 := get(sitePrefix + "/collections?pageSize=1&pageNumber=2")
	p3 := get(sitePrefix + "/collections?pageSize=1&pageNumber=3")
	var names []string
	for _, p := range []page{p1, p2, p3} {
		for _, c := range p.Collections.Collection {
			names = append(names, c.Name)
		}
	}
	if diff := cmp.Diff([]string{"Finance dashboards", "Empty collection"}, names); diff != "" {
		t.Errorf("collections over pages (-want +got):\n%s", diff)
	}
	if p1.Pagination.TotalAvailable != "2" || p1.Pagination.PageSize != "1" {
		t.Errorf("pagination = %+v", p1.Pagination)
	}

	items := get(sitePrefix + "/collections/c0000000-0000-4000-8000-000000000001/items")
	var luids []string
	for _, it := range items.Items.Item {
		if it.ContentType != "workbook" {
			t.Errorf("item %s has contentType %q", it.ID, it.ContentType)
		}
		luids = append(luids, it.ID)
	}
	if diff := cmp.Diff([]string{revenueLUID, customersLUID}, luids); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}

	resp := h.do("GET", sitePrefix+"/collections/nope/items", token, "application/json", "")
	if resp.status != http.StatusNotFound {
		t.Errorf("unknown collection: status %d, want 404", resp.status)
	}
	resp = h.do("GET", sitePrefix+"/collections?pageSize=5000", token, "application/json", "")
	if resp.status != http.StatusBadRequest {
		t.Errorf("page size 5000: status %d, want 400", resp.status)
	}
	resp = h.do("GET", "/api/3.24/sites/other-site/collections", token, "application/json", "")
	if resp.status != http.StatusForbidden {
		t.Errorf("other site: status %d, want 403", resp.status)
	}
}

// TestRESTJobXMLShape decodes a finished job's XML with the element names of
// the recorded Tableau response job_get_by_id_failed_workbook.xml.
func TestRESTJobXMLShape(t *testing.T) {
	type shape struct {
		XMLName xml.Name `xml:"http://tableau.com/api tsResponse"`
		Job     struct {
			Mode       string `xml:"mode,attr"`
			Type       string `xml:"type,attr"`
			Progress   string `xml:"progress,attr"`
			FinishCode string `xml:"finishCode,attr"`
			Workbook   struct {
				Name string `xml:"name,attr"`
			} `xml:"extractRefreshJob>workbook"`
		} `xml:"job"`
	}
	fixture, err := os.ReadFile("../../testdata/tableau/rest/job_get_by_id_failed_workbook.xml")
	if err != nil {
		t.Fatal(err)
	}
	var want shape
	if err := xml.Unmarshal(fixture, &want); err != nil {
		t.Fatal(err)
	}

	h := startFixture(t, func(s *tableausim.Site) {
		s.Workbooks[0].Name = want.Job.Workbook.Name
		s.Simulator.RefreshOutcomes[revenueLUID] = tableausim.OutcomeFailure
	})
	token := h.signIn(tokenName, tokenSecret)
	id := decodeJob(t, h.refresh(token, "workbooks", revenueLUID).body).Job.ID
	h.clock.Advance(time.Minute)
	resp := h.do("GET", sitePrefix+"/jobs/"+id, token, "", "")
	var got shape
	if err := xml.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("decoding %q: %v", resp.body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("job XML (-want +got):\n%s", diff)
	}
}
