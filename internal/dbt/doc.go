// Package dbt reads the dbt artifacts lineage needs: manifest.json and
// run_results.json.
package dbt
