package lineage

import "time"

// Result is the lineage of every workbook of a snapshot against a manifest.
// Lists are sorted so that equal inputs give equal results.
type Result struct {
	// Workbooks is sorted by workbook LUID.
	Workbooks []WorkbookLineage
	// Unmatched holds every upstream table that matched no dbt node, sorted
	// by workbook LUID, then data source, then table.
	Unmatched []UnmatchedTable
}

// WorkbookLineage is the set of dbt nodes that one workbook reads.
type WorkbookLineage struct {
	WorkbookLUID string
	// DependsOn holds the unique IDs of the models, seeds, snapshots and
	// sources the workbook reads, sorted and without duplicates.
	DependsOn []string
	// Matches records each upstream table that matched, for the run report.
	Matches []Match
	// Extracts are the extracts the workbook uses, for staleness.
	Extracts []ExtractRef
}

// TableRef names an upstream table and where the workbook reads it from.
type TableRef struct {
	// Datasource is the data source name; DatasourceID its Metadata API id
	// (embedded) or LUID (published).
	Datasource   string
	DatasourceID string
	Published    bool
	// Table is the table as Tableau reported it, "db.schema.table" where
	// known; FromCustomSQL marks tables read from a custom SQL query. A
	// table with a database but no schema, such as a one-part name in
	// custom SQL on a connection to database DB, shows as "DB.?.table", so
	// that it does not read as schema.table.
	Table         string
	FromCustomSQL bool
}

// Match is one upstream table and the dbt nodes it is.
type Match struct {
	TableRef
	// UniqueIDs holds every dbt node that is this relation; two nodes
	// that really are the same relation are both reported.
	UniqueIDs []string
	// SchemaOnly is true when the table had no database and matched on
	// schema and name alone, which is done only when that match is unique.
	SchemaOnly bool
}

// Reason is the cause of an upstream table matching nothing.
type Reason string

// Reasons for an unmatched table.
const (
	ReasonNoRelation Reason = "no_relation"  // no dbt node or source is this table, or the table has no schema
	ReasonAmbiguous  Reason = "ambiguous"    // schema.table fits several relations and no database was given
	ReasonEphemeral  Reason = "ephemeral"    // the only node of that name is ephemeral
	ReasonDisabled   Reason = "disabled"     // the only node of that name is disabled
	ReasonUnparsed   Reason = "unparsed_sql" // custom SQL whose tables could not be read
)

// UnmatchedTable is an upstream table that matched no dbt node.
type UnmatchedTable struct {
	WorkbookLUID string
	TableRef
	Reason Reason
	// Candidates holds the unique IDs that made a match ambiguous, or the
	// ephemeral or disabled node that was found. For a table without
	// schema it holds the nodes of that table name. For a table whose
	// database has no such relation it holds the nodes with the same
	// schema and table name in other databases.
	Candidates []string `json:",omitempty"`
	// Hint explains the candidates of a table that matched no relation,
	// such as "same schema and table in database ANALYTICS" when only the
	// database differs (a workbook on a development database, say). It is
	// empty when there is nothing to add to Reason.
	Hint string `json:",omitempty"`
}

// ExtractRef is an extract a workbook uses: an embedded data source with
// extracts, or a published data source with extracts.
type ExtractRef struct {
	// LUID is the workbook LUID for an embedded extract (Tableau refreshes
	// embedded extracts through their workbook) or the published data
	// source's LUID.
	LUID      string
	Published bool
	Name      string
	// DatasourceID is the Metadata API id of the embedded data source.
	DatasourceID string
}

// Options adjusts how Compute matches tables.
type Options struct {
	// Adapter overrides the manifest's adapter type ("snowflake",
	// "postgres", ...) for the identifier rules. Empty uses the manifest's.
	Adapter string
}

// StaleReport lists the extracts that a dbt run made stale.
type StaleReport struct {
	// Extracts is sorted by published flag, then LUID, then data source id.
	Extracts []StaleExtract
	// Ignored contains the models, seeds and snapshots that errored or were
	// skipped in the run, which make nothing stale, sorted by unique ID.
	Ignored []IgnoredResult

	// Command is the dbt command that wrote the run results (their
	// args.which), empty when the file does not name it.
	Command string
	// ResultsIgnored is true when that command builds no table, such as
	// dbt docs generate, compile, test, list, show or parse: none of its
	// results counts as a rebuild, so nothing is stale.
	ResultsIgnored bool `json:",omitempty"`
	// CommandNote explains, for the report, why the results were ignored, or
	// that run results without args.which were read as a dbt build. It is
	// empty for the commands that build.
	CommandNote string `json:",omitempty"`
}

// StaleExtract is an extract last refreshed before a model, seed or
// snapshot upstream of it completed in the run.
type StaleExtract struct {
	ExtractRef
	// LastRefresh is the extract's extractLastRefreshTime, nil when it was
	// never refreshed.
	LastRefresh *time.Time
	// Exposures contains the LUIDs of the workbooks the extract serves, sorted.
	Exposures []string
	// Models contains the unique IDs of the nodes that completed after
	// LastRefresh, sorted.
	Models []string
	// RebuiltAt is the latest completion time among Models.
	RebuiltAt time.Time
}

// IgnoredResult is a node of the run that errored or was skipped.
type IgnoredResult struct {
	UniqueID string
	// Status is dbt's status word, such as "error" or "skipped".
	Status string
	// Exposures contains the LUIDs of the workbooks with an extract downstream
	// of the node, sorted, and empty when no extract reads it.
	Exposures []string `json:",omitempty"`
}
