// Package activities holds the Temporal activities of autoexposures: thin
// adapters that read from Tableau and dbt artifacts, keep what they read in
// the store, call the internal packages and return small results (store
// references, counts and short summaries). They classify each error once:
// an error no retry can fix is a non-retryable application error whose
// message tells the operator what to fix.
//
// Every activity is a method of [Activities] and is registered under the
// stable name in its Name constant, so that recorded histories keep
// replaying when methods are renamed.
package activities
