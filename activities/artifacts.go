package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/store"
)

// LoadArtifactsInput contains the locations of a dbt run's artifacts: a path the
// worker can read (or a file:// URL), or an http(s) URL.
type LoadArtifactsInput struct {
	DbtRunID         string
	ManifestLocation string
	// RunResultsLocation is optional; without it nothing is found stale.
	RunResultsLocation string `json:",omitempty"`
}

// LoadArtifactsResult names the stored artifacts and summarizes them.
type LoadArtifactsResult struct {
	Manifest   store.Ref
	RunResults store.Ref `json:",omitzero"`
	// Manifest facts, for summaries.
	ProjectName   string `json:",omitempty"`
	DbtVersion    string `json:",omitempty"`
	AdapterType   string `json:",omitempty"`
	SchemaVersion int
	Nodes         int
	Sources       int
	// RunResultCount counts the nodes in run_results.json.
	RunResultCount int `json:",omitempty"`
}

// LoadArtifacts copies the manifest (and run results, when given) into the
// store as it reads them, then checks that they are dbt artifacts of a
// supported version. An artifact that is missing, refused or invalid is
// non-retryable; a network failure or a server error is retried.
func (a *Activities) LoadArtifacts(ctx context.Context, in LoadArtifactsInput) (LoadArtifactsResult, error) {
	logger := activity.GetLogger(ctx)
	if strings.TrimSpace(in.ManifestLocation) == "" {
		return LoadArtifactsResult{}, invalidInput("dbt run %s: the manifest location is empty: pass the path or URL of manifest.json", in.DbtRunID)
	}

	manifestRef, err := a.fetch(ctx, store.KindManifest, in.ManifestLocation)
	if err != nil {
		return LoadArtifactsResult{}, err
	}
	// The download heartbeats as bytes arrive; decoding needs its own
	// heartbeats, because a large manifest takes seconds to decode.
	stop := keepAlive(ctx)
	m, err := a.manifest(manifestRef, displayLocation(in.ManifestLocation))
	stop()
	if err != nil {
		return LoadArtifactsResult{}, artifactError(err)
	}
	res := LoadArtifactsResult{
		Manifest:      manifestRef,
		ProjectName:   m.ProjectName,
		DbtVersion:    m.DbtVersion,
		AdapterType:   m.AdapterType,
		SchemaVersion: m.SchemaVersion,
		Nodes:         len(m.Nodes),
		Sources:       len(m.Sources),
	}
	logger.Info("manifest stored", "dbt_run_id", in.DbtRunID, "manifest", manifestRef.Hash,
		"size", manifestRef.Size, "nodes", res.Nodes, "sources", res.Sources, "project", m.ProjectName)

	if strings.TrimSpace(in.RunResultsLocation) == "" {
		return res, nil
	}
	runResultsRef, err := a.fetch(ctx, store.KindRunResults, in.RunResultsLocation)
	if err != nil {
		return LoadArtifactsResult{}, err
	}
	stop = keepAlive(ctx)
	rr, err := a.runResults(runResultsRef, displayLocation(in.RunResultsLocation))
	stop()
	if err != nil {
		return LoadArtifactsResult{}, artifactError(err)
	}
	res.RunResults = runResultsRef
	res.RunResultCount = len(rr.Results)
	logger.Info("run results stored", "dbt_run_id", in.DbtRunID, "run_results", runResultsRef.Hash, "results", len(rr.Results))
	return res, nil
}

// artifactError classifies an error from reading a stored artifact.
func artifactError(err error) error {
	if errors.Is(err, dbt.ErrInvalidArtifact) {
		return temporal.NewNonRetryableApplicationError(err.Error()+": point the job at the target/ files of a finished dbt run", ErrTypeInvalidArtifact, nil)
	}
	return storeError("reading stored artifact", err)
}

