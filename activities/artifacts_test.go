package activities_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/activities"
	"github.com/autoexposures/autoexposures/internal/store"
)

// artifactServer serves the repository's files under /files/ and responds
// to /status/<code> with that status, on 127.0.0.1.
func artifactServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(".."))))
	mux.HandleFunc("/status/503", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "7")
		http.Error(w, "busy", http.StatusServiceUnavailable)
	})
	mux.HandleFunc("/status/404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	mux.HandleFunc("/status/403", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestLoadArtifactsStoresFiles(t *testing.T) {
	srv := artifactServer(t)
	tests := []struct {
		name                 string
		manifest, runResults string
	}{
		{"local paths", manifestFile, runResults},
		{"file URLs", "file://" + mustAbs(t, manifestFile), "file://" + mustAbs(t, runResults)},
		{"http URLs with a signature", srv.URL + "/files/internal/demo/assets/manifest.json?signature=abc",
			srv.URL + "/files/internal/demo/assets/run_results.json?signature=abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)

			got, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
				DbtRunID: "run-1", ManifestLocation: tt.manifest, RunResultsLocation: tt.runResults,
			})
			if err != nil {
				t.Fatal(err)
			}

			manifestHash, manifestSize := fileHash(t, manifestFile)
			runResultsHash, runResultsSize := fileHash(t, runResults)
			want := activities.LoadArtifactsResult{
				Manifest:       store.Ref{Kind: store.KindManifest, Hash: manifestHash, Size: manifestSize},
				RunResults:     store.Ref{Kind: store.KindRunResults, Hash: runResultsHash, Size: runResultsSize},
				ProjectName:    got.ProjectName,
				DbtVersion:     got.DbtVersion,
				AdapterType:    got.AdapterType,
				SchemaVersion:  12,
				Nodes:          got.Nodes,
				Sources:        got.Sources,
				RunResultCount: got.RunResultCount,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			if got.ProjectName == "" || got.Nodes == 0 || got.Sources == 0 || got.RunResultCount == 0 {
				t.Errorf("result lacks the manifest's facts: %+v", got)
			}
		})
	}
}

func mustAbs(t *testing.T, rel string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return wd + "/" + rel
}

func TestLoadArtifactsErrors(t *testing.T) {
	srv := artifactServer(t)
	dir := t.TempDir()
	tests := []struct {
		name          string
		manifest      string
		runResults    string
		wantType      string
		nonRetryable  bool
		wantMessage   string
		wantNextDelay time.Duration
	}{
		{"run results given as manifest", runResults, "", activities.ErrTypeInvalidArtifact, true, "manifest", 0},
		{"manifest given as run results", manifestFile, manifestFile, activities.ErrTypeInvalidArtifact, true, "run", 0},
		{"missing file", dir + "/target/manifest.json", "", activities.ErrTypeArtifactUnavailable, true, "does not exist on the worker", 0},
		{"directory", dir, "", activities.ErrTypeArtifactUnavailable, true, "is a directory", 0},
		{"HTTP 404", srv.URL + "/status/404?token=hidden", "", activities.ErrTypeArtifactUnavailable, true, "HTTP 404", 0},
		{"HTTP 403", srv.URL + "/status/403", "", activities.ErrTypeArtifactUnavailable, true, "access denied", 0},
		{"HTTP 503 with Retry-After", srv.URL + "/status/503?token=hidden", "", activities.ErrTypeArtifactUnavailable, false, "HTTP 503", 7 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)

			_, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
				DbtRunID: "run-1", ManifestLocation: tt.manifest, RunResultsLocation: tt.runResults,
			})

			if err == nil {
				t.Fatal("LoadArtifacts succeeded, want an error")
			}
			appErr := applicationError(t, err)
			if appErr.Type() != tt.wantType {
				t.Errorf("error type = %q, want %q (%v)", appErr.Type(), tt.wantType, err)
			}
			if appErr.NonRetryable() != tt.nonRetryable {
				t.Errorf("NonRetryable = %v, want %v (%v)", appErr.NonRetryable(), tt.nonRetryable, err)
			}
			if !strings.Contains(err.Error(), tt.wantMessage) {
				t.Errorf("error = %v, want it to contain %q", err, tt.wantMessage)
			}
			if appErr.NextRetryDelay() != tt.wantNextDelay {
				t.Errorf("NextRetryDelay = %s, want %s", appErr.NextRetryDelay(), tt.wantNextDelay)
			}
			if strings.Contains(err.Error(), "hidden") {
				t.Errorf("error shows the URL's query: %v", err)
			}
		})
	}
}

func TestLatestRoundTrip(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)
	env := f.env()

	none, err := run[store.Ref](t, env, activities.GetLatestName, store.KindManifest)
	if err != nil {
		t.Fatal(err)
	}
	if !none.IsZero() {
		t.Errorf("GetLatest before any SetLatest = %v, want a zero ref", none)
	}

	ref := loadManifest(t, f)
	if _, err := env.ExecuteActivity(activities.SetLatestName, activities.SetLatestInput{Kind: store.KindManifest, Ref: ref}); err != nil {
		t.Fatal(err)
	}
	got, err := run[store.Ref](t, f.env(), activities.GetLatestName, store.KindManifest)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ref, got); diff != "" {
		t.Errorf("GetLatest (-want +got):\n%s", diff)
	}

	missing := store.Ref{Kind: store.KindManifest, Hash: strings.Repeat("b", 64), Size: 3}
	_, err = f.env().ExecuteActivity(activities.SetLatestName, activities.SetLatestInput{Kind: store.KindManifest, Ref: missing})
	if appErr := applicationError(t, err); !appErr.NonRetryable() {
		t.Errorf("SetLatest of a missing blob: error %v is retryable, want non-retryable", err)
	}
}

