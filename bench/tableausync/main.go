// Command tableausync measures a Tableau sync: it generates a site, serves it
// from the simulator on 127.0.0.1 with a fixed latency per request, reads a
// snapshot of the whole site with the client, and prints
//
//   - the GraphQL requests against the minimum that the node limit allows
//     (the nodes served divided by the limit, rounded up), and
//   - the wall time against requests x latency / concurrency, the time the
//     requests would take if the client kept every request slot busy.
//
// Each timed sync follows the same sync without latency. That one measures
// the CPU time of the simulator and the client on this machine, and the
// difference between the two is what the latency added.
//
// Both baselines come from the same run. Usage:
//
//	go run ./bench/tableausync -workbooks 10000 -tables 5 -latency 40ms
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/sitegen"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func main() {
	var (
		workbooks      = flag.Int("workbooks", 10000, "number of workbooks in the generated site")
		tables         = flag.Int("tables", 5, "upstream tables per workbook")
		latency        = flag.Duration("latency", 40*time.Millisecond, "latency the simulator adds to every request")
		concurrency    = flag.Int("concurrency", 4, "client request concurrency (TABLEAU_CONCURRENCY)")
		runs           = flag.Int("runs", 3, "number of timed syncs")
		seed           = flag.Uint64("seed", 1, "seed of the generated site")
		published      = flag.Int("published", 20, "published data sources in the site")
		publishedShare = flag.Float64("published-share", 0.2, "share of workbooks that use a published data source")
		customSQLShare = flag.Float64("custom-sql-share", 0.1, "share of embedded data sources fed by custom SQL")
		cpuProfile     = flag.String("cpuprofile", "", "write a CPU profile of the timed syncs to this file")
		trace          = flag.Bool("trace", false, "log every request of the client to standard error")
		apiVersion     = flag.String("api-version", "", "TABLEAU_API_VERSION for the client; empty asks serverinfo, one more round trip")
		slowLatency    = flag.Duration("schedule-latency", 400*time.Millisecond, "latency of one more sync per run, long enough that CPU time hardly counts; 0 skips it")
	)
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "tableausync:", err)
			os.Exit(1)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "tableausync:", err)
			os.Exit(1)
		}
		defer pprof.StopCPUProfile()
	}
	logOutput = io.Discard
	if *trace {
		logOutput = os.Stderr
	}
	clientAPIVersion = *apiVersion
	if err := run(*workbooks, *tables, *latency, *slowLatency, *concurrency, *runs, *seed, *published, *publishedShare, *customSQLShare); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "tableausync:", err)
		os.Exit(1)
	}
}

