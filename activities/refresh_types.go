package activities

import (
	"fmt"
	"time"

	"github.com/autoexposures/autoexposures/internal/store"
)

// Activity names of the refresh flow. They are part of the workflow
// histories, so they never change.
const (
	FindStaleExtractsName     = "FindStaleExtracts"
	StartExtractRefreshesName = "StartExtractRefreshes"
	LatestExtractRefreshName  = "LatestExtractRefresh"
	RequestExtractRefreshName = "RequestExtractRefresh"
	GetRefreshJobName         = "GetRefreshJob"
	CancelRefreshJobName      = "CancelRefreshJob"
)

// ExposureRefreshWorkflowName is the workflow type that refreshes one
// extract; StartExtractRefreshes starts it by name.
const ExposureRefreshWorkflowName = "ExposureRefreshWorkflow"

// RefreshWorkflowID returns the ID of the refresh workflow of one extract.
// Two triggers for the same extract share it, so only one refresh runs.
func RefreshWorkflowID(extractLUID string) string {
	return "refresh-" + extractLUID
}

// Extract kinds: Tableau refreshes an embedded extract through its
// workbook and a published data source on its own.
const (
	KindWorkbook   = "workbook"
	KindDatasource = "datasource"
)

// Refresh outcomes.
const (
	OutcomeSucceeded = "succeeded"
	OutcomeFailed    = "failed"
	OutcomeCancelled = "cancelled"
	OutcomeSkipped   = "skipped"
)

// FindStaleInput names the artifacts of one dbt run in the store.
type FindStaleInput struct {
	DbtRunID   string
	Manifest   store.Ref
	Snapshot   store.Ref
	RunResults store.Ref
}

// FindStaleResult is the outcome of FindStaleExtracts: the counts of stale
// extracts and the refresh requests for the workflow.
type FindStaleResult struct {
	// Disabled is true when AUTOEXPOSURES_REFRESH is off; nothing is
	// refreshed then, but the stale list is still written.
	Disabled bool
	// Stale counts the stale extracts; OutOfScope those left out because
	// their workbooks are outside the refresh collections and projects.
	Stale      int
	OutOfScope int
	// Ignored counts the run results (errored or skipped nodes) that made
	// nothing stale.
	Ignored int
	// Note explains why the whole run results were ignored (a command such
	// as dbt docs generate rebuilds no table), or that they were read as a
	// dbt build because they do not name their command.
	Note string `json:",omitempty"`
	// ReportPath is the file the stale list was written to.
	ReportPath string
	// Requests names the refresh requests in the store: a JSON list of
	// RefreshRequest, one per extract to refresh, sorted by LUID. Refreshes
	// counts them. The list stays out of the history because a run can make
	// thousands of extracts stale.
	Requests  store.Ref `json:",omitzero"`
	Refreshes int
}

// KindRefreshRequests is the store kind of the refresh request lists.
const KindRefreshRequests = "refresh_requests"

// RefreshRequest is the input of ExposureRefreshWorkflow: one extract and
// why it is refreshed.
type RefreshRequest struct {
	// ExtractLUID is the workbook LUID for embedded extracts (Kind
	// workbook) or the published data source's LUID (Kind datasource).
	ExtractLUID string
	Kind        string
	// Name is the workbook's or data source's name, empty when unknown.
	Name string `json:",omitempty"`
	// Exposure is the exposure an operator named to ask for the refresh.
	Exposure string `json:",omitempty"`
	// WorkbookLUIDs are the workbooks the extract serves, cut to
	// maxWorkbooksInRequest; the first is read to learn the extract's
	// current refresh time. WorkbookCount is the full count.
	WorkbookLUIDs []string `json:",omitempty"`
	WorkbookCount int      `json:",omitempty"`
	// DatasourceIDs are the Metadata API ids of the embedded data sources
	// with extracts, for Kind workbook.
	DatasourceIDs []string `json:",omitempty"`
	// DbtRunID and Models give the reason: the run and the models it rebuilt. Models
	// is cut to maxModelsInRequest; ModelCount is the full count.
	DbtRunID   string    `json:",omitempty"`
	Models     []string  `json:",omitempty"`
	ModelCount int       `json:",omitempty"`
	RebuiltAt  time.Time `json:",omitzero"`
	// LastRefresh is the extract's last refresh as the snapshot shows it;
	// LastRefreshByUs is the end of the last refresh this service ran.
	LastRefresh     *time.Time `json:",omitempty"`
	LastRefreshByUs *time.Time `json:",omitempty"`
	// MinInterval skips the refresh when the extract was refreshed more
	// recently than this; zero always refreshes.
	MinInterval time.Duration
	// OnDemand marks refreshes an operator asked for.
	OnDemand bool `json:",omitempty"`
}

