// Package exposures turns the lineage of Tableau workbooks into dbt
// exposures: the exposures YAML file, an enriched copy of manifest.json that
// `dbt docs serve` shows without a dbt run, and a JSON run report.
//
// Output is deterministic: the same manifest, snapshot and curation give
// byte-identical YAML whatever order Tableau returned things in. Exposure
// names come from workbook names, and a clash is settled by a suffix derived
// from the workbook LUID, never by a counter.
package exposures
