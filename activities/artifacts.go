package activities

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
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
	// AllowProjectChange accepts a manifest of another dbt project than the
	// latest manifest's. Without it such a manifest is rejected, because it
	// would replace every exposure of the current project.
	AllowProjectChange bool `json:",omitempty"`
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
	if err := checkNoCredentials(in.DbtRunID, "manifest", in.ManifestLocation); err != nil {
		return LoadArtifactsResult{}, err
	}
	if err := checkNoCredentials(in.DbtRunID, "run results", in.RunResultsLocation); err != nil {
		return LoadArtifactsResult{}, err
	}

	manifestRef, err := a.fetch(ctx, in.DbtRunID, store.KindManifest, in.ManifestLocation)
	if err != nil {
		return LoadArtifactsResult{}, err
	}
	// Decoding needs heartbeats because a large manifest takes seconds to
	// decode. The latest manifest is decoded first so that the decode cache
	// keeps the new one, which the next activities read.
	stop := keepAlive(ctx)
	latestProject, latestRef := a.latestProject(ctx, manifestRef)
	m, err := a.manifest(manifestRef, displayLocation(in.ManifestLocation))
	stop()
	if err != nil {
		return LoadArtifactsResult{}, artifactError(err)
	}
	if err := a.checkSameProject(in, latestProject, latestRef, m.ProjectName); err != nil {
		logger.Warn("manifest rejected: another dbt project", "dbt_run_id", in.DbtRunID,
			"project", m.ProjectName, "latest_project", latestProject, "latest_manifest", latestRef.Hash)
		return LoadArtifactsResult{}, err
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
	runResultsRef, err := a.fetch(ctx, in.DbtRunID, store.KindRunResults, in.RunResultsLocation)
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

// checkNoCredentials rejects a URL with user information. The location is
// part of the workflow input, so a password in it would be kept in the
// workflow history and shown in the Web UI.
func checkNoCredentials(dbtRunID, what, location string) error {
	u, err := url.Parse(location)
	if err != nil || u.User == nil || u.Scheme == "" || len(u.Scheme) == 1 {
		return nil
	}
	return invalidInput("dbt run %s: the %s URL %s contains credentials (user or password): "+
		"credentials in a URL are stored in the workflow history and shown in the Web UI, "+
		"so pass a path the worker can read, a pre-signed URL, or a URL that needs no credentials, "+
		"and change that password", dbtRunID, what, displayLocation(location))
}

// latestProject returns the dbt project of the latest manifest and its ref.
// It returns "" when there is no latest manifest, when it is newRef itself,
// or when it cannot be read, because then there is nothing to compare.
func (a *Activities) latestProject(ctx context.Context, newRef store.Ref) (string, store.Ref) {
	latest, err := a.Store.Latest(store.KindManifest)
	if err != nil || latest.IsZero() || latest.Hash == newRef.Hash {
		return "", latest
	}
	m, err := a.manifest(latest, "latest manifest "+latest.Short())
	if err != nil {
		activity.GetLogger(ctx).Warn("latest manifest unreadable: project not compared", "manifest", latest.Hash, "error", err)
		return "", latest
	}
	return m.ProjectName, latest
}

// checkSameProject rejects a manifest of another dbt project than the latest
// manifest's unless in allows the change. The rejection comes before the
// workflow sets anything as latest, so the current exposures stay.
func (a *Activities) checkSameProject(in LoadArtifactsInput, latestProject string, latestRef store.Ref, project string) error {
	if in.AllowProjectChange || latestProject == "" || project == "" || latestProject == project {
		return nil
	}
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(
		"dbt run %s: the manifest %s is of dbt project %q, but the latest manifest %s is of project %q: "+
			"it would replace every exposure of %q, so nothing was changed. "+
			"Send each project's notices to a worker with its own state directory, "+
			"or, to switch this worker to %q on purpose, delete %s and send the notice again",
		in.DbtRunID, displayLocation(in.ManifestLocation), project, latestRef.Short(), latestProject,
		latestProject, project, a.latestPointerPath()), ErrTypeInvalidArtifact, nil)
}

// latestPointerPath returns the file that names the latest manifest, or a
// description of it when the store is not a directory.
func (a *Activities) latestPointerPath() string {
	root := a.Settings.StateDir
	if d, ok := a.Store.(*store.Dir); ok {
		root = d.Root()
	}
	if root == "" {
		return "the latest manifest pointer of the store"
	}
	return filepath.Join(root, "latest", store.KindManifest+".json")
}

// fetch streams the file or URL at location into the store, so that a large
// manifest is never held in memory whole. It heartbeats throughout, so the
// download's own time-outs, not the heartbeat time-out, end a stalled
// download with an error that names the location. Each failure is logged.
func (a *Activities) fetch(ctx context.Context, dbtRunID, kind, location string) (store.Ref, error) {
	stop := keepAlive(ctx)
	defer stop()

	ref, err := a.fetchOnce(ctx, kind, location)
	if err != nil {
		activity.GetLogger(ctx).Warn("fetching artifact failed", "dbt_run_id", dbtRunID, "kind", kind,
			"location", displayLocation(location), "attempt", activity.GetInfo(ctx).Attempt, "error", err)
	}
	return ref, err
}

