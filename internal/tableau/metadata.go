package tableau

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// metadataPath is the Metadata API's GraphQL endpoint below the server URL.
const metadataPath = "/api/metadata/graphql"

// NodeLimit is the number of nodes one Metadata API response may touch on
// Tableau Cloud and on Tableau Server by default (Config.NodeLimit changes
// it). Tableau rejects a larger query with NODE_LIMIT_EXCEEDED.
const NodeLimit = 20000

// Metadata API error codes, from extensions.code of a GraphQL error.
const (
	codeNodeLimitExceeded = "NODE_LIMIT_EXCEEDED"
	codeRateExceeded      = "RATE_EXCEEDED"
)

// sessionKey carries the session of a GraphQL request through the
// graphql.Client to metadataTransport.
type sessionKey struct{}

// decodeTargetKey carries the query struct of a GraphQL request to
// metadataTransport, which decodes the response's data into it.
type decodeTargetKey struct{}

// emptyData is the body metadataTransport hands back to the graphql.Client
// after decoding the data itself: with null data the graphql.Client decodes
// nothing.
var emptyData = []byte(`{"data":null}`)

// metadataTransport is the RoundTripper under the graphql.Client. It adds the
// session token, applies the request slots and time-out, and turns HTTP
// errors and GraphQL errors inside HTTP 200 responses into *Error, so that
// partial data that comes with errors is never decoded as a complete response.
type metadataTransport struct {
	client *Client
}

func (t *metadataTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.client
	ctx := req.Context()
	s, _ := ctx.Value(sessionKey{}).(*session)
	if s == nil {
		var err error
		if s, err = c.currentSession(ctx); err != nil {
			return nil, err
		}
	}
	if req.Body != nil {
		// RoundTrippers must close the request body; send replays it from
		// memory instead.
		body, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		clone := req.Clone(ctx)
		clone.Body = io.NopCloser(bytes.NewReader(body))
		clone.ContentLength = int64(len(body))
		req = clone
	}
	req.Header.Set("Accept", "application/json")

	what := "querying the Tableau Metadata API"
	resp, body, err := c.send(ctx, req, what, s)
	if err != nil {
		var te *Error
		if errors.As(err, &te) && te.HTTPStatus == http.StatusUnauthorized {
			te.Kind = ErrSessionExpired
		}
		return nil, err
	}
	if err := c.graphQLError(resp, body, s); err != nil {
		return nil, err
	}
	// The graphql.Client decodes token by token through reflection, which
	// took most of the client's CPU time on a 10,000-workbook sync
	// (bench/tableausync). encoding/json fills the same struct, matched by
	// the json tags in queries.go, several times faster.
	if target := ctx.Value(decodeTargetKey{}); target != nil {
		envelope := struct {
			Data any `json:"data"`
		}{Data: target}
		if err := json.Unmarshal(body, &envelope); err != nil {
			return nil, &Error{Kind: ErrServer, HTTPStatus: resp.StatusCode, Message: "decoding the Metadata API response failed", err: err}
		}
		body = emptyData
	}
	return &http.Response{
		Status:        resp.Status,
		StatusCode:    resp.StatusCode,
		Proto:         resp.Proto,
		ProtoMajor:    resp.ProtoMajor,
		ProtoMinor:    resp.ProtoMinor,
		Header:        resp.Header,
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}

// graphQLResponseErrors is the "errors" member of a GraphQL response with the
// extensions that Tableau fills in.
type graphQLResponseErrors struct {
	Errors []struct {
		Message    string `json:"message"`
		Extensions *struct {
			Code     string `json:"code"`
			Severity string `json:"severity"`
		} `json:"extensions"`
	} `json:"errors"`
}

// graphQLError returns an *Error when the response carries GraphQL errors,
// whether or not it also carries data.
func (c *Client) graphQLError(resp *http.Response, body []byte, s *session) error {
	// Most responses have no errors; skip decoding them twice.
	if !bytes.Contains(body, []byte(`"errors"`)) {
		return nil
	}
	var doc graphQLResponseErrors
	if err := json.Unmarshal(body, &doc); err != nil {
		return &Error{Kind: ErrServer, HTTPStatus: resp.StatusCode, Message: "the Metadata API response is not JSON", err: err}
	}
	if len(doc.Errors) == 0 {
		return nil
	}
	e := &Error{
		HTTPStatus:        resp.StatusCode,
		RetryAfter:        parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		sessionGeneration: s.generation,
	}
	var messages []string
	for _, ge := range doc.Errors {
		code := ""
		if ge.Extensions != nil {
			code = ge.Extensions.Code
		}
		kind := graphQLKind(code, ge.Message)
		// The highest-ranked error decides the kind, because a node limit or
		// a rate limit tells the caller how to recover and a generic failure
		// does not.
		if e.Kind == nil || graphQLRank(kind) > graphQLRank(e.Kind) {
			e.Kind, e.Code = kind, code
		}
		messages = append(messages, strings.TrimSpace(ge.Message))
	}
	e.Message = c.redact("the Metadata API returned errors: " + strings.Join(messages, "; "))
	return e
}

// graphQLKind classifies one GraphQL error by Tableau's code, or by its
// message when Tableau gave no code.
func graphQLKind(code, message string) error {
	lower := strings.ToLower(message)
	switch {
	case code == codeNodeLimitExceeded:
		return ErrNodeLimitExceeded
	case code == codeRateExceeded, strings.Contains(strings.ToUpper(code), "THROTTL"),
		strings.Contains(lower, "throttl"), strings.Contains(lower, "rate limit"):
		return ErrRateLimited
	case strings.Contains(lower, "time limit"), strings.Contains(lower, "timed out"), strings.Contains(lower, "timeout"):
		// Tableau stops a query after a time limit ("Reached time limit of
		// PT5S for query execution."); a smaller page usually passes.
		return ErrServer
	case strings.Contains(lower, "unauthorized"), strings.Contains(lower, "authentication"):
		return ErrSessionExpired
	}
	return ErrBadRequest
}

func graphQLRank(kind error) int {
	switch kind {
	case ErrNodeLimitExceeded:
		return 4
	case ErrRateLimited:
		return 3
	case ErrSessionExpired:
		return 2
	case ErrServer:
		return 1
	}
	return 0
}

// isTooBig reports whether a Metadata API error calls for a smaller page: the
// node limit or the query time limit.
func isTooBig(err error) bool {
	var te *Error
	if !errors.As(err, &te) {
		return false
	}
	if te.Kind == ErrNodeLimitExceeded {
		return true
	}
	return te.Kind == ErrServer && te.HTTPStatus == http.StatusOK
}

// query runs one GraphQL query with retries: rate limits and server errors
// are retried with back-off, an expired session is renewed. q is reset
// before every try so that a failed try leaves nothing behind.
func (c *Client) query(ctx context.Context, what string, q any, vars map[string]any) error {
	return c.withRetry(ctx, what, 0, func(ctx context.Context) error {
		reflect.ValueOf(q).Elem().SetZero()
		s, err := c.currentSession(ctx)
		if err != nil {
			return err
		}
		qctx := context.WithValue(context.WithValue(ctx, sessionKey{}, s), decodeTargetKey{}, q)
		err = c.gql.Query(qctx, q, vars)
		if err == nil {
			return nil
		}
		var te *Error
		if errors.As(err, &te) {
			// Drop the *url.Error around it: its text repeats the endpoint.
			te.Message = what + ": " + te.Message
			return te
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		// A decoding failure: the response does not fit the query.
		return &Error{Kind: ErrServer, Message: what + ": decoding the response failed", err: err}
	})
}
