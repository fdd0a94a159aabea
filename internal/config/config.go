package config

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// Settings is the non-secret configuration of the workflows and activities.
// Activities read it in the worker; it never enters a workflow history.
type Settings struct {
	// StateDir is the store's directory: manifests, snapshots and reports by
	// content hash.
	StateDir string `env:"AUTOEXPOSURES_STATE_DIR, default=.state"`
	// ExposuresPath is the YAML file the generated exposures are written to,
	// usually inside the dbt project (models/exposures/tableau.yml).
	ExposuresPath string `env:"AUTOEXPOSURES_EXPOSURES_FILE, default=out/tableau_exposures.yml"`
	// ReportPath is the JSON run report; empty means next to the exposures
	// file, with the extension .report.json (see Report).
	ReportPath string `env:"AUTOEXPOSURES_REPORT_FILE"`
	// EnrichedManifestPath, when set, receives a copy of the manifest with
	// the generated exposures added.
	EnrichedManifestPath string `env:"AUTOEXPOSURES_ENRICHED_MANIFEST"`
	// DbtProjectDir, when set, is the dbt project's root directory. The
	// enriched manifest records the exposures file's original_file_path
	// relative to it when the file is inside it. Unset, a relative
	// exposures path is recorded as it is, and an absolute one as
	// models/autoexposures.yml.
	DbtProjectDir string `env:"AUTOEXPOSURES_DBT_PROJECT_DIR"`
	// CurationPath, when set, is the curation file that renames, hides or
	// annotates generated exposures.
	CurationPath string `env:"AUTOEXPOSURES_CURATION_FILE"`

	// Collections, Projects and WorkbookLUIDs are the default selection of
	// the collection sync, comma-separated. All empty selects every
	// workbook on the site.
	Collections   []string `env:"AUTOEXPOSURES_COLLECTIONS"`
	Projects      []string `env:"AUTOEXPOSURES_PROJECTS"`
	WorkbookLUIDs []string `env:"AUTOEXPOSURES_WORKBOOK_LUIDS"`
	// SyncChunkSize is how many workbooks the lineage read fetches between
	// two checkpoints; a retried read resumes after the last whole chunk.
	// The default of 1000 fills a Metadata API request of simple
	// workbooks, where 500 left it half full (see BENCHMARKS.md).
	SyncChunkSize int `env:"AUTOEXPOSURES_SYNC_CHUNK_SIZE, default=1000"`
	// SyncParallelChunks is how many chunks the lineage read fetches at
	// once; 1 reads them one after another. A value up to
	// TABLEAU_CONCURRENCY keeps the client's request slots busy when a
	// chunk fits in fewer Metadata API requests than there are slots. The
	// default matches the default TABLEAU_CONCURRENCY of 4.
	SyncParallelChunks int `env:"AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS, default=4"`

	// StateRetention is how many blobs of each kind (manifests, run
	// results, snapshots, reports and the like) the state directory keeps,
	// newest first. Older ones are deleted after each successful
	// computation once they are older than StateRetentionAge.
	StateRetention int `env:"AUTOEXPOSURES_STATE_RETENTION, default=10"`
	// StateRetentionAge keeps every blob stored more recently than this,
	// because a running workflow may still read it. It must be longer than
	// the longest workflow; the lineage read may take up to 24 hours.
	StateRetentionAge time.Duration `env:"AUTOEXPOSURES_STATE_RETENTION_AGE, default=24h"`

	// Refresh switches extract refreshes on or off (on, off, true, false).
	Refresh Switch `env:"AUTOEXPOSURES_REFRESH, default=on"`
	// RefreshMinInterval skips a refresh of an extract refreshed more
	// recently than this, by us or by Tableau's own schedule.
	RefreshMinInterval time.Duration `env:"AUTOEXPOSURES_REFRESH_MIN_INTERVAL, default=24h"`
	// RefreshCollections and RefreshProjects limit refreshes to workbooks in
	// these collections or projects; both empty allows every workbook.
	RefreshCollections []string `env:"AUTOEXPOSURES_REFRESH_COLLECTIONS"`
	RefreshProjects    []string `env:"AUTOEXPOSURES_REFRESH_PROJECTS"`

	// ScheduleID is the ID of the daily sync schedule. The worker reads its
	// selection for the first post-job run's sync when the store has no
	// snapshot yet; the starter creates and updates the schedule.
	ScheduleID string `env:"AUTOEXPOSURES_SCHEDULE_ID, default=autoexposures-daily-sync"`

	// TaskQueue is the Temporal task queue the worker polls.
	TaskQueue string `env:"AUTOEXPOSURES_TASK_QUEUE, default=autoexposures"`
}

// MaxSyncChunkSize bounds SyncChunkSize so that one chunk's lineage stays a
// few megabytes and one checkpoint never takes long to redo.
const MaxSyncChunkSize = 5000

// MinStateRetentionAge bounds StateRetentionAge from below: a post-job run
// reads its manifest again minutes after storing it.
const MinStateRetentionAge = time.Hour

// MaxSyncParallelChunks bounds SyncParallelChunks; more chunks in flight
// than the Tableau client has request slots only hold memory.
const MaxSyncParallelChunks = 16

