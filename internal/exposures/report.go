package exposures

import (
	"bytes"
	"cmp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Report is the JSON run report written next to the exposures file. Lists
// are sorted and never null, so that equal runs give equal reports.
type Report struct {
	// Exposures is the number of exposures in the file.
	Exposures int `json:"exposures"`
	// Added, Changed and Removed compare the file with the previous one, by
	// exposure name.
	Added   []string `json:"added"`
	Changed []string `json:"changed"`
	Removed []string `json:"removed"`
	// Skipped lists the workbooks that got no exposure, and why.
	Skipped   []SkippedWorkbook `json:"skipped"`
	Matched   []MatchedTable    `json:"matched"`
	Unmatched []UnmatchedTable  `json:"unmatched"`
	// Stale lists the extracts that the dbt run made stale; nil when no run
	// results were given.
	Stale *StaleSection `json:"stale,omitempty"`
	// Warnings holds problems that did not stop the run.
	Warnings []string `json:"warnings"`
}

// SkipReason is the reason a workbook got no exposure.
type SkipReason string

// Reasons for a skipped workbook.
const (
	SkipCurated        SkipReason = "curated"         // the curation file leaves it out
	SkipHandWritten    SkipReason = "hand_written"    // a hand-written exposure in the manifest covers it
	SkipNoDependencies SkipReason = "no_dependencies" // none of its tables is a dbt node or source
)

// SkippedWorkbook is a workbook without an exposure.
type SkippedWorkbook struct {
	WorkbookLUID string     `json:"workbook_luid"`
	WorkbookName string     `json:"workbook_name"`
	Reason       SkipReason `json:"reason"`
	Detail       string     `json:"detail"`
}

// MatchedTable is an upstream table that matched dbt nodes.
type MatchedTable struct {
	WorkbookLUID string `json:"workbook_luid"`
	// Exposure is the exposure name, empty when the workbook was skipped.
	Exposure      string   `json:"exposure,omitempty"`
	Datasource    string   `json:"datasource"`
	Published     bool     `json:"published,omitempty"`
	Table         string   `json:"table"`
	FromCustomSQL bool     `json:"from_custom_sql,omitempty"`
	UniqueIDs     []string `json:"unique_ids"`
	SchemaOnly    bool     `json:"schema_only,omitempty"`
}

// UnmatchedTable is an upstream table that matched no dbt node, with the
// reason: the first thing to read when a dashboard is not linked.
type UnmatchedTable struct {
	WorkbookLUID  string         `json:"workbook_luid"`
	Exposure      string         `json:"exposure,omitempty"`
	Datasource    string         `json:"datasource"`
	Published     bool           `json:"published,omitempty"`
	Table         string         `json:"table"`
	FromCustomSQL bool           `json:"from_custom_sql,omitempty"`
	Reason        lineage.Reason `json:"reason"`
	Candidates    []string       `json:"candidates,omitempty"`
}

// StaleSection lists the extracts that a dbt run made stale.
type StaleSection struct {
	// Command is the dbt command that wrote the run results (args.which),
	// empty when the file does not record it.
	Command string `json:"command,omitempty"`
	// Note explains why the results made nothing stale (a command such as
	// dbt docs generate builds no table), or that results without a
	// command were read as a dbt build.
	Note     string         `json:"note,omitempty"`
	Extracts []StaleExtract `json:"extracts"`
	// Ignored holds the nodes that errored or were skipped in the run,
	// which make nothing stale.
	Ignored []IgnoredResult `json:"ignored"`
}

// StaleExtract is an extract last refreshed before models it reads were
// rebuilt.
type StaleExtract struct {
	LUID         string `json:"luid"`
	Published    bool   `json:"published"`
	Name         string `json:"name"`
	DatasourceID string `json:"datasource_id,omitempty"`
	// LastRefresh is an RFC 3339 time, empty when never refreshed.
	LastRefresh string `json:"last_refresh,omitempty"`
	RebuiltAt   string `json:"rebuilt_at"`
	// Exposures holds the LUIDs of the workbooks it serves.
	Exposures []string `json:"exposures"`
	// ExposureNames holds the names of the exposures of those workbooks,
	// sorted. A workbook without an exposure, such as one the curation
	// file leaves out, has no name here.
	ExposureNames []string `json:"exposure_names"`
	Models        []string `json:"models"`
}

// IgnoredResult is a node of the run that makes nothing stale.
type IgnoredResult struct {
	UniqueID string `json:"unique_id"`
	Status   string `json:"status"`
	// Exposures holds the LUIDs of the workbooks with an extract downstream
	// of the node.
	Exposures []string `json:"exposures"`
}

func newReport() *Report {
	return &Report{
		Added:     []string{},
		Changed:   []string{},
		Removed:   []string{},
		Skipped:   []SkippedWorkbook{},
		Matched:   []MatchedTable{},
		Unmatched: []UnmatchedTable{},
		Warnings:  []string{},
	}
}

func (r *Report) skip(wb tableau.Workbook, reason SkipReason, detail string) {
	r.Skipped = append(r.Skipped, SkippedWorkbook{WorkbookLUID: wb.LUID, WorkbookName: wb.Name, Reason: reason, Detail: detail})
}

// fill adds the exposure counts, the comparison with the previous file and
// the matched and unmatched tables.
func (r *Report) fill(exposures []Exposure, res *lineage.Result, previous []byte, configForm bool) {
	r.Exposures = len(exposures)
	nameByLUID := make(map[string]string, len(exposures))
	for _, e := range exposures {
		nameByLUID[e.WorkbookLUID] = e.Name
	}

	for _, wl := range res.Workbooks {
		for _, m := range wl.Matches {
			r.Matched = append(r.Matched, MatchedTable{
				WorkbookLUID:  wl.WorkbookLUID,
				Exposure:      nameByLUID[wl.WorkbookLUID],
				Datasource:    m.Datasource,
				Published:     m.Published,
				Table:         m.Table,
				FromCustomSQL: m.FromCustomSQL,
				UniqueIDs:     slices.Clone(m.UniqueIDs),
				SchemaOnly:    m.SchemaOnly,
			})
		}
	}
	for _, u := range res.Unmatched {
		r.Unmatched = append(r.Unmatched, UnmatchedTable{
			WorkbookLUID:  u.WorkbookLUID,
			Exposure:      nameByLUID[u.WorkbookLUID],
			Datasource:    u.Datasource,
			Published:     u.Published,
			Table:         u.Table,
			FromCustomSQL: u.FromCustomSQL,
			Reason:        u.Reason,
			Candidates:    slices.Clone(u.Candidates),
		})
	}
	slices.SortStableFunc(r.Matched, func(a, b MatchedTable) int {
		return cmp.Or(cmp.Compare(a.WorkbookLUID, b.WorkbookLUID), cmp.Compare(a.Datasource, b.Datasource), cmp.Compare(a.Table, b.Table))
	})
	slices.SortStableFunc(r.Unmatched, func(a, b UnmatchedTable) int {
		return cmp.Or(cmp.Compare(a.WorkbookLUID, b.WorkbookLUID), cmp.Compare(a.Datasource, b.Datasource), cmp.Compare(a.Table, b.Table))
	})
	slices.SortStableFunc(r.Skipped, func(a, b SkippedWorkbook) int { return cmp.Compare(a.WorkbookLUID, b.WorkbookLUID) })

	r.compare(exposures, previous, configForm)
}

// compare fills Added, Changed and Removed. Each exposure is compared as
// its rendered YAML, so any change that reaches the file counts.
func (r *Report) compare(exposures []Exposure, previous []byte, configForm bool) {
	before := map[string][]byte{}
	if len(previous) > 0 {
		var err error
		before, err = renderedByName(previous)
		if err != nil {
			r.Warnings = append(r.Warnings, "previous exposures file not read, so every exposure counts as added: "+err.Error())
			before = map[string][]byte{}
		}
	}

	now := make(map[string]bool, len(exposures))
	for _, e := range exposures {
		now[e.Name] = true
		old, ok := before[e.Name]
		if !ok {
			r.Added = append(r.Added, e.Name)
			continue
		}
		current, err := encodeNode(exposureNode(e, configForm))
		if err == nil && !bytes.Equal(old, current) {
			r.Changed = append(r.Changed, e.Name)
		}
	}
	for name := range before {
		if !now[name] {
			r.Removed = append(r.Removed, name)
		}
	}
	slices.Sort(r.Added)
	slices.Sort(r.Changed)
	slices.Sort(r.Removed)
}

// renderedByName reads an exposures file and re-encodes each exposure on
// its own, keyed by name, so that layout differences do not count.
func renderedByName(data []byte) (map[string][]byte, error) {
	var doc struct {
		Exposures []yaml.Node `yaml:"exposures"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(doc.Exposures))
	for i := range doc.Exposures {
		n := &doc.Exposures[i]
		var named struct {
			Name string `yaml:"name"`
		}
		if err := n.Decode(&named); err != nil || named.Name == "" {
			continue
		}
		b, err := encodeNode(n)
		if err != nil {
			return nil, err
		}
		out[named.Name] = b
	}
	return out, nil
}

// encodeNode renders a node the same way whether it was built or parsed:
// comments, styles and line positions are cleared first.
func encodeNode(n *yaml.Node) ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(plain(n)); err != nil {
		return nil, err
	}
	err := enc.Close()
	return buf.Bytes(), err
}

// plain copies a node tree without comments, styles or positions.
func plain(n *yaml.Node) *yaml.Node {
	c := &yaml.Node{Kind: n.Kind, Tag: n.ShortTag(), Value: n.Value}
	if n.Kind == yaml.ScalarNode && c.Tag == "!!str" {
		c.Value = n.Value
	}
	for _, child := range n.Content {
		c.Content = append(c.Content, plain(child))
	}
	return c
}
