package tableausim

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A refresh job is queued for Settings.JobQueued, then runs for
// Settings.JobRuns, then finishes with the outcome the site file gives its
// workbook or data source. Its state is worked out from the clock whenever a
// request arrives, so a test with its own clock moves jobs along by moving
// the clock.

type job struct {
	id           string
	resourceType string // "workbook" or "datasource"
	resourceLUID string
	resourceName string
	created      time.Time
	queuedFor    time.Duration
	runsFor      time.Duration
	outcome      Outcome
	cancelledAt  time.Time
	finalized    bool
}

// JobState is the stage of a refresh job.
type JobState string

// The states of a refresh job.
const (
	JobQueued     JobState = "queued"
	JobInProgress JobState = "in_progress"
	JobSucceeded  JobState = "succeeded"
	JobFailed     JobState = "failed"
	JobCancelled  JobState = "cancelled"
)

// Job is a refresh job in the simulator, for assertions.
type Job struct {
	ID           string
	ResourceType string // "workbook" or "datasource"
	ResourceLUID string
	State        JobState
	CreatedAt    time.Time
}

func (j *job) startedAt() time.Time   { return j.created.Add(j.queuedFor) }
func (j *job) completedAt() time.Time { return j.startedAt().Add(j.runsFor) }

func (j *job) state(now time.Time) JobState {
	switch {
	case !j.cancelledAt.IsZero():
		return JobCancelled
	case now.Before(j.startedAt()):
		return JobQueued
	case now.Before(j.completedAt()):
		return JobInProgress
	case j.outcome == OutcomeFailure:
		return JobFailed
	case j.outcome == OutcomeCancelled:
		return JobCancelled
	}
	return JobSucceeded
}

// Jobs returns every refresh job in the order they were created.
func (s *Server) Jobs() []Job {
	s.advanceJobs()
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.clock()
	out := make([]Job, 0, len(s.jobOrder))
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		out = append(out, Job{ID: j.id, ResourceType: j.resourceType, ResourceLUID: j.resourceLUID, State: j.state(now), CreatedAt: j.created})
	}
	return out
}

// advanceJobs finishes the jobs whose time has come: a successful refresh
// sets the extract's extractLastRefreshTime to the job's completion time.
func (s *Server) advanceJobs() {
	now := s.clock()
	if !s.jobsDue(now) {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		if j.finalized || j.state(now) != JobSucceeded {
			continue
		}
		j.finalized = true
		s.markRefreshed(j, j.completedAt())
	}
}

// jobsDue reports whether a successful job waits to be finalized, under the
// read lock, so that requests do not queue for the write lock when no job
// is due.
func (s *Server) jobsDue(now time.Time) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, id := range s.jobOrder {
		if j := s.jobs[id]; !j.finalized && j.state(now) == JobSucceeded {
			return true
		}
	}
	return false
}

// markRefreshed sets the refresh time of a job's extracts; s.mu must be held
// for writing.
func (s *Server) markRefreshed(j *job, at time.Time) {
	at = at.UTC().Truncate(time.Second)
	switch j.resourceType {
	case "workbook":
		for i := range s.site.Workbooks {
			w := &s.site.Workbooks[i]
			if w.LUID != j.resourceLUID {
				continue
			}
			for k := range w.EmbeddedDatasources {
				if d := &w.EmbeddedDatasources[k]; d.HasExtracts {
					t := at
					d.ExtractLastRefreshTime = &t
				}
			}
		}
	case "datasource":
		for i := range s.site.PublishedDatasources {
			if d := &s.site.PublishedDatasources[i]; d.LUID == j.resourceLUID && d.HasExtracts {
				t := at
				d.ExtractLastRefreshTime = &t
			}
		}
	}
	s.logger.Info("tableau simulator refreshed an extract", "resource_type", j.resourceType, "luid", j.resourceLUID)
}

type jobXML struct {
	ID                string                `xml:"id,attr" json:"id"`
	Mode              string                `xml:"mode,attr" json:"mode"`
	Type              string                `xml:"type,attr" json:"type"`
	Progress          string                `xml:"progress,attr,omitempty" json:"progress,omitempty"`
	CreatedAt         string                `xml:"createdAt,attr" json:"createdAt"`
	UpdatedAt         string                `xml:"updatedAt,attr,omitempty" json:"updatedAt,omitempty"`
	StartedAt         string                `xml:"startedAt,attr,omitempty" json:"startedAt,omitempty"`
	CompletedAt       string                `xml:"completedAt,attr,omitempty" json:"completedAt,omitempty"`
	FinishCode        string                `xml:"finishCode,attr,omitempty" json:"finishCode,omitempty"`
	ExtractRefreshJob *extractRefreshJobXML `xml:"extractRefreshJob,omitempty" json:"extractRefreshJob,omitempty"`
}

type extractRefreshJobXML struct {
	Workbook   *resourceXML `xml:"workbook,omitempty" json:"workbook,omitempty"`
	Datasource *resourceXML `xml:"datasource,omitempty" json:"datasource,omitempty"`
	Notes      string       `xml:"notes,omitempty" json:"notes,omitempty"`
}