// Report returns the path of the JSON run report: ReportPath when set, else
// the exposures file's path with its extension replaced by .report.json.
func (s Settings) Report() string {
	if s.ReportPath != "" {
		return s.ReportPath
	}
	base := strings.TrimSuffix(s.ExposuresPath, filepath.Ext(s.ExposuresPath))
	return base + ".report.json"
}

// DefaultSelection returns the selection the collection sync uses when it
// is started without one.
func (s Settings) DefaultSelection() tableau.Selection {
	return tableau.Selection{
		Collections:   s.Collections,
		Projects:      s.Projects,
		WorkbookLUIDs: s.WorkbookLUIDs,
	}
}

// Load reads Settings from the process environment and validates them.
func Load(ctx context.Context) (Settings, error) {
	return LoadFrom(ctx, envconfig.OsLookuper())
}

// LoadFrom reads Settings from l and validates them. The error is an
// *Error that lists every problem found.
func LoadFrom(ctx context.Context, l envconfig.Lookuper) (Settings, error) {
	var s Settings
	problems := process(ctx, &s, l)
	problems = append(problems, s.validate()...)
	if len(problems) > 0 {
		return s, &Error{Problems: problems}
	}
	return s, nil
}

func (s Settings) validate() []string {
	var problems []string
	if strings.TrimSpace(s.StateDir) == "" {
		problems = append(problems, "AUTOEXPOSURES_STATE_DIR is empty: set it to a writable directory")
	}
	switch ext := strings.ToLower(filepath.Ext(s.ExposuresPath)); {
	case strings.TrimSpace(s.ExposuresPath) == "":
		problems = append(problems, "AUTOEXPOSURES_EXPOSURES_FILE is empty: set it to the YAML file to write, such as models/exposures/tableau.yml")
	case ext != ".yml" && ext != ".yaml":
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_EXPOSURES_FILE=%q does not end in .yml or .yaml: dbt reads exposures only from YAML files", s.ExposuresPath))
	}
	if s.Report() == s.ExposuresPath {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_REPORT_FILE=%q is the exposures file: choose another path", s.ReportPath))
	}
	if s.CurationPath != "" {
		if _, err := os.Stat(s.CurationPath); err != nil {
			problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_CURATION_FILE=%q cannot be read (%v): fix the path or unset it", s.CurationPath, err))
		}
	}
	if s.SyncChunkSize < 1 || s.SyncChunkSize > MaxSyncChunkSize {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_SYNC_CHUNK_SIZE=%d is out of range: use 1 to %d workbooks", s.SyncChunkSize, MaxSyncChunkSize))
	}
	if s.SyncParallelChunks < 1 || s.SyncParallelChunks > MaxSyncParallelChunks {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_SYNC_PARALLEL_CHUNKS=%d is out of range: use 1 to %d chunks", s.SyncParallelChunks, MaxSyncParallelChunks))
	}
	if s.StateRetention < 1 {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_STATE_RETENTION=%d is out of range: keep at least 1 blob of each kind", s.StateRetention))
	}
	if s.StateRetentionAge < MinStateRetentionAge {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_STATE_RETENTION_AGE=%s is too short: use at least %s, so that running workflows keep what they read", s.StateRetentionAge, MinStateRetentionAge))
	}
	if s.RefreshMinInterval < 0 {
		problems = append(problems, fmt.Sprintf("AUTOEXPOSURES_REFRESH_MIN_INTERVAL=%s is negative: use a duration such as 24h, or 0 to refresh every time", s.RefreshMinInterval))
	}
	if strings.TrimSpace(s.TaskQueue) == "" {
		problems = append(problems, "AUTOEXPOSURES_TASK_QUEUE is empty: unset it for the default autoexposures or name a task queue")
	}
	return problems
}

// Switch is an on/off setting. It accepts on, off, true, false, yes, no, 1
// and 0, in any case.
type Switch bool

// EnvDecode implements envconfig.Decoder.
func (s *Switch) EnvDecode(val string) error {
	switch strings.ToLower(strings.TrimSpace(val)) {
	case "on", "true", "yes", "1":
		*s = true
	case "off", "false", "no", "0":
		*s = false
	default:
		return fmt.Errorf("invalid switch %q: use on or off", val)
	}
	return nil
}

// Error lists every configuration problem found at once.
type Error struct {
	Problems []string
}

func (e *Error) Error() string {
	if len(e.Problems) == 1 {
		return "invalid configuration: " + e.Problems[0]
	}
	return "invalid configuration:\n  - " + strings.Join(e.Problems, "\n  - ")
}

// Join merges configuration errors from several loaders into one *Error,
// so that the worker reports every problem in one message. It returns nil
// when every err is nil.
func Join(errs ...error) error {
	var all []string
	for _, err := range errs {
		if err == nil {
			continue
		}
		if ce, ok := err.(*Error); ok {
			all = append(all, ce.Problems...)
			continue
		}
		all = append(all, err.Error())
	}
	if len(all) == 0 {
		return nil
	}
	return &Error{Problems: all}
}
