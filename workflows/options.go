package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/autoexposures/autoexposures/activities"
)

// ReadLineageHeartbeatTimeout is how long the lineage read may go without a
// heartbeat before Temporal retries it, on this or another worker. A sync
// whose worker dies resumes after this long plus the retry interval.
const ReadLineageHeartbeatTimeout = 30 * time.Second

// HeartbeatTimeout is how long every other activity may go without a
// heartbeat. The activities heartbeat from a ticker while they work, so a
// worker killed mid-activity costs this long plus the retry interval, not
// the start-to-close timeout.
const HeartbeatTimeout = 30 * time.Second

// Activity options, one function per kind of step, so that each step's
// timeouts and retries sit next to each other.

// tableauListOptions fits the cheap listing calls: minutes at most (a
// large site with many collections pages for a while), retried with
// back-off on rate limits and server errors.
func tableauListOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        2 * time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
		Summary: "list the selected workbooks",
	})
}

// readLineageOptions fits the long, paged lineage read: it heartbeats its
// progress, so a timed-out or failed attempt resumes where it stopped, and
// it may take hours on a large site.
func readLineageOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    6 * time.Hour,
		ScheduleToCloseTimeout: 24 * time.Hour,
		HeartbeatTimeout:       ReadLineageHeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        5 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        5 * time.Minute,
			MaximumAttempts:        30,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
		Summary: "read workbook lineage into the store",
	})
}

// loadArtifactsOptions fits downloading and checking a manifest that may be
// hundreds of megabytes. The download heartbeats as bytes arrive and the
// decoding from a ticker, and the activity cancels a download that stalls,
// so a dead worker or a hung server ends an attempt within a minute.
func loadArtifactsOptions(ctx workflow.Context) workflow.Context {
	return heartbeatingStepOptions(ctx, "load the dbt artifacts into the store")
}

// computeOptions fits matching and writing the outputs, which take seconds
// for a large project, after waiting for another worker's computation to
// release the compute lock. The activity heartbeats while it waits and
// computes. Retries cover a full disk or a file locked for a moment.
func computeOptions(ctx workflow.Context) workflow.Context {
	return heartbeatingStepOptions(ctx, "compute and write the exposures")
}

// heartbeatingStepOptions gives a step of up to 30 minutes that heartbeats
// throughout: a killed worker is noticed after HeartbeatTimeout, and ten
// attempts with back-off up to a minute outlast a short outage.
func heartbeatingStepOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        2 * time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        time.Minute,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
		Summary: summary,
	})
}

// storeOptions fits reading and setting latest pointers: local file
// operations of milliseconds, except that ordering manifests decodes them,
// which takes seconds for a large one. SetLatest heartbeats while it works;
// GetLatest finishes long before the heartbeat timeout.
func storeOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
		Summary: summary,
	})
}

// resolveSelectionOptions fits reading the latest snapshot's selection or
// describing the schedule: a store read or one call to the Temporal server,
// retried while the server is briefly unavailable.
func resolveSelectionOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:        time.Second,
			BackoffCoefficient:     2,
			MaximumInterval:        30 * time.Second,
			MaximumAttempts:        10,
			NonRetryableErrorTypes: activities.NonRetryableErrorTypes,
		},
		Summary: "resolve the selection of the first sync",
	})
}
