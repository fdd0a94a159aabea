package tableausim_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

const (
	fixturePath = "../sites/fixture.json"
	tokenName   = "ci-token"
	tokenSecret = "ci-secret-value-0001"
	siteName    = "acme"
	siteLUID    = "0f3e5c1a-7d2b-4c8e-9a61-2b4d6f8a0c13"
)

// fakeClock is a clock a test moves by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// harness is a started simulator on the fixture site with a fake clock.
type harness struct {
	t     *testing.T
	srv   *tableausim.Server
	clock *fakeClock
	base  string
}

func startFixture(t *testing.T, edit func(*tableausim.Site)) *harness {
	t.Helper()
	site, err := tableausim.LoadSite(fixturePath)
	if err != nil {
		t.Fatalf("LoadSite: %v", err)
	}
	if edit != nil {
		edit(site)
	}
	clock := newFakeClock()
	srv := tableausim.New(site, tableausim.WithClock(clock.Now))
	if err := srv.Start(); err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(srv.Close)
	return &harness{t: t, srv: srv, clock: clock, base: srv.URL()}
}

type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request; accept may be "" for Tableau's default XML responses.
func (h *harness) do(method, path, token, accept, body string) response {
	h.t.Helper()
	req, err := http.NewRequest(method, h.base+path, strings.NewReader(body))
	if err != nil {
		h.t.Fatalf("NewRequest: %v", err)
	}
	if token != "" {
		req.Header.Set("X-Tableau-Auth", token)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatalf("reading body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func signInBody(name, secret, site string) string {
	b, _ := json.Marshal(map[string]any{"credentials": map[string]any{
		"personalAccessTokenName":   name,
		"personalAccessTokenSecret": secret,
		"site":                      map[string]any{"contentUrl": site},
	}})
	return string(b)
}

// signIn signs in with a fixture token and returns the session token.
func (h *harness) signIn(name, secret string) string {
	h.t.Helper()
	resp := h.do("POST", "/api/3.24/auth/signin", "", "application/json", signInBody(name, secret, siteName))
	if resp.status != http.StatusOK {
		h.t.Fatalf("sign-in status %d: %s", resp.status, resp.body)
	}
	var out struct {
		Credentials struct {
			Token string `json:"token"`
		} `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(resp.body), &out); err != nil {
		h.t.Fatalf("decoding sign-in: %v", err)
	}
	return out.Credentials.Token
}

// graphql posts a Metadata API query and returns the HTTP status and the
// decoded body.
func (h *harness) graphql(token, query string, vars map[string]any) (int, map[string]any) {
	h.t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	resp := h.do("POST", "/api/metadata/graphql", token, "application/json", string(b))
	var out map[string]any
	dec := json.NewDecoder(bytes.NewReader([]byte(resp.body)))
	dec.UseNumber()
	if err := dec.Decode(&out); err != nil {
		h.t.Fatalf("decoding GraphQL response %q: %v", resp.body, err)
	}
	return resp.status, out
}

// errorCodes returns the extensions.code of each GraphQL error.
func errorCodes(body map[string]any) []string {
	var codes []string
	errs, _ := body["errors"].([]any)
	for _, e := range errs {
		m, _ := e.(map[string]any)
		ext, _ := m["extensions"].(map[string]any)
		code, _ := ext["code"].(string)
		if code == "" {
			code, _ = ext["classification"].(string)
		}
		codes = append(codes, code)
	}
	return codes
}

// restErrorCode returns the code of a REST error body in JSON form.
func restErrorCode(t *testing.T, body string) string {
	t.Helper()
	var out struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatalf("decoding REST error %q: %v", body, err)
	}
	return out.Error.Code
}

// dig walks a decoded JSON value by keys and list indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}
