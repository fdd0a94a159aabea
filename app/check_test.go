package app_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/app"
	"github.com/autoexposures/autoexposures/internal/config"
	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const (
	checkTokenName   = "check-test-token"
	checkTokenSecret = "check-test-secret-must-not-leak"
	wrongSecret      = "wrong-secret-must-not-leak"
)

// startCheckSite starts a simulator whose site accepts one token.
func startCheckSite(t *testing.T) string {
	t.Helper()
	site := &tableausim.Site{
		Snapshot: tableau.Snapshot{
			FormatVersion: tableau.SnapshotFormatVersion,
			ServerURL:     "https://sim.tableau.test",
			Site:          "acme",
			SiteLUID:      "f3000000-0000-4000-8000-000000000001",
		},
		Simulator: tableausim.Settings{Tokens: []tableausim.Token{{Name: checkTokenName, Secret: checkTokenSecret}}},
	}
	sim := tableausim.New(site)
	if err := sim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	return sim.URL()
}

// unreachableURL returns the URL of a loopback port nothing listens on.
func unreachableURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

func TestCheckTableau(t *testing.T) {
	simURL := startCheckSite(t)
	tests := []struct {
		name      string
		serverURL string
		secret    string
		wantErr   bool
		wantLog   string
	}{
		{name: "valid credentials", serverURL: simURL, secret: checkTokenSecret, wantLog: "tableau credentials accepted"},
		{name: "wrong secret", serverURL: simURL, secret: wrongSecret, wantErr: true},
		{name: "unreachable server", serverURL: unreachableURL(t), secret: checkTokenSecret, wantLog: "starting anyway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, nil))
			tc, err := tableau.New(tableau.Config{
				ServerURL: tt.serverURL, Site: "acme", TokenName: checkTokenName, TokenSecret: tt.secret,
				MaxAttempts: 2, MaxRetryWait: 100 * time.Millisecond,
			}, tableau.WithLogger(logger))
			if err != nil {
				t.Fatal(err)
			}

			err = app.CheckTableau(context.Background(), tc, 5*time.Second, logger)

			if tt.wantErr {
				if !errors.Is(err, tableau.ErrInvalidCredentials) {
					t.Fatalf("error = %v, want ErrInvalidCredentials", err)
				}
				if !strings.Contains(err.Error(), "TABLEAU_TOKEN_SECRET") {
					t.Errorf("error %q does not say which settings to check", err)
				}
			} else if err != nil {
				t.Fatalf("error = %v, want nil", err)
			}
			if !strings.Contains(logs.String(), tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, logs.String())
			}
			for _, secret := range []string{checkTokenSecret, wrongSecret} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error shows the token secret: %v", err)
				}
				if strings.Contains(logs.String(), secret) {
					t.Error("log shows the token secret")
				}
			}
		})
	}
}

func TestCheckTableauTimesOut(t *testing.T) {
	// A server that accepts connections and never responds.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	tc, err := tableau.New(tableau.Config{
		ServerURL: "http://" + l.Addr().String(), Site: "acme", TokenName: checkTokenName, TokenSecret: checkTokenSecret,
	}, tableau.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}

	err = app.CheckTableau(context.Background(), tc, 500*time.Millisecond, logger)

	if err != nil {
		t.Fatalf("error = %v, want nil: a silent server is only warned about", err)
	}
	if !strings.Contains(logs.String(), "starting anyway") {
		t.Errorf("log lacks the warning:\n%s", logs.String())
	}
}

func TestCheckTableauStopped(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	tc, err := tableau.New(tableau.Config{
		ServerURL: unreachableURL(t), Site: "acme", TokenName: checkTokenName, TokenSecret: checkTokenSecret,
	}, tableau.WithLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	err = app.CheckTableau(ctx, tc, 5*time.Second, logger)

	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled for a worker stopped while signing in", err)
	}
}

func TestRunWorkerStopsOnInvalidCredentials(t *testing.T) {
	var logs bytes.Buffer
	cfg := app.Config{
		Settings: config.Settings{StateDir: t.TempDir(), ExposuresPath: "out/tableau_exposures.yml", TaskQueue: "autoexposures-check-test"},
		// Nothing listens here: the worker must stop before it dials.
		Temporal: config.Temporal{Address: strings.TrimPrefix(unreachableURL(t), "http://"), Namespace: "default"},
		Tableau:  tableau.Config{ServerURL: startCheckSite(t), Site: "acme", TokenName: checkTokenName, TokenSecret: wrongSecret},
	}

	err := app.RunWorker(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))

	if !errors.Is(err, tableau.ErrInvalidCredentials) {
		t.Fatalf("RunWorker error = %v, want ErrInvalidCredentials", err)
	}
	if strings.Contains(err.Error(), wrongSecret) || strings.Contains(logs.String(), wrongSecret) {
		t.Error("the token secret appears in the error or the log")
	}
}