func (a *Activities) fetchOnce(ctx context.Context, kind, location string) (store.Ref, error) {
	name := displayLocation(location)
	body, err := openLocation(ctx, location)
	if err != nil {
		return store.Ref{}, err
	}
	defer body.Close()

	src := &sourceReader{r: body}
	ref, err := a.Store.Put(kind, &heartbeatReader{ctx: ctx, r: src})
	switch {
	case err == nil:
		return ref, nil
	case ctx.Err() != nil:
		return store.Ref{}, ctx.Err()
	case src.err != nil:
		// The source failed, not the store: a reset connection or a
		// stalled download, which a later attempt may get past.
		return store.Ref{}, temporal.NewApplicationError(
			fmt.Sprintf("fetching %s failed after %d bytes: %v", name, src.n, src.err), ErrTypeArtifactUnavailable)
	}
	return store.Ref{}, temporal.NewApplicationError(fmt.Sprintf("storing %s %s: %v", kind, name, err), ErrTypeStore)
}

// sourceReader records the error and byte count of the reader it wraps, so
// that a failed Put can tell a source failure from a store failure.
type sourceReader struct {
	r   io.Reader
	n   int64
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && err != io.EOF {
		s.err = err
	}
	return n, err
}

// openLocation opens a local path, a file:// URL or an http(s) URL.
func openLocation(ctx context.Context, location string) (io.ReadCloser, error) {
	name := displayLocation(location)
	u, err := url.Parse(location)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return artifactDownloads.open(ctx, u, name)
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

// downloadTimeouts bounds each phase of an artifact download. Stall is the
// longest time without a byte of the body. No limit applies to the whole
// download, because a large manifest on a slow link may take minutes.
type downloadTimeouts struct {
	Connect        time.Duration
	TLSHandshake   time.Duration
	ResponseHeader time.Duration
	Stall          time.Duration
}

// defaultDownloadTimeouts lets a busy artifact server some slack while an
// attempt still ends within a minute or so when the server hangs.
var defaultDownloadTimeouts = downloadTimeouts{
	Connect:        15 * time.Second,
	TLSHandshake:   15 * time.Second,
	ResponseHeader: 30 * time.Second,
	Stall:          30 * time.Second,
}

// artifactDownloads fetches http(s) artifact locations for every activity.
var artifactDownloads = newDownloader(defaultDownloadTimeouts)

// downloader is an HTTP client with time-outs for each phase of a download.
type downloader struct {
	client   *http.Client
	timeouts downloadTimeouts
}

func newDownloader(t downloadTimeouts) *downloader {
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: t.Connect, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   t.TLSHandshake,
		ResponseHeaderTimeout: t.ResponseHeader,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   2,
		ForceAttemptHTTP2:     true,
	}
	return &downloader{client: &http.Client{Transport: transport}, timeouts: t}
}

// open sends a GET and returns the body of a 200 response, which is
// cancelled when no byte arrives for the stall time-out. 404, 401 and 403
// are non-retryable. 429, 5xx, time-outs and network errors retry, after
// Retry-After when given. The caller must close the body.
func (d *downloader) open(ctx context.Context, u *url.URL, name string) (io.ReadCloser, error) {
	reqCtx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		cancel(nil)
		return nil, invalidInput("invalid artifact URL %s: %v", name, err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		cancel(nil)
		// The error contains the URL with its query, which may hold a
		// signature, so only its cause is kept.
		cause := errors.Unwrap(err)
		if cause == nil {
			cause = err
		}
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			return nil, temporal.NewApplicationError(fmt.Sprintf("fetching %s timed out: %v", name, cause), ErrTypeArtifactUnavailable)
		}
		return nil, temporal.NewApplicationError(fmt.Sprintf("fetching %s failed: %v", name, cause), ErrTypeArtifactUnavailable)
	}
	if resp.StatusCode == http.StatusOK {
		return newStallBody(reqCtx, resp.Body, d.timeouts.Stall, cancel), nil
	}
	resp.Body.Close()
	cancel(nil)

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

// stallBody cancels its request when no byte arrives for the stall time-out,
// and then fails its reads with an error that names the stall.
type stallBody struct {
	ctx    context.Context
	body   io.ReadCloser
	stall  time.Duration
	timer  *time.Timer
	cancel context.CancelCauseFunc
}

// errStalled is the cancellation cause of a stalled download.
var errStalled = errors.New("download stalled")

func newStallBody(ctx context.Context, body io.ReadCloser, stall time.Duration, cancel context.CancelCauseFunc) *stallBody {
	return &stallBody{
		ctx:    ctx,
		body:   body,
		stall:  stall,
		timer:  time.AfterFunc(stall, func() { cancel(errStalled) }),
		cancel: cancel,
	}
}

func (s *stallBody) Read(p []byte) (int, error) {
	n, err := s.body.Read(p)
	if n > 0 {
		s.timer.Reset(s.stall)
	}
	if err != nil && err != io.EOF && errors.Is(context.Cause(s.ctx), errStalled) {
		return n, fmt.Errorf("no data received for %s", s.stall)
	}
	return n, err
}

func (s *stallBody) Close() error {
	s.timer.Stop()
	err := s.body.Close()
	s.cancel(nil)
	return err
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

// heartbeatReader records the bytes read so far as a heartbeat detail every
// few seconds while bytes arrive, so that the Web UI shows a download's
// progress. The stall time-out, not the heartbeat time-out, ends a stalled
// download, because fetch heartbeats throughout.
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
