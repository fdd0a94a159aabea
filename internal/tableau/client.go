package tableau

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shurcooL/graphql"
)

// Client talks to one Tableau site. It signs in lazily on first use, signs in
// again when the session expires, and is safe for concurrent use. The session
// token lives only in the Client's memory.
type Client struct {
	cfg    Config
	http   *http.Client
	logger *slog.Logger
	gql    *graphql.Client

	// slots bounds the requests in flight to cfg.Concurrency.
	slots chan struct{}

	// mu guards the session fields. Sign-in is serialised because a new
	// sign-in with the same token ends the earlier session.
	mu         sync.Mutex
	signInMu   sync.Mutex
	version    string
	session    *session
	generation uint64

	// workbookCost and datasourceCost learn the nodes per item across
	// calls, so that later reads size their batches right away.
	workbookCost   *costModel
	datasourceCost *costModel

	// sqlMu guards the site's custom SQL from the last read.
	sqlMu     sync.Mutex
	sqlNodes  []customSQLNode
	sqlReadAt time.Time

	sleep func(ctx context.Context, d time.Duration) error
}

// session is one signed-in session.
type session struct {
	token      string
	siteLUID   string
	userLUID   string
	generation uint64
}

// Option changes how New builds a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client; its Transport carries the requests.
// The Config's RequestTimeout still bounds each request.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.http = hc
		}
	}
}

// WithLogger sets the logger for retries, sign-ins and handled errors.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) {
		if l != nil {
			c.logger = l
		}
	}
}

// New returns a client for the site in cfg. It checks cfg (see
// Config.Resolve) but does not contact Tableau.
func New(cfg Config, opts ...Option) (*Client, error) {
	resolved, err := cfg.Resolve()
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:     resolved,
		http:    &http.Client{},
		logger:  slog.Default(),
		version: resolved.APIVersion,
		slots:   make(chan struct{}, resolved.Concurrency),
		sleep:   sleepContext,

		workbookCost:   newCostModel(initialWorkbookCost, resolved.NodeLimit),
		datasourceCost: newCostModel(initialDatasourceCost, resolved.NodeLimit),
	}
	for _, opt := range opts {
		opt(c)
	}
	c.gql = graphql.NewClient(c.cfg.ServerURL+metadataPath, &http.Client{
		Transport: &metadataTransport{client: c},
	})
	return c, nil
}

// Config returns the resolved configuration. Its TokenSecret is set.
func (c *Client) Config() Config { return c.cfg }

// ServerURL returns the server's base URL.
func (c *Client) ServerURL() string { return c.cfg.ServerURL }

// Site returns the site's content URL.
func (c *Client) Site() string { return c.cfg.Site }

