// Package activities holds the Temporal activities of autoexposures: thin
// adapters that read from Tableau and dbt artifacts, keep what they read in
// the store, call the internal packages and return small results (store
// references, counts and short summaries). They classify each error once:
// errors no retry can fix are non-retryable application errors that say
// what to fix.
//
// Every activity is a method of [Activities] and is registered under the
// stable name in its Name constant, so that recorded histories keep
// replaying when methods are renamed.
package activities
