// Package app joins the configuration, the Tableau client, the store, the
// activities and the workflows into a running Temporal worker, and dials
// Temporal for the worker and the starter. It is the one package under
// internal/ that imports the Temporal SDK; the packages it assembles do not.
package app
