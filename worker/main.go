// Command worker runs the autoexposures Temporal worker: the collection
// sync, the post-job lineage run and the extract refreshes. It reads its
// configuration from AUTOEXPOSURES_*, TEMPORAL_* and TABLEAU_* environment
// variables and stops gracefully on SIGINT or SIGTERM.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/autoexposures/autoexposures/app"
)

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	cfg, err := app.LoadConfig(ctx)
	if err != nil {
		// Printed as is, one problem a line, for the operator to fix at once.
		fmt.Fprintln(os.Stderr, "worker not started:", err)
		os.Exit(2)
	}
	if err := app.RunWorker(ctx, cfg, logger); err != nil {
		logger.Error("worker failed", "error", err)
		os.Exit(1)
	}
}
