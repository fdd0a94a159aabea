package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

func runCollections(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, collectionsUsage)
		return exitUsage
	}
	switch args[0] {
	case "set":
		return runCollectionsSet(ctx, args[1:], stdout, stderr)
	case "show":
		return runCollectionsShow(ctx, args[1:], stdout, stderr)
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stdout, collectionsUsage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "starter collections: unknown subcommand %q\n%s", args[0], collectionsUsage)
		return exitUsage
	}
}

const collectionsUsage = `Usage:
  starter collections set [--no-wait] NAME_OR_LUID[,NAME_OR_LUID...]
      make these the collections the daily sync reads, and sync them now
  starter collections show
      print the schedule and the selection it holds
`

func runCollectionsSet(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collections set", "collections set [--no-wait] [--timeout DURATION] NAME_OR_LUID[,NAME_OR_LUID...]", stderr)
	noWait := fs.Bool("no-wait", false, "start the sync and exit without waiting for the result")
	timeout := fs.Duration("timeout", time.Hour, "how long to wait for the sync; it goes on after the starter gives up")
	if code, ok := parseFlags(fs, args, 1); !ok {
		return code
	}
	if fs.NArg() != 1 {
		return usageError(fs, "give the collections as one comma-separated argument, such as \"Sales,Finance\"")
	}
	names := splitList(fs.Arg(0))
	if len(names) == 0 {
		return usageError(fs, "%q names no collection: give at least one name or LUID", fs.Arg(0))
	}
	if *timeout <= 0 {
		return usageError(fs, "--timeout=%s must be positive", *timeout)
	}
	selection := tableau.Selection{Collections: names}

	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter collections set: %v\n", err)
		return exitFailure
	}
	defer conn.Close()

	// The schedule's action is where the selection lives; without a
	// schedule, one is created with the default time so the selection
	// sticks.
	err = setScheduleSelection(ctx, conn, selection)
	var notFound *serviceerror.NotFound
	switch {
	case errors.As(err, &notFound):
		settings := scheduleSettings{hour: 6, timeZone: "UTC", catchupWindow: defaultCatchupWindow, selection: selection}
		if _, err := upsertSchedule(ctx, conn, settings); err != nil {
			fmt.Fprintf(stderr, "starter collections set: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(stdout, "Created schedule %s (daily at 06:00 UTC; change it with starter schedule --at HH:MM --time-zone ZONE).\n", conn.env.ScheduleID)
	case err != nil:
		fmt.Fprintf(stderr, "starter collections set: %v\n", err)
		return exitFailure
	default:
		fmt.Fprintf(stdout, "Schedule %s now syncs %s.\n", conn.env.ScheduleID, describeSelection(selection))
	}

	return startSync(ctx, conn, selection, "collections-set", *noWait, *timeout, stdout, stderr)
}

func runCollectionsShow(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("collections show", "collections show", stderr)
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	conn, err := connect(ctx, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "starter collections show: %v\n", err)
		return exitFailure
	}
	defer conn.Close()
	return printSchedule(ctx, conn, stdout, stderr)
}
