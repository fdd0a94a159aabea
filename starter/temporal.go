package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"

	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
)

// starterEnv is the part of the worker's configuration that the starter
// needs. It is read on its own so that variables only the worker uses,
// such as a curation file path, need not be valid where the starter runs.
type starterEnv struct {
	TaskQueue string `env:"AUTOEXPOSURES_TASK_QUEUE, default=autoexposures"`
	// ScheduleID names the daily sync schedule.
	ScheduleID string `env:"AUTOEXPOSURES_SCHEDULE_ID, default=autoexposures-daily-sync"`
}

func loadStarterEnv(ctx context.Context, lookup envconfig.Lookuper) (starterEnv, error) {
	var env starterEnv
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &env, Lookuper: lookup}); err != nil {
		return env, fmt.Errorf("reading AUTOEXPOSURES_* variables: %w", err)
	}
	if env.TaskQueue == "" {
		return env, fmt.Errorf("AUTOEXPOSURES_TASK_QUEUE is empty: unset it for the default autoexposures or name a task queue")
	}
	if env.ScheduleID == "" {
		return env, fmt.Errorf("AUTOEXPOSURES_SCHEDULE_ID is empty: unset it for the default autoexposures-daily-sync or name a schedule")
	}
	return env, nil
}

// connection is the Temporal client and settings of a command that talks
// to Temporal.
type connection struct {
	client client.Client
	env    starterEnv
	// address and namespace are for messages.
	address   string
	namespace string
}

// connect reads the Temporal and starter settings from the environment and
// dials the server. SDK warnings go to stderr.
func connect(ctx context.Context, stderr io.Writer) (*connection, error) {
	env, err := loadStarterEnv(ctx, envconfig.OsLookuper())
	if err != nil {
		return nil, err
	}
	tc, err := config.LoadTemporal(ctx)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := app.Dial(ctx, tc, logger)
	if err != nil {
		return nil, err
	}
	return &connection{client: c, env: env, address: tc.Address, namespace: tc.Namespace}, nil
}

func (c *connection) Close() { c.client.Close() }