type resourceXML struct {
	ID   string `xml:"id,attr" json:"id"`
	Name string `xml:"name,attr" json:"name"`
}

// view renders a job as GET .../jobs/{id} shows it at time now.
func (j *job) view(now time.Time, full bool) *jobXML {
	x := &jobXML{ID: j.id, Mode: "Asynchronous", Type: "RefreshExtract", CreatedAt: formatTime(j.created)}
	ref := &resourceXML{ID: j.resourceLUID, Name: j.resourceName}
	x.ExtractRefreshJob = &extractRefreshJobXML{}
	if j.resourceType == "workbook" {
		x.ExtractRefreshJob.Workbook = ref
	} else {
		x.ExtractRefreshJob.Datasource = ref
	}
	if !full {
		return x
	}

	state := j.state(now)
	x.UpdatedAt = formatTime(now)
	switch state {
	case JobQueued:
		return x
	case JobInProgress:
		x.StartedAt = formatTime(j.startedAt())
		elapsed := now.Sub(j.startedAt())
		x.Progress = strconv.Itoa(int(min(99, 100*elapsed/max(j.runsFor, 1))))
		return x
	}

	end := j.completedAt()
	if !j.cancelledAt.IsZero() {
		end = j.cancelledAt
	}
	started := j.startedAt()
	if end.Before(started) {
		started = end
	}
	x.StartedAt = formatTime(started)
	x.CompletedAt = formatTime(end)
	x.Progress = "100"
	switch state {
	case JobSucceeded:
		x.FinishCode = "0"
	case JobFailed:
		x.FinishCode = "1"
		x.ExtractRefreshJob.Notes = "com.tableausoftware.nativeapi.exceptions.DataSourceException: " +
			"the simulated database refused the connection for " + j.resourceName
	case JobCancelled:
		x.FinishCode = "2"
	}
	return x
}

// jobSet is the response of Query Jobs, which lists background jobs in brief.
type jobSet struct {
	Jobs []backgroundJobXML `xml:"backgroundJob" json:"backgroundJob"`
}

type backgroundJobXML struct {
	ID        string `xml:"id,attr" json:"id"`
	Status    string `xml:"status,attr" json:"status"`
	CreatedAt string `xml:"createdAt,attr" json:"createdAt"`
	StartedAt string `xml:"startedAt,attr,omitempty" json:"startedAt,omitempty"`
	EndedAt   string `xml:"endedAt,attr,omitempty" json:"endedAt,omitempty"`
	Priority  string `xml:"priority,attr" json:"priority"`
	JobType   string `xml:"jobType,attr" json:"jobType"`
}

// backgroundStatus is a job state as Query Jobs names it.
var backgroundStatus = map[JobState]string{
	JobQueued:     "Pending",
	JobInProgress: "InProgress",
	JobSucceeded:  "Success",
	JobFailed:     "Failed",
	JobCancelled:  "Cancelled",
}

// serveListJobs handles GET .../jobs, paged, newest first. It supports
// the filter expressions jobType:eq:refresh_extracts and
// status:eq:<status>, joined by commas; other filters get 400.
func (s *Server) serveListJobs(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.authenticate(w, r)
	if !ok || !s.siteFromPath(w, r, sess) {
		return
	}
	size, number, ok := pageParams(w, r)
	if !ok {
		return
	}
	var wantStatus string
	if f := r.URL.Query().Get("filter"); f != "" {
		for _, expr := range strings.Split(f, ",") {
			field, value, _ := strings.Cut(expr, ":eq:")
			switch {
			case field == "jobType" && value == "refresh_extracts":
			case field == "status":
				wantStatus = value
			default:
				writeError(w, r, http.StatusBadRequest, "400065", "Bad Request",
					fmt.Sprintf("The filter expression '%s' is not supported by the simulator.", expr))
				return
			}
		}
	}

	now := s.clock()
	s.mu.RLock()
	var all []backgroundJobXML
	for i := len(s.jobOrder) - 1; i >= 0; i-- {
		j := s.jobs[s.jobOrder[i]]
		v := j.view(now, true)
		status := backgroundStatus[j.state(now)]
		if wantStatus != "" && status != wantStatus {
			continue
		}
		all = append(all, backgroundJobXML{
			ID: j.id, Status: status, CreatedAt: v.CreatedAt, StartedAt: v.StartedAt,
			EndedAt: v.CompletedAt, Priority: "50", JobType: "refresh_extracts",
		})
	}
	s.mu.RUnlock()

	start, end := pageOf(len(all), size, number)
	set := &jobSet{Jobs: all[start:end]}
	if set.Jobs == nil {
		set.Jobs = []backgroundJobXML{}
	}
	writeREST(w, r, http.StatusOK, tsResponse{Pagination: newPagination(size, number, len(all)), Jobs: set})
}

func (s *Server) serveWorkbookRefresh(w http.ResponseWriter, r *http.Request) {
	s.serveRefresh(w, r, "workbook")
}

func (s *Server) serveDatasourceRefresh(w http.ResponseWriter, r *http.Request) {
	s.serveRefresh(w, r, "datasource")
}

