// Package demo bundles the inputs of `starter demo`: a real dbt manifest and
// run results of the jaffle_shop project, and a Tableau site written for
// that manifest to seed the simulator. The files are copies, because
// go:embed cannot reach outside the package directory; assets/SOURCES.md
// names where each comes from, and a test keeps them identical to it.
package demo
