// Package store keeps large inputs and results (dbt manifests, run results,
// Tableau snapshots, run reports) by the sha256 hash of their content, so that
// workflows pass small references instead of the data itself.
//
// [Dir] is the file-backed implementation: a state directory on a local
// disk, safe for several worker processes on one machine. It records the
// kind and put time of each blob, so that [Dir.Prune] can delete old blobs,
// and takes file locks ([Dir.Lock]) to serialize steps across workers. The [Store]
// interface is what a shared store (an object store, for workers on several
// machines) would implement.
package store
