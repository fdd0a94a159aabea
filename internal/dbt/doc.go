// Package dbt reads the dbt artifacts lineage needs: manifest.json and
// run_results.json.
//
// ReadManifest reads manifest schema v4 (dbt 1.0) to v12 (dbt 1.8 to at
// least 1.12), and ReadRunResults reads run_results schema v4 to v6. Either
// file may be plain or gzip-compressed, detected by the gzip magic bytes.
// Only the fields in Manifest and RunResults are kept. From a manifest these are the
// models, seeds and snapshots (also the disabled ones), the sources and the
// exposures. Each unique ID is in Nodes or Sources once, the enabled node
// winning over disabled copies of it, which go to DisabledVariants. Everything else, such as SQL, columns, docs, macros, tests and
// the parent and child maps, is skipped while streaming, so memory stays a
// small fraction of the file size. BENCHMARKS.md has the measured figures.
//
// The reader is a streaming JSON scanner written for this purpose, not
// encoding/json. It checks the full JSON grammar of every value it keeps.
// For skipped values it checks only that strings end and brackets match,
// so a misplaced comma or colon inside a skipped object goes unnoticed.
// Nesting deeper than 1,000 levels and a kept string longer than 16 MiB
// are rejected.
//
// Errors about the content are *ArtifactError values that match
// ErrInvalidArtifact: not JSON, truncated, another dbt artifact such as
// catalog.json, an unsupported schema version, or a field of the wrong type.
// Each names the file, what it looks like and what was expected. A leading
// UTF-8 byte order mark is skipped.
package dbt