// fetch streams the file or URL at location into the store, heartbeating
// as bytes arrive, so that a large manifest is never held in memory whole.
func (a *Activities) fetch(ctx context.Context, kind, location string) (store.Ref, error) {
	name := displayLocation(location)
	body, err := openLocation(ctx, location)
	if err != nil {
		return store.Ref{}, err
	}
	defer body.Close()

	ref, err := a.Store.Put(kind, &heartbeatReader{ctx: ctx, r: body})
	if err != nil {
		if ctx.Err() != nil {
			return store.Ref{}, ctx.Err()
		}
		return store.Ref{}, temporal.NewApplicationError(fmt.Sprintf("reading %s %s: %v", kind, name, err), ErrTypeStore)
	}
	return ref, nil
}

// openLocation opens a local path, a file:// URL or an http(s) URL.
func openLocation(ctx context.Context, location string) (io.ReadCloser, error) {
	name := displayLocation(location)
	u, err := url.Parse(location)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return openURL(ctx, u, name)
	}
	path := location
	if err == nil && u.Scheme == "file" {
		path = u.Path
	}

	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s does not exist on the worker: pass a path the worker can read, or an http(s) URL", name),
			ErrTypeArtifactUnavailable, nil)
	case errors.Is(err, fs.ErrPermission):
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s cannot be read by the worker (permission denied): make it readable by the worker's user", name),
			ErrTypeArtifactUnavailable, nil)
	case err != nil:
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	if info, err := f.Stat(); err == nil && info.IsDir() {
		f.Close()
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("%s is a directory: pass the path of the file, such as target/manifest.json", name),
			ErrTypeArtifactUnavailable, nil)
	}
	return f, nil
}

// openURL sends a GET and returns the body of a 200 response. 404, 401 and
// 403 are non-retryable; 429 and 5xx retry, after Retry-After when given.
func openURL(ctx context.Context, u *url.URL, name string) (io.ReadCloser, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, invalidInput("invalid artifact URL %s: %v", name, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		// The error contains the URL with its query, which may hold a
		// signature, so only its cause is kept.
		return nil, temporal.NewApplicationError(fmt.Sprintf("fetching %s failed: %v", name, errors.Unwrap(err)), ErrTypeArtifactUnavailable)
	}
	if resp.StatusCode == http.StatusOK {
		return resp.Body, nil
	}
	resp.Body.Close()

	msg := fmt.Sprintf("fetching %s: HTTP %d", name, resp.StatusCode)
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return nil, temporal.NewNonRetryableApplicationError(msg+": check the URL of the artifact", ErrTypeArtifactUnavailable, nil)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return nil, temporal.NewNonRetryableApplicationError(msg+": access denied: use a URL the worker may read", ErrTypeArtifactUnavailable, nil)
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		opts := temporal.ApplicationErrorOptions{}
		if secs, err := time.ParseDuration(resp.Header.Get("Retry-After") + "s"); err == nil && secs > 0 {
			opts.NextRetryDelay = secs
		}
		return nil, temporal.NewApplicationErrorWithOptions(msg, ErrTypeArtifactUnavailable, opts)
	}
	return nil, temporal.NewNonRetryableApplicationError(msg+": expected 200 with the artifact's content", ErrTypeArtifactUnavailable, nil)
}

// displayLocation returns location without a URL's query, fragment and user
// information, which may hold a signature or token.
func displayLocation(location string) string {
	u, err := url.Parse(location)
	if err != nil || u.Scheme == "" || len(u.Scheme) == 1 {
		return location
	}
	u.User = nil
	u.RawQuery = ""
	u.Fragment = ""
	return u.String()
}

// heartbeatReader heartbeats every few seconds while bytes arrive, so that
// a slow download of a large manifest stays alive and a stalled one times
// out.
type heartbeatReader struct {
	ctx  context.Context
	r    io.Reader
	n    int64
	last time.Time
}

const heartbeatEvery = 5 * time.Second

func (h *heartbeatReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	if now := time.Now(); now.Sub(h.last) >= heartbeatEvery {
		h.last = now
		activity.RecordHeartbeat(h.ctx, h.n)
	}
	return n, err
}
