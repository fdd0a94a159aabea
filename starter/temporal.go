package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/sethvargo/go-envconfig"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

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
	opts, err := clientOptions(tc, stderr)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %s): %w; check TEMPORAL_ADDRESS and that the server runs", tc.Address, tc.Namespace, err)
	}
	return &connection{client: c, env: env, address: tc.Address, namespace: tc.Namespace}, nil
}

func (c *connection) Close() { c.client.Close() }

// clientOptions turns the connection settings into SDK options: TLS when
// any certificate or an API key is set, the API key as credentials.
func clientOptions(tc config.Temporal, stderr io.Writer) (client.Options, error) {
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := client.Options{
		HostPort:  tc.Address,
		Namespace: tc.Namespace,
		Logger:    sdklog.NewStructuredLogger(logger),
	}
	if tc.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(string(tc.APIKey))
	}
	if !tc.TLS() {
		return opts, nil
	}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: tc.TLSServerName}
	if tc.TLSCertPath != "" {
		cert, err := tls.LoadX509KeyPair(tc.TLSCertPath, tc.TLSKeyPath)
		if err != nil {
			return opts, fmt.Errorf("loading TEMPORAL_TLS_CERT %s and TEMPORAL_TLS_KEY %s: %w", tc.TLSCertPath, tc.TLSKeyPath, err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	if tc.TLSCAPath != "" {
		pem, err := os.ReadFile(tc.TLSCAPath)
		if err != nil {
			return opts, fmt.Errorf("reading TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return opts, fmt.Errorf("TEMPORAL_TLS_CA %s contains no PEM certificate", tc.TLSCAPath)
		}
		tlsConfig.RootCAs = pool
	}
	opts.ConnectionOptions.TLS = tlsConfig
	return opts, nil
}
