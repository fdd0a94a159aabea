package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// baselineActivities is the number of activities a post-job run executes
// when nothing is stale: load artifacts, set the latest manifest, get the
// latest snapshot, compute exposures, find stale extracts.
const baselineActivities = 5

// BenchmarkJobCompletedLatency measures the time from running
// `starter job-completed` to the exposures file written, on the dev server
// with the worker in its own process, for the bundled jaffle_shop manifest.
// The baseline is a workflow of as many no-op activities, run on the same
// server by an in-process worker: the cost of Temporal alone.
//
//	go test -run '^$' -bench JobCompletedLatency -benchtime 20x ./testsuite/e2e
func BenchmarkJobCompletedLatency(b *testing.B) {
	ctx := context.Background()
	tab := startTableau(b, demoSite(b))
	s := newStack(b, tab.config())
	s.startWorker()
	// The first run syncs Tableau; later ones reuse the snapshot, as
	// production runs do.
	s.mustStarter(ctx, "job-completed", "--run-id", fmt.Sprintf("bench-warm-up-%d", time.Now().UnixNano()),
		"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))

	baseline := measureBaseline(b, 10)

	var toFile, toExit []time.Duration
	b.ResetTimer()
	for i := range b.N {
		if err := os.Remove(s.exposuresFile); err != nil && !os.IsNotExist(err) {
			b.Fatal(err)
		}
		written := make(chan time.Time, 1)
		go func() {
			for {
				if _, err := os.Stat(s.exposuresFile); err == nil {
					written <- time.Now()
					return
				}
				time.Sleep(time.Millisecond)
			}
		}()

		start := time.Now()
		s.mustStarter(ctx, "job-completed", "--run-id", fmt.Sprintf("bench-%d-%d", time.Now().UnixNano(), i),
			"--manifest", repoFile(jaffleManifest), "--run-results", repoFile(jaffleRunResults))
		exited := time.Now()
		toFile = append(toFile, (<-written).Sub(start))
		toExit = append(toExit, exited.Sub(start))
	}
	b.StopTimer()

	fileP50, exitP50, baseP50 := median(toFile), median(toExit), median(baseline)
	b.ReportMetric(float64(fileP50.Microseconds())/1000, "ms-to-file-p50")
	b.ReportMetric(float64(percentile(toFile, 90).Microseconds())/1000, "ms-to-file-p90")
	b.ReportMetric(float64(exitP50.Microseconds())/1000, "ms-to-exit-p50")
	b.ReportMetric(float64(baseP50.Microseconds())/1000, "ms-baseline-p50")
	b.Logf("job-completed to file written: p50 %s, p90 %s, max %s over %d runs (target 2s: %.2fx of it)",
		fileP50, percentile(toFile, 90), slices.Max(toFile), len(toFile), fileP50.Seconds()/2)
	b.Logf("job-completed to the starter's exit with the summary: p50 %s", exitP50)
	b.Logf("baseline, %d no-op activities in one workflow started and awaited in process: p50 %s; job-completed to file is %.1fx the baseline",
		baselineActivities, baseP50, float64(fileP50)/float64(baseP50))
}

// measureBaseline runs a workflow of baselineActivities no-op activities n
// times on the suite's dev server and returns each round trip.
func measureBaseline(b *testing.B, n int) []time.Duration {
	b.Helper()
	ctx := context.Background()
	c, err := client.Dial(client.Options{
		HostPort: suite.server.Address,
		Logger:   sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()

	queue := "bench-baseline"
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(noopWorkflow, workflow.RegisterOptions{Name: "BaselineWorkflow"})
	w.RegisterActivity(noopActivity)
	if err := w.Start(); err != nil {
		b.Fatal(err)
	}
	defer w.Stop()

	var out []time.Duration
	for i := range n + 1 {
		start := time.Now()
		run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:        fmt.Sprintf("bench-baseline-%d-%d", time.Now().UnixNano(), i),
			TaskQueue: queue,
		}, "BaselineWorkflow")
		if err != nil {
			b.Fatal(err)
		}
		if err := run.Get(ctx, nil); err != nil {
			b.Fatal(err)
		}
		// The first run warms the worker's pollers and caches.
		if i > 0 {
			out = append(out, time.Since(start))
		}
	}
	return out
}

func noopWorkflow(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range baselineActivities {
		if err := workflow.ExecuteActivity(ctx, noopActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func noopActivity(context.Context) error { return nil }

func median(ds []time.Duration) time.Duration { return percentile(ds, 50) }

// percentile returns the nearest-rank percentile p of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	sorted := slices.Clone(ds)
	slices.Sort(sorted)
	rank := (p*len(sorted) + 99) / 100
	return sorted[max(rank-1, 0)]
}
