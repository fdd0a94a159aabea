package tableau

import (
	"cmp"
	"slices"
	"time"
)

// SnapshotFormatVersion is the version of the snapshot's JSON form. It rises
// when a field changes meaning; added fields keep the version.
const SnapshotFormatVersion = 1

// Snapshot is one read of a Tableau site: the selected workbooks with their
// lineage, the published data sources they use and the site's collections.
// The store keeps its JSON form, documented in docs/snapshot.md, and the
// simulator is seeded from the same form.
type Snapshot struct {
	FormatVersion int `json:"formatVersion"`
	// ServerURL is the server's base URL, without a trailing slash.
	ServerURL string `json:"serverUrl"`
	// Site is the site's content URL: the name after /site/ in the browser,
	// empty for the default site of Tableau Server.
	Site     string `json:"site"`
	SiteLUID string `json:"siteLuid,omitempty"`
	// Selection is the selection the sync requested.
	Selection Selection `json:"selection"`

	Collections          []Collection          `json:"collections,omitempty"`
	Workbooks            []Workbook            `json:"workbooks"`
	PublishedDatasources []PublishedDatasource `json:"publishedDatasources,omitempty"`
}

// Selection names the workbooks a sync reads. Empty lists select nothing of
// that kind; all three empty selects every workbook on the site.
type Selection struct {
	// Collections holds collection names or LUIDs.
	Collections   []string `json:"collections,omitempty"`
	Projects      []string `json:"projects,omitempty"`
	WorkbookLUIDs []string `json:"workbookLuids,omitempty"`
}

// IsEmpty reports whether the selection names nothing, which selects the
// whole site.
func (s Selection) IsEmpty() bool {
	return len(s.Collections) == 0 && len(s.Projects) == 0 && len(s.WorkbookLUIDs) == 0
}

// Collection is a Tableau collection and the workbooks it holds.
type Collection struct {
	LUID          string   `json:"luid"`
	Name          string   `json:"name"`
	WorkbookLUIDs []string `json:"workbookLuids,omitempty"`
}

// Owner is the Tableau user who owns a workbook or data source.
type Owner struct {
	Name     string `json:"name,omitempty"`
	Email    string `json:"email,omitempty"`
	Username string `json:"username,omitempty"`
}

// Workbook is one Tableau workbook with what it reads.
type Workbook struct {
	LUID        string `json:"luid"`
	Name        string `json:"name"`
	ProjectName string `json:"projectName,omitempty"`
	// ProjectLUID is the LUID of the workbook's project, when known.
	ProjectLUID string `json:"projectLuid,omitempty"`
	Description string `json:"description,omitempty"`
	Owner       Owner  `json:"owner"`
	// WebURL is the address a person opens in a browser.
	WebURL    string    `json:"webUrl,omitempty"`
	UpdatedAt time.Time `json:"updatedAt,omitzero"`
	Tags      []string  `json:"tags,omitempty"`
	// Collections holds the LUIDs of the collections that hold this workbook.
	Collections []string    `json:"collections,omitempty"`
	Dashboards  []Dashboard `json:"dashboards,omitempty"`

	EmbeddedDatasources []EmbeddedDatasource `json:"embeddedDatasources,omitempty"`
	// PublishedDatasourceLUIDs are the published data sources the workbook
	// connects to; their lineage is in Snapshot.PublishedDatasources.
	PublishedDatasourceLUIDs []string `json:"publishedDatasourceLuids,omitempty"`
}

