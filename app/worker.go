package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/worker"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/store"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/workflows"
)

// WorkerOptions returns the worker options the worker process uses.
//
// WorkerStopTimeout is how long a stopping worker lets running activities
// finish before cancelling them. A cancelled lineage read resumes from its
// last heartbeat on the next worker, so waiting longer gains little.
//
// MaxHeartbeatThrottleInterval bounds how long the SDK holds back heartbeat
// details. Without it the SDK sends them at most every 80% of the heartbeat
// timeout (24 s for the lineage read), and a worker killed in between loses
// that much recorded progress.
func WorkerOptions() worker.Options {
	return worker.Options{
		WorkerStopTimeout:            10 * time.Second,
		MaxHeartbeatThrottleInterval: 3 * time.Second,
	}
}

// Config is everything the worker reads from its environment.
type Config struct {
	Settings config.Settings
	Temporal config.Temporal
	Tableau  tableau.Config
}

// LoadConfig reads the worker's configuration from the process
// environment. The error lists every problem of every part at once.
func LoadConfig(ctx context.Context) (Config, error) {
	return LoadConfigFrom(ctx, envconfig.OsLookuper())
}

// LoadConfigFrom reads the worker's configuration from l.
func LoadConfigFrom(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	var settingsErr, temporalErr, tableauErr error
	cfg.Settings, settingsErr = config.LoadFrom(ctx, l)
	cfg.Temporal, temporalErr = config.LoadTemporalFrom(ctx, l)

	// The Tableau variables are decoded here rather than by
	// tableau.LoadConfig, which stops at the first missing one.
	if problems := config.Decode(ctx, &cfg.Tableau, l); len(problems) > 0 {
		tableauErr = &config.Error{Problems: problems}
	} else if cfg.Tableau, tableauErr = cfg.Tableau.Resolve(); tableauErr != nil {
		tableauErr = fmt.Errorf("invalid Tableau configuration: %w", tableauErr)
	}
	return cfg, config.Join(settingsErr, temporalErr, tableauErr)
}

// RunWorker runs a worker with cfg until ctx is cancelled, then stops it
// gracefully: polling stops at once and running activities get the
// WorkerStopTimeout of WorkerOptions to finish.
func RunWorker(ctx context.Context, cfg Config, logger *slog.Logger) error {
	st, err := store.New(cfg.Settings.StateDir)
	if err != nil {
		return fmt.Errorf("opening the state directory: %w", err)
	}
	tc, err := tableau.New(cfg.Tableau, tableau.WithLogger(logger))
	if err != nil {
		return fmt.Errorf("creating the Tableau client: %w", err)
	}
	if err := CheckTableau(ctx, tc, TableauCheckTimeout, logger); err != nil {
		return err
	}
	c, err := Dial(ctx, cfg.Temporal, logger)
	if err != nil {
		return err
	}
	defer c.Close()

	w := worker.New(c, cfg.Settings.TaskQueue, WorkerOptions())
	workflows.Register(w, &activities.Activities{
		Tableau:  tc,
		Store:    st,
		Settings: cfg.Settings,
		Logger:   logger,
		// The first post-job run reads the daily schedule's selection.
		Schedules: c.ScheduleClient(),
	})
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting the worker on task queue %s: %w", cfg.Settings.TaskQueue, err)
	}
	logger.Info("worker started", "task_queue", cfg.Settings.TaskQueue,
		"temporal_address", cfg.Temporal.Address, "namespace", cfg.Temporal.Namespace, "tls", cfg.Temporal.TLS(),
		"state_dir", st.Root(), "exposures_file", cfg.Settings.ExposuresPath, "tableau", cfg.Tableau)

	<-ctx.Done()
	logger.Info("worker stopping", "task_queue", cfg.Settings.TaskQueue)
	w.Stop()

	signOutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tc.SignOut(signOutCtx); err != nil && !errors.Is(err, context.Canceled) {
		logger.Warn("signing out of Tableau failed", "error", err)
	}
	logger.Info("worker stopped", "task_queue", cfg.Settings.TaskQueue)
	return nil
}