func TestLatestRejectsInvalidKind(t *testing.T) {
	f := newFixture(t, siteFile, tokenName, tokenSecret)

	_, err := f.env().ExecuteActivity(activities.GetLatestName, "../manifest")

	if appErr := applicationError(t, err); !appErr.NonRetryable() || appErr.Type() != activities.ErrTypeInvalidInput {
		t.Errorf("GetLatest of kind ../manifest: error %v, want a non-retryable %s", err, activities.ErrTypeInvalidInput)
	}
}

// A URL with user information would keep the password in the workflow
// history, so LoadArtifacts rejects it without fetching anything.
func TestLoadArtifactsRejectsURLCredentials(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	withCredentials := strings.Replace(srv.URL, "http://", "http://reader:s3cretpw@", 1)

	tests := []struct {
		name       string
		manifest   string
		runResults string
		wantWhat   string
	}{
		{name: "manifest URL", manifest: withCredentials + "/manifest.json", wantWhat: "the manifest URL " + srv.URL + "/manifest.json"},
		{name: "run results URL", manifest: manifestFile, runResults: withCredentials + "/run_results.json", wantWhat: "the run results URL " + srv.URL + "/run_results.json"},
		{name: "user without password", manifest: strings.Replace(srv.URL, "http://", "http://reader@", 1) + "/manifest.json", wantWhat: "the manifest URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)

			_, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
				DbtRunID: "run-creds", ManifestLocation: tt.manifest, RunResultsLocation: tt.runResults,
			})

			if err == nil {
				t.Fatal("LoadArtifacts succeeded, want an error")
			}
			appErr := applicationError(t, err)
			if appErr.Type() != activities.ErrTypeInvalidInput {
				t.Errorf("error type = %q, want %q (%v)", appErr.Type(), activities.ErrTypeInvalidInput, err)
			}
			if !appErr.NonRetryable() {
				t.Errorf("error %v is retryable, want non-retryable", err)
			}
			for _, want := range []string{tt.wantWhat, "credentials in a URL are stored in the workflow history", "pre-signed URL"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			if strings.Contains(err.Error(), "s3cretpw") {
				t.Errorf("error shows the password: %v", err)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("the server got %d requests, want none", n)
			}
		})
	}
}

// A manifest of another dbt project would replace every exposure, so it is
// rejected before it can become the latest, unless the change is requested.
func TestLoadArtifactsProjectChange(t *testing.T) {
	const (
		jaffleV12 = "../testdata/manifests/artifacts-parser_jaffle_shop_v12_dbt1.12.json" // project jaffle_shop
		sandbox   = "../testdata/manifests/dbt-metabase_manifest-v12.json"                // project sandbox
	)
	tests := []struct {
		name     string
		manifest string
		allow    bool
		wantErr  bool
	}{
		{name: "same manifest again", manifest: manifestFile},
		{name: "same project, new manifest", manifest: jaffleV12},
		{name: "other project", manifest: sandbox, wantErr: true},
		{name: "other project allowed", manifest: sandbox, allow: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, siteFile, tokenName, tokenSecret)
			latest := loadManifest(t, f) // project jaffle_shop
			if err := f.store.SetLatest(store.KindManifest, latest); err != nil {
				t.Fatal(err)
			}

			got, err := run[activities.LoadArtifactsResult](t, f.env(), activities.LoadArtifactsName, activities.LoadArtifactsInput{
				DbtRunID: "run-other", ManifestLocation: tt.manifest, AllowProjectChange: tt.allow,
			})

			if !tt.wantErr {
				if err != nil {
					t.Fatalf("LoadArtifacts: %v", err)
				}
				if got.Manifest.IsZero() {
					t.Errorf("result names no manifest: %+v", got)
				}
				return
			}
			if err == nil {
				t.Fatal("LoadArtifacts succeeded, want an error")
			}
			appErr := applicationError(t, err)
			if appErr.Type() != activities.ErrTypeInvalidArtifact {
				t.Errorf("error type = %q, want %q (%v)", appErr.Type(), activities.ErrTypeInvalidArtifact, err)
			}
			if !appErr.NonRetryable() {
				t.Errorf("error %v is retryable, want non-retryable", err)
			}
			pointer := filepath.Join(f.store.Root(), "latest", "manifest.json")
			for _, want := range []string{`project "sandbox"`, `project "jaffle_shop"`, "run-other", "nothing was changed", "delete " + pointer} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error = %v, want it to contain %q", err, want)
				}
			}
			now, err := f.store.Latest(store.KindManifest)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(latest, now); diff != "" {
				t.Errorf("latest manifest changed (-want +got):\n%s", diff)
			}
		})
	}
}
