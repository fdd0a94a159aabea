// Package workflows holds the Temporal workflows of autoexposures:
//
//   - CollectionSyncWorkflow reads the selected Tableau workbooks into a
//     snapshot and recomputes the exposures against the latest manifest.
//   - JobLineageWorkflow runs after a dbt production job: it loads the
//     run's manifest, recomputes the exposures against the latest Tableau
//     snapshot and starts refreshes of the extracts the run made stale.
//   - ExposureRefreshWorkflow refreshes one Tableau extract.
//
// A post-job run that finds no Tableau snapshot in the store first runs a
// snapshot-only sync as a child workflow. The ResolveSelection activity
// picks that sync's selection, so that it reads what the daily sync reads
// and the next daily sync removes no exposures. The order is:
//
//  1. the selection of the latest snapshot, when the store has one;
//  2. the selection in the action of the daily sync schedule
//     (AUTOEXPOSURES_SCHEDULE_ID, default autoexposures-daily-sync), when
//     that schedule exists and names a selection;
//  3. the worker's default selection (AUTOEXPOSURES_COLLECTIONS,
//     AUTOEXPOSURES_PROJECTS, AUTOEXPOSURES_WORKBOOK_LUIDS), and the whole
//     site when that is empty too.
//
// Later post-job runs compute against the latest snapshot, so they keep its
// selection. A sync started with an empty selection, such as starter sync
// without flags, still reads the worker's default.
//
// Workflows only order activities and pass store references, counts and
// short summaries between them; manifests, snapshots and secrets never enter
// a workflow history. Each workflow's history has a fixed number of events
// whatever the size of the site or manifest, because paging happens inside
// heartbeating activities, so none needs continue-as-new.
package workflows
