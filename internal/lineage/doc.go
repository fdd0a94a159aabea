// Package lineage matches Tableau upstream tables to dbt nodes and finds the
// extracts that a dbt run made stale.
package lineage
