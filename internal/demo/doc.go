// Package demo bundles the inputs of `starter demo`: a real dbt manifest and
// run results of the jaffle_shop project, and a Tableau site written for
// that manifest to seed the simulator. The files are copies, because
// go:embed cannot reach outside the package directory; assets/SOURCES.md
// names where each comes from, and a test keeps them identical to it. The
// one exception, assets/run_results_build.json, is derived from the real run
// results as a dbt build, so that the demo's post-job run finds stale
// extracts; SOURCES.md lists each change and a test checks them.
package demo
