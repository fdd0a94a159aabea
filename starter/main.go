// Command starter is the CLI that orchestrators and operators use: it starts
// and schedules the autoexposures workflows, reports their status, previews
// exposures offline and runs the demo.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes: exitUsage for bad flags or arguments, exitFailure for a
// command that ran and failed, exitStillRunning when the starter stopped
// waiting (timeout or signal) while the workflow goes on. The README lists
// them for orchestrators.
const (
	exitOK           = 0
	exitFailure      = 1
	exitUsage        = 2
	exitStillRunning = 3
)

// command is one subcommand; run returns the process exit code.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"demo", "run the whole product locally on bundled inputs", runDemo},
		{"job-completed", "recompute exposures after a dbt production run", runJobCompleted},
		{"sync", "sync the selected Tableau workbooks now", runSync},
		{"schedule", "create or update the daily sync schedule", runSchedule},
		{"collections", "show or change the collections the daily sync reads", runCollections},
		{"status", "list recent runs and their summaries", runStatus},
		{"preview", "compute exposures offline from a manifest and a snapshot", runPreview},
		{"refresh", "refresh a Tableau extract on demand", runRefresh},
		{"snapshot", "copy the latest Tableau snapshot out of the state directory", runSnapshot},
		{"health", "exit 0 when a worker polls the task queue", runHealth},
	}
}

// run dispatches args[0] to its subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		printUsage(stderr)
		return exitUsage
	}
	name := args[0]
	if name == "help" || name == "-h" || name == "--help" || name == "-help" {
		printUsage(stdout)
		return exitOK
	}
	for _, c := range commands() {
		if c.name == name {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "starter: unknown command %q\n\n", name)
	printUsage(stderr)
	return exitUsage
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: starter <command> [flags]

Commands:
`)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, `
Run "starter <command> -h" for the flags of a command. The Temporal
connection comes from TEMPORAL_ADDRESS (default 127.0.0.1:7233),
TEMPORAL_NAMESPACE (default "default"), TEMPORAL_API_KEY and the
TEMPORAL_TLS_* variables; the task queue from AUTOEXPOSURES_TASK_QUEUE
(default autoexposures).
`)
}
