package activities

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/autoexposures/autoexposures/internal/store"
)

// syncBuffer is a log sink that handlers may write to from several
// goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A server that hangs must fail the attempt with a retryable
// ArtifactUnavailable error naming the URL and the cause, and must see its
// request cancelled so no connection stays open.
func TestLoadArtifactsHangingServer(t *testing.T) {
	short := downloadTimeouts{Connect: time.Second, TLSHandshake: time.Second, ResponseHeader: 200 * time.Millisecond, Stall: 200 * time.Millisecond}
	saved := artifactDownloads
	artifactDownloads = newDownloader(short)
	t.Cleanup(func() { artifactDownloads = saved })

	tests := []struct {
		name        string
		path        string
		wantMessage string
	}{
		{name: "no response headers", path: "/hang", wantMessage: "timed out"},
		{name: "body stalls", path: "/slowbody", wantMessage: "no data received for 200ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			released := make(chan struct{})
			cancelled := make(chan struct{}, 1)
			mux := http.NewServeMux()
			mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
				waitForEnd(r, released, cancelled)
			})
			mux.HandleFunc("/slowbody", func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusOK)
				w.Write([]byte(`{"metadata": {`))
				w.(http.Flusher).Flush()
				waitForEnd(r, released, cancelled)
			})
			srv := httptest.NewServer(mux)
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(released) })

			st, err := store.New(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			acts := &Activities{Store: st}
			logs := &syncBuffer{}
			var suite testsuite.WorkflowTestSuite
			suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(logs, nil))))
			env := suite.NewTestActivityEnvironment()
			env.SetTestTimeout(30 * time.Second)
			env.RegisterActivityWithOptions(acts.LoadArtifacts, activity.RegisterOptions{Name: LoadArtifactsName})

			location := srv.URL + tt.path + "?signature=hidden"
			_, err = env.ExecuteActivity(LoadArtifactsName, LoadArtifactsInput{DbtRunID: "run-hang", ManifestLocation: location})

			var appErr *temporal.ApplicationError
			if !errors.As(err, &appErr) {
				t.Fatalf("error = %v, want an application error", err)
			}
			if appErr.Type() != ErrTypeArtifactUnavailable {
				t.Errorf("error type = %q, want %q (%v)", appErr.Type(), ErrTypeArtifactUnavailable, err)
			}
			if appErr.NonRetryable() {
				t.Errorf("error %v is non-retryable, want retryable", err)
			}
			if !strings.Contains(err.Error(), srv.URL+tt.path) {
				t.Errorf("error = %v, want it to name %s", err, srv.URL+tt.path)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantMessage)
			}
			if strings.Contains(err.Error(), "hidden") {
				t.Errorf("error shows the URL's query: %v", err)
			}
			select {
			case <-cancelled:
			case <-time.After(10 * time.Second):
				t.Error("the server's request was not cancelled after the attempt failed")
			}
			if got := logs.String(); !strings.Contains(got, "dbt_run_id=run-hang") || !strings.Contains(got, "fetching artifact failed") {
				t.Errorf("logs lack the failed attempt with its dbt run ID:\n%s", got)
			}
		})
	}
}

// waitForEnd blocks a handler until the client goes away, which it reports
// on cancelled, or until the test releases it.
func waitForEnd(r *http.Request, released <-chan struct{}, cancelled chan<- struct{}) {
	select {
	case <-r.Context().Done():
		cancelled <- struct{}{}
	case <-released:
	}
}