// maxModelsInRequest and maxWorkbooksInRequest bound the lists a request
// carries, because it is a workflow input shown in the Web UI.
const (
	maxModelsInRequest    = 20
	maxWorkbooksInRequest = 20
)

// StartRefreshesInput names the stored refresh requests to start, as
// FindStaleExtracts wrote them.
type StartRefreshesInput struct {
	DbtRunID string
	Requests store.Ref
}

// StartRefreshesResult counts the refresh workflows started or attached to
// and lists the first MaxListedRefreshes of them, in request order.
type StartRefreshesResult struct {
	Started   int
	Workflows []StartedRefresh `json:",omitempty"`
}

// MaxListedRefreshes bounds the refresh workflows that results list, so
// that a run with thousands of stale extracts keeps a small history.
const MaxListedRefreshes = 100

// StartedRefresh is one refresh workflow that runs for a request.
type StartedRefresh struct {
	WorkflowID string
	RunID      string
}

// ExtractFreshness is an extract's refresh time as Tableau reports it now.
type ExtractFreshness struct {
	// Found is false when the extract was not in Tableau's response.
	Found       bool
	LastRefresh *time.Time `json:",omitempty"`
}

// RefreshStart is Tableau's response to a refresh request.
type RefreshStart struct {
	Job JobState
	// Adopted is true when Tableau already had a refresh of this extract
	// queued and the workflow follows that job.
	Adopted bool `json:",omitempty"`
	// NoExtract is true when Tableau reports nothing to refresh.
	NoExtract bool   `json:",omitempty"`
	Message   string `json:",omitempty"`
	// RateLimited is true when Tableau refused with 429; RetryAfter is how
	// long it asked to wait.
	RateLimited bool          `json:",omitempty"`
	RetryAfter  time.Duration `json:",omitempty"`
}

// JobState is a Tableau background job as the workflow follows it.
type JobState struct {
	ID string
	// Status is queued, in_progress, succeeded, failed or cancelled.
	Status      string
	FinishCode  *int      `json:",omitempty"`
	Progress    int       `json:",omitempty"`
	CreatedAt   time.Time `json:",omitzero"`
	StartedAt   time.Time `json:",omitzero"`
	CompletedAt time.Time `json:",omitzero"`
	Notes       []string  `json:",omitempty"`
}

// Done reports whether the job reached an end state.
func (j JobState) Done() bool {
	switch j.Status {
	case "succeeded", "failed", "cancelled":
		return true
	}
	return false
}

// RefreshResult is the outcome of one refresh.
type RefreshResult struct {
	ExtractLUID string
	Kind        string
	Name        string
	// Exposure is the exposure an operator named, for on-demand refreshes.
	Exposure string `json:",omitempty"`
	// Outcome is succeeded, failed, cancelled or skipped.
	Outcome    string
	SkipReason string `json:",omitempty"`
	JobID      string `json:",omitempty"`
	Adopted    bool   `json:",omitempty"`
	FinishCode *int   `json:",omitempty"`
	// Notes are Tableau's notes on the job, such as the reason it failed.
	Notes       []string  `json:",omitempty"`
	CompletedAt time.Time `json:",omitzero"`
	// Polls counts job status reads; RateLimitWaits the 429s waited out.
	Polls          int `json:",omitempty"`
	RateLimitWaits int `json:",omitempty"`
}

// RefreshSummary returns the one-line static summary of a refresh workflow
// shown in the Web UI.
func RefreshSummary(in RefreshRequest) string {
	why := "on demand"
	if !in.OnDemand && in.DbtRunID != "" {
		why = fmt.Sprintf("after dbt run %s rebuilt %d models", in.DbtRunID, max(in.ModelCount, len(in.Models)))
	}
	return fmt.Sprintf("Refresh %s %s", ExtractLabel(in.Kind, in.Name, in.ExtractLUID, in.Exposure), why)
}

// ExtractLabel names an extract for people: its kind, its name when known,
// its LUID and the exposure an operator named, such as
// datasource "Orders" (6c4e...) for exposure orders_daily.
func ExtractLabel(kind, name, luid, exposure string) string {
	label := kind + " " + luid
	if name != "" && name != luid {
		label = fmt.Sprintf("%s %q (%s)", kind, name, luid)
	}
	if exposure != "" {
		label += " for exposure " + exposure
	}
	return label
}
