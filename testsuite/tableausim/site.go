package tableausim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Site is the simulator's content: a Tableau site snapshot in its JSON form
// plus the simulator's own settings under the top-level "simulator" key.
type Site struct {
	tableau.Snapshot
	Simulator Settings `json:"simulator,omitzero"`
}

// Settings are the simulator's knobs that a site file can set. Every field is
// optional; the zero value gets the defaults named on each field.
type Settings struct {
	// Tokens are the personal access tokens that can sign in. Without any,
	// the simulator accepts DefaultTokenName with DefaultTokenSecret.
	Tokens []Token `json:"tokens,omitempty"`
	// APIVersion is the highest REST API version serverinfo reports,
	// DefaultAPIVersion when empty.
	APIVersion string `json:"apiVersion,omitempty"`
	// ProductVersion is the Tableau Server version serverinfo reports.
	ProductVersion string `json:"productVersion,omitempty"`
	// JobQueued is how long a refresh job stays queued, 0 by default.
	JobQueued Duration `json:"jobQueued,omitzero"`
	// JobRuns is how long a refresh job runs once started, 0 by default.
	JobRuns Duration `json:"jobRuns,omitzero"`
	// RefreshOutcomes maps a workbook LUID, published data source LUID or
	// embedded data source id to the outcome of its refresh jobs: "success"
	// (the default), "failure" or "cancelled".
	RefreshOutcomes map[string]Outcome `json:"refreshOutcomes,omitempty"`
	// NodeLimit is the Metadata API node limit, DefaultNodeLimit when 0.
	NodeLimit int `json:"nodeLimit,omitempty"`
	// MaxPageSize caps the first argument of *Connection fields: a larger
	// first returns this many nodes and a MAX_PAGE_SIZE_EXCEEDED warning,
	// as on Tableau. 0 sets no cap.
	// NOTE: Tableau documents the warning but not its maximum page size.
	MaxPageSize int `json:"maxPageSize,omitempty"`
}

// Token is a personal access token the simulator accepts.
type Token struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
	// Lifetime is how long a session signed in with this token lasts,
	// DefaultSessionLifetime when 0.
	Lifetime Duration `json:"lifetime,omitzero"`
	// Revoked makes sign-in with this token fail as with a wrong secret,
	// the way an expired or revoked token fails on Tableau.
	Revoked bool `json:"revoked,omitempty"`
}

// Outcome is the end state of a refresh job.
type Outcome string

// The outcomes of a refresh job and their REST finishCode.
const (
	OutcomeSuccess   Outcome = "success"   // finishCode 0
	OutcomeFailure   Outcome = "failure"   // finishCode 1
	OutcomeCancelled Outcome = "cancelled" // finishCode 2
)

// Defaults for settings that a site file leaves out.
const (
	DefaultTokenName       = "autoexposures-sim"
	DefaultTokenSecret     = "sim-secret-not-for-production"
	DefaultAPIVersion      = "3.24"
	DefaultProductVersion  = "2024.2.0"
	DefaultSessionLifetime = 120 * time.Minute
	// DefaultNodeLimit is the Metadata API's documented per-query node
	// limit.
	DefaultNodeLimit = 20000
)

// Duration is a time.Duration written in JSON as a Go duration string such
// as "90s" or "2m".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string such as "1.5s".
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"30s\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q, expected a form such as \"30s\" or \"2m\": %w", s, err)
	}
	*d = Duration(v)
	return nil
}

// LoadSite reads a site file: a snapshot's JSON form with an optional
// "simulator" object. Unknown keys are errors, so that a misspelled setting
// does not pass silently.
func LoadSite(path string) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading site file: %w", err)
	}
	site, err := ParseSite(data)
	if err != nil {
		return nil, fmt.Errorf("site file %s: %w", path, err)
	}
	return site, nil
}

// ParseSite decodes and checks a site file's content.
func ParseSite(data []byte) (*Site, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var site Site
	if err := dec.Decode(&site); err != nil {
		return nil, fmt.Errorf("invalid site JSON (expected a snapshot object with an optional \"simulator\" key): %w", err)
	}
	if err := site.Validate(); err != nil {
		return nil, err
	}
	return &site, nil
}

