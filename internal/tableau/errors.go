package tableau

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinel kinds of *Error. Compare with errors.Is, for example
// errors.Is(err, tableau.ErrRateLimited).
var (
	// ErrInvalidCredentials means Tableau rejected the personal access token:
	// it is wrong, expired, revoked, or not valid for the site. Not retryable.
	ErrInvalidCredentials = errors.New("invalid Tableau credentials")
	// ErrNotFound means a site, workbook, data source, job or collection does
	// not exist or is not visible to the token's user. Not retryable.
	ErrNotFound = errors.New("not found")
	// ErrNoExtract means the workbook or data source has no extract to
	// refresh (Tableau code 409090). Not retryable.
	ErrNoExtract = errors.New("no extract to refresh")
	// ErrRateLimited means Tableau asked the client to slow down: HTTP 429
	// or a RATE_EXCEEDED Metadata API error. Retryable after RetryAfter.
	ErrRateLimited = errors.New("rate limited")
	// ErrSessionExpired means the session token is no longer valid. The
	// client signs in again on its own; callers see it only when that fails
	// repeatedly. Retryable.
	ErrSessionExpired = errors.New("session expired")
	// ErrServer means Tableau failed to respond: HTTP 5xx, a time-out, a
	// broken connection or a Metadata API query time limit. Retryable.
	ErrServer = errors.New("Tableau server error")
	// ErrNodeLimitExceeded means one Metadata API response would touch more
	// than Tableau's node limit (NODE_LIMIT_EXCEEDED). The client shrinks the
	// page and tries again; callers see it only when one workbook alone is
	// over the limit. Not retryable unchanged.
	ErrNodeLimitExceeded = errors.New("metadata node limit exceeded")
	// ErrPermission means the token's user may not do this (HTTP 403).
	// Not retryable.
	ErrPermission = errors.New("permission denied")
	// ErrBadRequest means Tableau rejected the request itself: an invalid
	// GraphQL query, an unsupported REST API version, a malformed body.
	// Not retryable.
	ErrBadRequest = errors.New("request rejected")
	// ErrConflict is any other HTTP 409 response. Not retryable.
	ErrConflict = errors.New("conflict")
)

// Tableau REST error codes that the client acts on. Tableau documents them in
// the REST API reference, "Handling Errors in the REST API".
const (
	codeSignInError         = "401001"
	codeInvalidSession      = "401002"
	codeNoExtract           = "409090"
	codeRefreshAlreadyQueue = "409093"
)

// Error is an error returned by Tableau or met on the way to it. Kind is one
// of the sentinel errors above; errors.Is(err, ErrRateLimited) matches an
// *Error of that kind.
type Error struct {
	Kind error
	// Code is Tableau's error code: a REST code such as "401001", or a
	// Metadata API code such as "NODE_LIMIT_EXCEEDED". Empty when Tableau
	// gave none.
	Code string
	// HTTPStatus is the HTTP status of the response, 0 when none arrived.
	HTTPStatus int
	// RetryAfter is the wait Tableau asked for (Retry-After), 0 when none.
	RetryAfter time.Duration
	// Message describes what failed and, where the caller can act, what to do.
	// It never contains the token secret or the session token.
	Message string

	// sessionGeneration is the session that a request used, so that the
	// client renews a session only once however many requests failed on it.
	sessionGeneration uint64
	err               error
}

// Error returns the message with the code and HTTP status when known.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Message)
	if e.Code != "" || e.HTTPStatus != 0 {
		b.WriteString(" (")
		if e.Code != "" {
			b.WriteString("code ")
			b.WriteString(e.Code)
		}
		if e.HTTPStatus != 0 {
			if e.Code != "" {
				b.WriteString(", ")
			}
			b.WriteString("HTTP ")
			b.WriteString(strconv.Itoa(e.HTTPStatus))
		}
		b.WriteString(")")
	}
	if e.err != nil {
		b.WriteString(": ")
		b.WriteString(e.err.Error())
	}
	return b.String()
}

// Is reports whether target is the kind of e.
func (e *Error) Is(target error) bool {
	return e.Kind != nil && target == e.Kind
}

// Unwrap returns the underlying cause, such as a network error.
func (e *Error) Unwrap() error { return e.err }

// IsRetryable reports whether trying the same call again later can succeed:
// rate limits, server errors, time-outs, broken connections and expired
// sessions. Invalid credentials, missing objects, missing extracts and
// rejected requests are not retryable. A cancelled context is not retryable.
func IsRetryable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, context.Canceled) {
		return false
	}
	var te *Error
	if errors.As(err, &te) {
		switch te.Kind {
		case ErrRateLimited, ErrServer, ErrSessionExpired:
			return true
		}
		return false
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne)
}

// RetryAfter returns the wait that Tableau asked for before the next try,
// and whether it asked for one.
func RetryAfter(err error) (time.Duration, bool) {
	var te *Error
	if errors.As(err, &te) && te.RetryAfter > 0 {
		return te.RetryAfter, true
	}
	return 0, false
}

// kindForStatus classifies an HTTP response by its status and Tableau code.
func kindForStatus(status int, code string) error {
	switch {
	case code == codeSignInError:
		return ErrInvalidCredentials
	case code == codeNoExtract:
		return ErrNoExtract
	case status == http.StatusUnauthorized:
		return ErrSessionExpired
	case status == http.StatusForbidden:
		return ErrPermission
	case status == http.StatusNotFound:
		return ErrNotFound
	case status == http.StatusConflict:
		return ErrConflict
	case status == http.StatusTooManyRequests:
		return ErrRateLimited
	case status == http.StatusRequestTimeout, status >= 500:
		return ErrServer
	}
	return ErrBadRequest
}

// parseRetryAfter reads a Retry-After header: delay seconds or an HTTP date.
func parseRetryAfter(value string, now time.Time) time.Duration {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0
	}
	if seconds, err := strconv.Atoi(value); err == nil {
		if seconds < 0 {
			return 0
		}
		return time.Duration(seconds) * time.Second
	}
	if when, err := http.ParseTime(value); err == nil {
		if d := when.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// transportError turns a failure to get any response into an *Error. A request
// that ran out of its own time-out is a retryable server error; a cancelled
// caller context is returned as it is.
func transportError(ctx context.Context, what string, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", what, err)
	}
	return &Error{Kind: ErrServer, Message: what + " failed", err: err}
}
