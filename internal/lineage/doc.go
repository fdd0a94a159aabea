// Package lineage matches Tableau upstream tables to dbt nodes and finds the
// extracts that a dbt run made stale.
//
// # Matching
//
// An upstream table matches a dbt relation on database, schema and table
// name: a model's, seed's or snapshot's alias (its name when it has none)
// and a source's identifier (its name when it has none). The dbt name of a
// model is never compared, so a model aliased to the table name of a source
// in another schema or database is not confused with it. Two dbt nodes on
// the same warehouse table, such as a seed and a source declared on it, are
// both reported.
//
// Tableau's database, schema and name fields are read first. What they
// leave empty comes from the table's full name, bracketed
// ("[DB].[SCHEMA].[TABLE]"), double-quoted, backquoted or bare. A table
// without database takes the database of its connection where Tableau
// reports one (custom SQL queries carry it). A table with schema but no
// database matches on schema and name only when exactly one relation in
// the manifest has them, and otherwise it is ambiguous and lists the
// candidates. A table without schema matches nothing and lists the
// relations of that name as candidates. In the run report its name shows
// the missing schema as "?" ("SHOP.?.orders" for "select * from orders" on
// a connection to database SHOP), so that it does not read as
// schema.table. A table whose database has no such relation, while other
// databases do (a workbook on a development database, say), matches
// nothing and lists those relations as candidates, with the hint "same
// schema and table in database X". Ephemeral and disabled nodes and
// disabled sources never match, but a table that matches nothing else and
// names one of them is reported as ephemeral or disabled. A disabled copy
// of an enabled node (the manifest's disabled section keeps one per
// configuration that disables it, under the same unique ID) never replaces
// the enabled node, in matching or in the dependency graph. It only
// explains a table at its own relation that no enabled node is.
//
// Custom SQL uses the tables Tableau parsed from it. Where Tableau parsed
// none, ExtractTables reads the query. A query it cannot read, or in which
// it finds no table, is reported as unparsed.
//
// # Identifiers
//
// Names compare as the warehouse of the manifest's adapter compares them.
// A name Tableau reports for a table is the name the warehouse stores. A
// name from custom SQL is folded like the warehouse folds it, unless it is
// quoted. Whether dbt quotes a part of a relation comes from the node's
// relation name in the manifest (how dbt rendered it), else from its
// quoting config, else from the adapter's default quote policy.
//
//   - snowflake: unquoted identifiers are stored in upper case and compare
//     without case, while quoted ones are stored as written and compare
//     exactly. dbt-snowflake's quote policy quotes nothing. The parameter
//     QUOTED_IDENTIFIERS_IGNORE_CASE is not modelled.
//   - postgres: unquoted identifiers are stored in lower case, and quoted
//     ones as written, comparing exactly. dbt's default quote policy quotes
//     database, schema and identifier, so a model aliased "MyTable" is the
//     case-sensitive table "MyTable".
//   - redshift: identifiers are stored in lower case whether quoted or not
//     while enable_case_sensitive_identifier is false (its default), so
//     comparisons ignore case. The setting's true value is not modelled.
//   - bigquery: dataset and table names are case-sensitive unless a dataset
//     sets is_case_insensitive (not modelled), and backquotes do not change
//     that, so names compare exactly. A backquoted name in SQL may contain a
//     whole path (`project.dataset.table`).
//   - databricks, spark: Unity Catalog stores object names in lower case,
//     as the Hive metastore does, so comparisons ignore case. A relation
//     without database (Hive metastore) matches whatever catalog Tableau
//     reports.
//   - duckdb: identifier resolution ignores case, for quoted identifiers
//     too.
//   - sqlserver (and fabric, synapse): identifiers compare as the database
//     collation defines. The default collations ignore case, which is what is
//     modelled. A case-sensitive collation is not.
//   - any other adapter: comparisons ignore case, as most warehouses do.
//
// Case folding covers ASCII letters only, as Postgres and Snowflake fold
// unquoted identifiers. Sources: the identifier pages of the Snowflake,
// PostgreSQL, Amazon Redshift (enable_case_sensitive_identifier), BigQuery,
// Databricks ("Names") and DuckDB ("Keywords and Identifiers") manuals,
// and the quote policies in dbt-snowflake's relation.py and dbt's base
// relation.
//
// # Staleness
//
// FindStale compares the completion times in a run's run_results.json with
// the last refresh of each extract a workbook uses: an embedded data source
// with extracts (refreshed through its workbook) or a published data source
// with extracts (one extract whatever the number of workbooks using it).
//
// A node N rebuilt in the run after an extract's last refresh makes the
// extract stale when the extract's data source reads a node R and there
// is a path from N down to R in the dbt graph on which every node after N,
// R included, either was itself rebuilt successfully in the run or holds
// no data of its own. Views and ephemeral models hold no data of their
// own, because their rows are computed when they are queried. A table,
// incremental model, seed or snapshot that was skipped, errored or not
// selected still holds the rows it had before, so it breaks the chain: an
// extract reading a skipped table is not stale even when a model upstream
// of that table was rebuilt, and the skipped table is listed as ignored
// with the workbooks it serves. N may be R itself. Materialized views and
// similar relations that refresh on their own count as holding data.
//
// Only the run results of dbt run, build, seed, snapshot and retry count,
// as the command in their args.which says. Other commands (docs generate,
// compile, test, list, show, parse, run-operation) report the models they
// read as "success" without building them, so their results are ignored
// and the report says why. Run results that do not name their command,
// as hand-made files may not, are read as a build, and the report says
// that too.
package lineage
