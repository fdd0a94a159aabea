package tableau

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// authHeader carries the session token on every signed-in request.
const authHeader = "X-Tableau-Auth"

// restPageSize is the largest page Tableau's REST API returns. Tests lower
// it to read several pages.
var restPageSize = 1000

// tsResponse is the envelope of Tableau's REST XML responses. Element names
// follow the recorded responses in testdata/tableau/rest; encoding/xml matches
// them whatever namespace the server declares.
type tsResponse struct {
	XMLName     xml.Name             `xml:"tsResponse"`
	Error       *restError           `xml:"error"`
	Pagination  *restPagination      `xml:"pagination"`
	Credentials *restCredentials     `xml:"credentials"`
	ServerInfo  *restServerInfo      `xml:"serverInfo"`
	Job         *restJob             `xml:"job"`
	Jobs        []restBackgroundJob  `xml:"backgroundJobs>backgroundJob"`
	Collections []restCollection     `xml:"collections>collection"`
	Items       []restCollectionItem `xml:"items>item"`
}

type restError struct {
	Code    string `xml:"code,attr"`
	Summary string `xml:"summary"`
	Detail  string `xml:"detail"`
}

type restPagination struct {
	PageNumber     int `xml:"pageNumber,attr"`
	PageSize       int `xml:"pageSize,attr"`
	TotalAvailable int `xml:"totalAvailable,attr"`
}

type restCredentials struct {
	Token string `xml:"token,attr"`
	Site  struct {
		ID         string `xml:"id,attr"`
		ContentURL string `xml:"contentUrl,attr"`
	} `xml:"site"`
	User struct {
		ID string `xml:"id,attr"`
	} `xml:"user"`
}

type restServerInfo struct {
	ProductVersion string `xml:"productVersion"`
	RESTAPIVersion string `xml:"restApiVersion"`
}

// decodeErrorBody reads Tableau's error body, XML
// (<tsResponse><error code="…"><summary/><detail/></error>) or JSON
// ({"error":{"code":"…","summary":"…","detail":"…"}}). It returns empty
// strings for any other body, such as a proxy's HTML page.
func decodeErrorBody(contentType string, body []byte) (code, summary, detail string) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return "", "", ""
	}
	if strings.Contains(contentType, "json") || trimmed[0] == '{' {
		var doc struct {
			Error *struct {
				Code    json.RawMessage `json:"code"`
				Summary string          `json:"summary"`
				Detail  string          `json:"detail"`
			} `json:"error"`
		}
		if json.Unmarshal(trimmed, &doc) == nil && doc.Error != nil {
			return strings.Trim(string(doc.Error.Code), `"`), doc.Error.Summary, doc.Error.Detail
		}
		return "", "", ""
	}
	var doc tsResponse
	if xml.Unmarshal(trimmed, &doc) == nil && doc.Error != nil {
		return doc.Error.Code, strings.TrimSpace(doc.Error.Summary), strings.TrimSpace(doc.Error.Detail)
	}
	return "", "", ""
}

// restRequest describes one signed-in REST call.
type restRequest struct {
	what   string
	method string
	// path builds the path after /api/{version}, such as
	// "/sites/{site-luid}/jobs/{job-id}", from the session.
	path  func(s *session) string
	query url.Values
	body  []byte
	// once marks calls that are not safe to repeat after a response that may
	// have been acted on. They are still repeated after an expired session,
	// because Tableau rejects those requests before acting.
	once bool
}

// rest performs a signed-in REST call and decodes the XML response into out.
func (c *Client) rest(ctx context.Context, r restRequest, out *tsResponse) error {
	version, err := c.apiVersion(ctx)
	if err != nil {
		return err
	}
	attempts := 0
	if r.once {
		attempts = 1
	}
	return c.withRetry(ctx, r.what, attempts, func(ctx context.Context) error {
		s, err := c.currentSession(ctx)
		if err != nil {
			return err
		}
		target := c.cfg.ServerURL + "/api/" + version + r.path(s)
		if len(r.query) > 0 {
			target += "?" + r.query.Encode()
		}
		var body *bytes.Reader
		if r.body != nil {
			body = bytes.NewReader(r.body)
		} else {
			body = bytes.NewReader(nil)
		}
		req, err := http.NewRequestWithContext(ctx, r.method, target, body)
		if err != nil {
			return fmt.Errorf("%s: %w", r.what, err)
		}
		req.Header.Set("Accept", "application/xml")
		if r.body != nil {
			req.Header.Set("Content-Type", "application/xml")
		}
		_, data, err := c.send(ctx, req, r.what, s)
		if err != nil {
			return err
		}
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := xml.Unmarshal(data, out); err != nil {
			return &Error{Kind: ErrServer, Message: r.what + ": the response is not Tableau's XML", err: err}
		}
		return nil
	})
}

// restPages calls a paged REST list until every page is read. page is
// called with each decoded page.
func (c *Client) restPages(ctx context.Context, r restRequest, page func(*tsResponse) error) error {
	for number := 1; ; number++ {
		q := url.Values{}
		for k, v := range r.query {
			q[k] = v
		}
		q.Set("pageSize", strconv.Itoa(restPageSize))
		q.Set("pageNumber", strconv.Itoa(number))
		pr := r
		pr.query = q
		var out tsResponse
		if err := c.rest(ctx, pr, &out); err != nil {
			return err
		}
		if err := page(&out); err != nil {
			return err
		}
		p := out.Pagination
		if p == nil || p.PageSize <= 0 || p.PageNumber*p.PageSize >= p.TotalAvailable {
			return nil
		}
	}
}

// parseTime reads Tableau's RFC 3339 times; it returns the zero time for an
// empty or unreadable value.
func parseTime(value string) time.Time {
	if value == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, value)
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}
