// Package workflows holds the Temporal workflows of autoexposures:
//
//   - CollectionSyncWorkflow reads the selected Tableau workbooks into a
//     snapshot and recomputes the exposures against the latest manifest.
//   - JobLineageWorkflow runs after a dbt production job: it loads the
//     run's manifest, recomputes the exposures against the latest Tableau
//     snapshot and starts refreshes of the extracts the run made stale.
//   - ExposureRefreshWorkflow refreshes one Tableau extract.
//
// Workflows only order activities and pass store references, counts and
// short summaries between them; manifests, snapshots and secrets never enter
// a workflow history. Each workflow's history has a fixed number of events
// whatever the size of the site or manifest, because paging happens inside
// heartbeating activities, so none needs continue-as-new.
package workflows
