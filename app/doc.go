// Package app joins the configuration, the Tableau client, the store, the
// activities and the workflows into a running Temporal worker, and dials
// Temporal for the worker and the starter. It sits outside internal/
// because it imports the Temporal SDK, which no package under internal/ does.
package app