// serveRefresh handles POST .../workbooks/{id}/refresh and
// .../datasources/{id}/refresh with 202 and the new job, 404 for an unknown
// LUID, 409090 when there is no extract to refresh and 409093 while a
// refresh of the same resource is still queued.
func (s *Server) serveRefresh(w http.ResponseWriter, r *http.Request, resourceType string) {
	sess, ok := s.authenticate(w, r)
	if !ok || !s.siteFromPath(w, r, sess) {
		return
	}
	luid := r.PathValue("id")
	now := s.clock()

	s.mu.Lock()
	name, hasExtract, found, outcome := s.refreshTarget(resourceType, luid)
	if !found {
		s.mu.Unlock()
		code, label := "404006", "Workbook"
		if resourceType == "datasource" {
			code, label = "404011", "Datasource"
		}
		writeError(w, r, http.StatusNotFound, code, "Resource Not Found",
			fmt.Sprintf("%s '%s' could not be found.", label, luid))
		return
	}
	if !hasExtract {
		s.mu.Unlock()
		writeError(w, r, http.StatusConflict, "409090", "Bad Request",
			fmt.Sprintf("The %s '%s' has no extract to refresh.", resourceType, luid))
		return
	}
	for _, id := range s.jobOrder {
		j := s.jobs[id]
		if j.resourceType == resourceType && j.resourceLUID == luid && j.state(now) == JobQueued {
			s.mu.Unlock()
			// NOTE: the job id in the detail lets a client adopt the queued
			// job; whether Tableau names it there could not be confirmed.
			writeError(w, r, http.StatusConflict, "409093", "Resource Conflict",
				fmt.Sprintf("Job '%s' to refresh this extract is already queued. Not queuing a duplicate.", j.id))
			return
		}
	}
	j := &job{
		id:           newJobID(),
		resourceType: resourceType,
		resourceLUID: luid,
		resourceName: name,
		created:      now,
		queuedFor:    time.Duration(s.site.Simulator.JobQueued),
		runsFor:      time.Duration(s.site.Simulator.JobRuns),
		outcome:      outcome,
	}
	s.jobs[j.id] = j
	s.jobOrder = append(s.jobOrder, j.id)
	s.mu.Unlock()

	s.logger.Info("tableau simulator queued a refresh", "job_id", j.id, "resource_type", resourceType, "luid", luid)
	writeREST(w, r, http.StatusAccepted, tsResponse{Job: j.view(now, false)})
}

// refreshTarget finds what a refresh would refresh; s.mu must be held.
func (s *Server) refreshTarget(resourceType, luid string) (name string, hasExtract, found bool, outcome Outcome) {
	outcomes := s.site.Simulator.RefreshOutcomes
	outcome = cmp.Or(outcomes[luid], OutcomeSuccess)
	if resourceType == "datasource" {
		p := s.model.publishedByLUID[luid]
		if p == nil {
			return "", false, false, outcome
		}
		return p.d.Name, p.d.HasExtracts, true, outcome
	}
	wb := s.model.byLUID[luid]
	if wb == nil {
		return "", false, false, outcome
	}
	for _, e := range wb.embedded {
		if !e.d.HasExtracts {
			continue
		}
		hasExtract = true
		// An embedded data source's own outcome wins over success.
		if o := outcomes[e.id]; o != "" && outcome == OutcomeSuccess {
			outcome = o
		}
	}
	return wb.w.Name, hasExtract, true, outcome
}

// jobFromPath finds the job named in the path or responds with 404.
func (s *Server) jobFromPath(w http.ResponseWriter, r *http.Request) (*job, bool) {
	sess, ok := s.authenticate(w, r)
	if !ok || !s.siteFromPath(w, r, sess) {
		return nil, false
	}
	id := r.PathValue("id")
	s.mu.RLock()
	j := s.jobs[id]
	s.mu.RUnlock()
	if j == nil {
		writeError(w, r, http.StatusNotFound, "404031", "Resource Not Found",
			fmt.Sprintf("Job '%s' could not be found.", id))
		return nil, false
	}
	return j, true
}

// serveGetJob handles GET .../jobs/{id}.
func (s *Server) serveGetJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobFromPath(w, r)
	if !ok {
		return
	}
	s.mu.RLock()
	view := j.view(s.clock(), true)
	s.mu.RUnlock()
	writeREST(w, r, http.StatusOK, tsResponse{Job: view})
}

// serveCancelJob handles PUT .../jobs/{id}: a queued or running job ends as
// cancelled (finishCode 2); cancelling a finished job changes nothing.
func (s *Server) serveCancelJob(w http.ResponseWriter, r *http.Request) {
	j, ok := s.jobFromPath(w, r)
	if !ok {
		return
	}
	now := s.clock()
	s.mu.Lock()
	if st := j.state(now); st == JobQueued || st == JobInProgress {
		j.cancelledAt = now
		s.logger.Info("tableau simulator cancelled a job", "job_id", j.id)
	}
	s.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

func newJobID() string {
	return derivedID("Job", newSessionToken())
}