// Dashboard is a dashboard sheet of a workbook.
type Dashboard struct {
	ID   string `json:"id,omitempty"`
	LUID string `json:"luid,omitempty"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

// EmbeddedDatasource is a data source stored inside a workbook.
type EmbeddedDatasource struct {
	// ID is the Metadata API id; embedded data sources have no LUID.
	ID          string `json:"id"`
	Name        string `json:"name"`
	HasExtracts bool   `json:"hasExtracts,omitempty"`
	// ExtractLastRefreshTime is nil when the extract was never refreshed or
	// the data source is live.
	ExtractLastRefreshTime *time.Time  `json:"extractLastRefreshTime,omitempty"`
	UpstreamTables         []Table     `json:"upstreamTables,omitempty"`
	CustomSQL              []CustomSQL `json:"customSql,omitempty"`
}

// PublishedDatasource is a data source published on its own and shared by
// workbooks.
type PublishedDatasource struct {
	LUID                   string      `json:"luid"`
	ID                     string      `json:"id,omitempty"`
	Name                   string      `json:"name"`
	ProjectName            string      `json:"projectName,omitempty"`
	Owner                  Owner       `json:"owner"`
	HasExtracts            bool        `json:"hasExtracts,omitempty"`
	ExtractLastRefreshTime *time.Time  `json:"extractLastRefreshTime,omitempty"`
	UpstreamTables         []Table     `json:"upstreamTables,omitempty"`
	CustomSQL              []CustomSQL `json:"customSql,omitempty"`
}

// Table is a warehouse table as Tableau reports it.
type Table struct {
	ID     string `json:"id,omitempty"`
	Name   string `json:"name"`
	Schema string `json:"schema,omitempty"`
	// FullName is often "[DB].[SCHEMA].[TABLE]" and sometimes the only
	// complete identity Tableau gives.
	FullName       string `json:"fullName,omitempty"`
	Database       string `json:"database,omitempty"`
	ConnectionType string `json:"connectionType,omitempty"`
}

// CustomSQL is a custom SQL query that feeds a data source. Tables is empty
// when Tableau could not parse the query.
type CustomSQL struct {
	ID             string  `json:"id,omitempty"`
	Name           string  `json:"name,omitempty"`
	Query          string  `json:"query"`
	Database       string  `json:"database,omitempty"`
	ConnectionType string  `json:"connectionType,omitempty"`
	Tables         []Table `json:"tables,omitempty"`
}

// Normalize sorts every list in the snapshot into a fixed order, so that two
// reads of the same site compare and hash equal whatever order Tableau
// returned things in.
func (s *Snapshot) Normalize() {
	if s.FormatVersion == 0 {
		s.FormatVersion = SnapshotFormatVersion
	}
	slices.Sort(s.Selection.Collections)
	slices.Sort(s.Selection.Projects)
	slices.Sort(s.Selection.WorkbookLUIDs)
	for i := range s.Collections {
		slices.Sort(s.Collections[i].WorkbookLUIDs)
	}
	slices.SortFunc(s.Collections, func(a, b Collection) int { return cmp.Compare(a.LUID, b.LUID) })
	for i := range s.Workbooks {
		s.Workbooks[i].normalize()
	}
	slices.SortFunc(s.Workbooks, func(a, b Workbook) int { return cmp.Compare(a.LUID, b.LUID) })
	for i := range s.PublishedDatasources {
		d := &s.PublishedDatasources[i]
		sortTables(d.UpstreamTables)
		sortCustomSQL(d.CustomSQL)
	}
	slices.SortFunc(s.PublishedDatasources, func(a, b PublishedDatasource) int { return cmp.Compare(a.LUID, b.LUID) })
}

func (w *Workbook) normalize() {
	slices.Sort(w.Tags)
	slices.Sort(w.Collections)
	slices.Sort(w.PublishedDatasourceLUIDs)
	w.PublishedDatasourceLUIDs = slices.Compact(w.PublishedDatasourceLUIDs)
	slices.SortFunc(w.Dashboards, func(a, b Dashboard) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	for i := range w.EmbeddedDatasources {
		d := &w.EmbeddedDatasources[i]
		sortTables(d.UpstreamTables)
		sortCustomSQL(d.CustomSQL)
	}
	slices.SortFunc(w.EmbeddedDatasources, func(a, b EmbeddedDatasource) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Name, b.Name))
	})
}

func sortTables(ts []Table) {
	slices.SortFunc(ts, func(a, b Table) int {
		return cmp.Or(
			cmp.Compare(a.Database, b.Database),
			cmp.Compare(a.Schema, b.Schema),
			cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.FullName, b.FullName),
			cmp.Compare(a.ID, b.ID),
		)
	})
}

func sortCustomSQL(qs []CustomSQL) {
	for i := range qs {
		sortTables(qs[i].Tables)
	}
	slices.SortFunc(qs, func(a, b CustomSQL) int {
		return cmp.Or(cmp.Compare(a.ID, b.ID), cmp.Compare(a.Query, b.Query))
	})
}

// PublishedDatasource returns the published data source with the given LUID.
func (s *Snapshot) PublishedDatasource(luid string) (PublishedDatasource, bool) {
	for _, d := range s.PublishedDatasources {
		if d.LUID == luid {
			return d, true
		}
	}
	return PublishedDatasource{}, false
}