func run(workbooks, tables int, latency, slowLatency time.Duration, concurrency, runs int, seed uint64,
	published int, publishedShare, customSQLShare float64) error {
	site := sitegen.Generate(sitegen.Params{
		Seed:                 seed,
		Workbooks:            workbooks,
		TablesPerWorkbook:    tables,
		PublishedDatasources: published,
		PublishedShare:       publishedShare,
		CustomSQLShare:       customSQLShare,
		ExtractShare:         0.5,
	})
	sim := tableausim.New(site, tableausim.WithLatency(latency))
	if err := sim.Start(); err != nil {
		return err
	}
	defer sim.Close()

	fmt.Printf("site: %d workbooks, %d upstream tables each, %d published data sources (%.0f%% of workbooks), custom SQL in %.0f%% of data sources\n",
		workbooks, tables, published, publishedShare*100, customSQLShare*100)
	fmt.Printf("simulator latency %v per request, client concurrency %d, node limit %d, GOMAXPROCS %d\n\n",
		latency, concurrency, tableau.NodeLimit, runtime.GOMAXPROCS(0))

	for i := 1; i <= runs; i++ {
		// The same sync without latency measures the CPU time of the
		// simulator and the client on this machine. The difference to the
		// sync with latency is what the latency adds.
		sim.SetLatency(0)
		sim.ResetCounts()
		quiet, err := syncOnce(sim, concurrency)
		if err != nil {
			return err
		}
		sim.SetLatency(latency)
		sim.ResetCounts()
		res, err := syncOnce(sim, concurrency)
		if err != nil {
			return err
		}
		minimum := int(math.Ceil(float64(res.nodes) / float64(tableau.NodeLimit)))
		baseline := time.Duration(res.requests) * latency / time.Duration(concurrency)
		fmt.Printf("run %d: %d workbooks read, %d nodes served\n", i, res.workbooks, res.nodes)
		fmt.Printf("  GraphQL requests %d, minimum %d (nodes / %d): ratio %.2f (target at most 2)\n",
			res.graphQL, minimum, tableau.NodeLimit, float64(res.graphQL)/float64(minimum))
		fmt.Printf("  wall %v, baseline %v (%d requests x %v / %d): ratio %.2f (target at most 1.5)\n",
			res.wall.Round(time.Millisecond), baseline.Round(time.Millisecond), res.requests, latency, concurrency,
			float64(res.wall)/float64(baseline))
		added := res.wall - quiet.wall
		fmt.Printf("  same sync without latency %v, so latency added %v: ratio %.2f to the baseline\n",
			quiet.wall.Round(time.Millisecond), added.Round(time.Millisecond), float64(added)/float64(baseline))
		fmt.Printf("  requests by kind %v, at most %d in flight\n", res.counts, res.maxInFlight)

		// With a long latency the CPU time of both sides hardly counts, so
		// the ratio shows how well the client's schedule of requests fills
		// its request slots.
		if slowLatency > 0 {
			sim.SetLatency(slowLatency)
			sim.ResetCounts()
			slow, err := syncOnce(sim, concurrency)
			if err != nil {
				return err
			}
			slowBaseline := time.Duration(slow.requests) * slowLatency / time.Duration(concurrency)
			fmt.Printf("  schedule at %v latency: wall %v, baseline %v (%d requests): ratio %.2f\n",
				slowLatency, slow.wall.Round(time.Millisecond), slowBaseline.Round(time.Millisecond), slow.requests,
				float64(slow.wall)/float64(slowBaseline))
			sim.SetLatency(latency)
		}
	}
	return nil
}

// clientAPIVersion is the client's TABLEAU_API_VERSION.
var clientAPIVersion string

// logOutput receives the client's logs: debug logs of every request with
// -trace, nothing otherwise.
var logOutput io.Writer

type syncResult struct {
	workbooks   int
	nodes       int
	graphQL     int
	requests    int
	wall        time.Duration
	counts      map[string]int
	maxInFlight int
}

// syncOnce reads the whole site with a new client, as a daily sync does:
// serverinfo, sign-in, listing and lineage.
func syncOnce(sim *tableausim.Server, concurrency int) (syncResult, error) {
	client, err := tableau.New(tableau.Config{
		ServerURL:   sim.URL() + "/#/site/sitegen/explore",
		TokenName:   sitegen.Token.Name,
		TokenSecret: sitegen.Token.Secret,
		Concurrency: concurrency,
		APIVersion:  clientAPIVersion,
	}, tableau.WithLogger(slog.New(slog.NewTextHandler(logOutput, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	if err != nil {
		return syncResult{}, err
	}
	ctx := context.Background()

	start := time.Now()
	snap, err := client.ReadSnapshot(ctx, tableau.Selection{})
	wall := time.Since(start)
	if err != nil {
		return syncResult{}, fmt.Errorf("reading the snapshot: %w", err)
	}
	counts := sim.Counts()
	requests := 0
	for _, n := range counts {
		requests += n
	}
	res := syncResult{
		workbooks:   len(snap.Workbooks),
		nodes:       sim.NodesServed(),
		graphQL:     counts[tableausim.KindGraphQL],
		requests:    requests,
		wall:        wall,
		counts:      counts,
		maxInFlight: sim.MaxConcurrent(),
	}
	if err := client.SignOut(ctx); err != nil {
		return syncResult{}, fmt.Errorf("signing out: %w", err)
	}
	return res, nil
}