// Validate checks what the simulator relies on: unique LUIDs and ids,
// references that resolve and settings with known values. It returns every
// problem found, joined.
func (s *Site) Validate() error {
	workbooks, errs := s.validateWorkbooks()
	errs = append(errs, s.validateIDs()...)
	errs = append(errs, s.validateCollections(workbooks)...)
	errs = append(errs, s.Simulator.validate()...)
	return errors.Join(errs...)
}

// validateWorkbooks checks workbook and published data source LUIDs and
// returns the set of workbook LUIDs.
func (s *Site) validateWorkbooks() (map[string]bool, []error) {
	var errs []error
	workbooks := map[string]bool{}
	for i, w := range s.Workbooks {
		if w.LUID == "" {
			errs = append(errs, fmt.Errorf("workbooks[%d] (%q) has no luid", i, w.Name))
			continue
		}
		if workbooks[w.LUID] {
			errs = append(errs, fmt.Errorf("workbooks[%d]: duplicate luid %s", i, w.LUID))
		}
		workbooks[w.LUID] = true
	}

	published := map[string]bool{}
	for i, d := range s.PublishedDatasources {
		if d.LUID == "" {
			errs = append(errs, fmt.Errorf("publishedDatasources[%d] (%q) has no luid", i, d.Name))
			continue
		}
		if published[d.LUID] {
			errs = append(errs, fmt.Errorf("publishedDatasources[%d]: duplicate luid %s", i, d.LUID))
		}
		published[d.LUID] = true
	}

	for _, w := range s.Workbooks {
		for _, luid := range w.PublishedDatasourceLUIDs {
			if !published[luid] {
				errs = append(errs, fmt.Errorf("workbook %s uses published data source %s, which is not in publishedDatasources", w.LUID, luid))
			}
		}
	}
	return workbooks, errs
}

// validateIDs checks that data source ids are unique, because lists sort
// and page by Metadata API id.
func (s *Site) validateIDs() []error {
	var errs []error
	ids := map[string]string{}
	checkID := func(id, what string) {
		if id == "" {
			return
		}
		if other, dup := ids[id]; dup {
			errs = append(errs, fmt.Errorf("%s has id %s, which %s also has: Metadata API ids must be unique", what, id, other))
			return
		}
		ids[id] = what
	}
	for _, d := range s.PublishedDatasources {
		checkID(d.ID, fmt.Sprintf("published data source %s", d.LUID))
	}
	for _, w := range s.Workbooks {
		for _, d := range w.EmbeddedDatasources {
			checkID(d.ID, fmt.Sprintf("embedded data source %q of workbook %s", d.Name, w.LUID))
		}
	}
	return errs
}

// validateCollections checks collection LUIDs and names and that every
// listed workbook exists.
func (s *Site) validateCollections(workbooks map[string]bool) []error {
	var errs []error
	collections := map[string]bool{}
	for i, c := range s.Collections {
		if c.LUID == "" || c.Name == "" {
			errs = append(errs, fmt.Errorf("collections[%d] needs both luid and name", i))
		}
		if collections[c.LUID] {
			errs = append(errs, fmt.Errorf("collections[%d]: duplicate luid %s", i, c.LUID))
		}
		collections[c.LUID] = true
		for _, luid := range c.WorkbookLUIDs {
			if !workbooks[luid] {
				errs = append(errs, fmt.Errorf("collection %q lists workbook %s, which is not in workbooks", c.Name, luid))
			}
		}
	}
	return errs
}

func (st Settings) validate() []error {
	var errs []error
	for i, t := range st.Tokens {
		if t.Name == "" || t.Secret == "" {
			errs = append(errs, fmt.Errorf("simulator.tokens[%d] needs both name and secret", i))
		}
	}
	for key, o := range st.RefreshOutcomes {
		switch o {
		case OutcomeSuccess, OutcomeFailure, OutcomeCancelled:
		default:
			errs = append(errs, fmt.Errorf("simulator.refreshOutcomes[%s] is %q, expected success, failure or cancelled", key, o))
		}
	}
	if st.MaxPageSize < 0 {
		errs = append(errs, fmt.Errorf("simulator.maxPageSize is %d, expected a positive number or 0 for no cap", st.MaxPageSize))
	}
	if st.NodeLimit < 0 {
		errs = append(errs, fmt.Errorf("simulator.nodeLimit is %d, expected a positive number or 0 for the default", st.NodeLimit))
	}
	return errs
}