// acquire takes one of the request slots, waiting for a free one.
func (c *Client) acquire(ctx context.Context) error {
	select {
	case c.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (c *Client) release() { <-c.slots }

// currentSession returns the signed-in session, signing in when there is
// none.
func (c *Client) currentSession(ctx context.Context) (*session, error) {
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil {
		return s, nil
	}
	return c.renewSession(ctx, 0)
}

// renewSession signs in again unless another request already replaced the
// session that failed (the one with generation failed; 0 means none).
func (c *Client) renewSession(ctx context.Context, failed uint64) (*session, error) {
	c.signInMu.Lock()
	defer c.signInMu.Unlock()

	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil && s.generation != failed {
		return s, nil
	}
	if failed != 0 {
		c.logger.InfoContext(ctx, "tableau session expired, signing in again", "site", c.cfg.Site, "token_name", c.cfg.TokenName)
	}
	next, err := c.signIn(ctx)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.generation++
	next.generation = c.generation
	c.session = next
	c.mu.Unlock()
	return next, nil
}

// dropSession clears the session for a sign-out and returns it.
func (c *Client) dropSession() *session {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.session
	c.session = nil
	return s
}

// apiVersion returns the REST API version, asking serverinfo once when none
// is configured.
func (c *Client) apiVersion(ctx context.Context) (string, error) {
	c.mu.Lock()
	v := c.version
	c.mu.Unlock()
	if v != "" {
		return v, nil
	}
	v, err := c.serverVersion(ctx)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	c.version = v
	c.mu.Unlock()
	return v, nil
}

// withRetry runs call until it succeeds, fails with an error that is not
// retryable, or has been tried cfg.MaxAttempts times. An expired session is
// renewed and does not count as an attempt, up to a few renewals.
//
// maxAttempts 0 means cfg.MaxAttempts; 1 tries once, which suits requests
// that are not safe to repeat, while still renewing an expired session.
func (c *Client) withRetry(ctx context.Context, what string, maxAttempts int, call func(ctx context.Context) error) error {
	const maxRenewals = 3
	if maxAttempts <= 0 {
		maxAttempts = c.cfg.MaxAttempts
	}
	renewals := 0
	for attempt := 1; ; {
		err := call(ctx)
		if err == nil {
			return nil
		}
		var te *Error
		if errors.As(err, &te) && te.Kind == ErrSessionExpired && renewals < maxRenewals {
			renewals++
			if _, rerr := c.renewSession(ctx, te.sessionGeneration); rerr != nil {
				return rerr
			}
			continue
		}
		if !IsRetryable(err) || attempt >= maxAttempts {
			return err
		}
		wait, asked := RetryAfter(err)
		if !asked {
			wait = backoff(attempt)
		}
		if wait > c.cfg.MaxRetryWait {
			return err
		}
		c.logger.WarnContext(ctx, "tableau request failed, retrying", "request", what, "attempt", attempt, "wait", wait, "error", err)
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%s: waiting to retry: %w", what, serr)
		}
		attempt++
	}
}

// backoff returns an exponential wait with jitter: about 0.5 s, 1 s, 2 s,
// up to 30 s.
func backoff(attempt int) time.Duration {
	base := 500 * time.Millisecond << min(attempt-1, 6)
	base = min(base, 30*time.Second)
	jitter := time.Duration(rand.Int64N(int64(base) / 4))
	return base - base/8 + jitter
}

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send performs one HTTP request within the request time-out and a request
// slot, and returns the whole body. A non-2xx response becomes an *Error.
// Secrets never reach the returned error: Tableau's error bodies do not echo
// request bodies, and only the status, code, summary and detail are kept.
func (c *Client) send(ctx context.Context, req *http.Request, what string, s *session) (*http.Response, []byte, error) {
	if err := c.acquire(ctx); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", what, err)
	}
	defer c.release()

	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	req = req.WithContext(ctx)
	if s != nil {
		req.Header.Set(authHeader, s.token)
	}
	started := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, nil, transportError(ctx, what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, nil, transportError(ctx, what+": reading the response", err)
	}
	c.logger.DebugContext(ctx, "tableau request", "method", req.Method, "path", req.URL.Path,
		"status", resp.StatusCode, "bytes", len(body), "duration", time.Since(started))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, body, nil
	}
	return nil, nil, c.errorFromResponse(resp, body, what, s)
}

// errorFromResponse builds the *Error for a non-2xx response.
func (c *Client) errorFromResponse(resp *http.Response, body []byte, what string, s *session) error {
	code, summary, detail := decodeErrorBody(resp.Header.Get("Content-Type"), body)
	e := &Error{
		Kind:       kindForStatus(resp.StatusCode, code),
		Code:       code,
		HTTPStatus: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	if s != nil {
		e.sessionGeneration = s.generation
	}
	msg := what + " failed"
	if summary != "" || detail != "" {
		msg += ": " + strings.TrimSpace(strings.Join(nonEmpty(summary, detail), ": "))
	}
	e.Message = c.redact(msg)
	return e
}

// redact removes the token secret and any session token from text that came
// from the server, in case a server or proxy echoes them.
func (c *Client) redact(text string) string {
	if c.cfg.TokenSecret != "" {
		text = strings.ReplaceAll(text, c.cfg.TokenSecret, "[redacted]")
	}
	c.mu.Lock()
	s := c.session
	c.mu.Unlock()
	if s != nil && s.token != "" {
		text = strings.ReplaceAll(text, s.token, "[redacted]")
	}
	return text
}

func nonEmpty(values ...string) []string {
	out := values[:0:0]
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
