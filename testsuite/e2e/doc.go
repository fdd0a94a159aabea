// Package e2e holds the end-to-end tests. TestMain starts one real Temporal
// dev server per test run. The Tableau simulator runs inside the test
// process, and the worker and starter are built from this repository and
// run as separate processes, the way operators run them.
package e2e
