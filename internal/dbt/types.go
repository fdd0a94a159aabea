package dbt

import "time"

// Manifest is the part of a dbt manifest.json that lineage needs.
type Manifest struct {
	// SchemaVersion is the number in metadata.dbt_schema_version (4 to 12).
	SchemaVersion int
	DbtVersion    string
	ProjectName   string
	// AdapterType is the warehouse adapter, such as "snowflake" or "postgres".
	AdapterType string
	// GeneratedAt and InvocationID identify the dbt invocation that wrote it.
	GeneratedAt  time.Time
	InvocationID string

	// Nodes holds the models, seeds and snapshots, including ephemeral and
	// disabled ones, which never match a table. Each unique ID appears once:
	// when the manifest has an enabled node and disabled copies under the
	// same unique ID, the enabled node is the one here.
	Nodes     []Node
	Sources   []Source
	Exposures []Exposure

	// DisabledVariants holds the disabled copies of nodes whose unique ID
	// is already in Nodes. The manifest's disabled section keeps one copy
	// per configuration that disables a node (a per-target variant, say),
	// and these can name other relations. They are only for explaining why
	// a table matches nothing, never for refs or the dependency graph.
	DisabledVariants []Node `json:",omitempty"`
	// DisabledSourceVariants is DisabledVariants for sources.
	DisabledSourceVariants []Source `json:",omitempty"`
}

// Resource types of the nodes lineage reads.
const (
	ResourceModel    = "model"
	ResourceSeed     = "seed"
	ResourceSnapshot = "snapshot"
	ResourceSource   = "source"
	ResourceExposure = "exposure"
)

// Quoting records which parts of a relation name are quoted. A nil field means
// the adapter's default.
type Quoting struct {
	Database   *bool
	Schema     *bool
	Identifier *bool
}

// Node is a model, seed or snapshot.
type Node struct {
	UniqueID     string
	ResourceType string
	// Name is the dbt name used in ref(); Alias is the table name in the
	// warehouse.
	Name         string
	PackageName  string
	Database     string
	Schema       string
	Alias        string
	RelationName string
	Materialized string
	Enabled      bool
	// Version is the model version for versioned models, empty otherwise.
	Version string
	Quoting Quoting
	// DependsOn holds the unique IDs of the nodes and sources it reads.
	DependsOn []string
}

// HasRelation reports whether the node is built as a table or view in the
// warehouse: ephemeral and disabled nodes are not.
func (n Node) HasRelation() bool {
	return n.Enabled && n.Materialized != "ephemeral"
}

// Source is a dbt source table.
type Source struct {
	UniqueID     string
	SourceName   string
	Name         string
	PackageName  string
	Database     string
	Schema       string
	Identifier   string
	RelationName string
	Enabled      bool
	Quoting      Quoting
}

// Exposure is an exposure already in the manifest, hand-written or generated.
type Exposure struct {
	UniqueID    string
	Name        string
	PackageName string
	Type        string
	URL         string
	// Meta is the exposure's meta, merged from config.meta where present.
	Meta map[string]any
	Tags []string
	// DependsOn holds the unique IDs of the nodes it depends on.
	DependsOn []string
}

// RunResults is the part of a run_results.json that staleness needs.
type RunResults struct {
	SchemaVersion int
	InvocationID  string
	GeneratedAt   time.Time
	// Command is the dbt command that wrote the file, from args.which:
	// "run", "build", "seed", "snapshot", "test", "compile", "generate"
	// (dbt docs generate), "retry", "run-operation" and so on. It is empty
	// when the file has no args.which.
	Command string
	Results []RunResult
}

// RunResult is one node's outcome in a dbt run.
type RunResult struct {
	UniqueID string
	// Status is dbt's status word: success, error, skipped, pass, fail, warn.
	Status string
	// CompletedAt is the end of the node's "execute" timing; zero when the
	// node did not run.
	CompletedAt time.Time
}
