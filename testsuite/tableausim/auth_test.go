package tableausim_test

import (
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func TestLoadSiteRejectsBadFiles(t *testing.T) {
	cases := []struct {
		name    string
		content string
		wantErr string
	}{
		{"unknown key", `{"workbooks": [], "simulator": {"tokenz": []}}`, `unknown field "tokenz"`},
		{"missing luid", `{"workbooks": [{"name": "x"}]}`, `workbooks[0] ("x") has no luid`},
		{"duplicate luid", `{"workbooks": [{"luid": "a", "name": "x"}, {"luid": "a", "name": "y"}]}`, "duplicate luid a"},
		{"dangling published data source", `{"workbooks": [{"luid": "a", "name": "x", "publishedDatasourceLuids": ["p"]}]}`, "published data source p"},
		{"dangling collection item", `{"workbooks": [], "collections": [{"luid": "c", "name": "C", "workbookLuids": ["w"]}]}`, "lists workbook w"},
		{"bad outcome", `{"workbooks": [], "simulator": {"refreshOutcomes": {"a": "exploded"}}}`, `"exploded", expected success`},
		{"bad duration", `{"workbooks": [], "simulator": {"jobRuns": "soon"}}`, `invalid duration "soon"`},
		{"token without secret", `{"workbooks": [], "simulator": {"tokens": [{"name": "n"}]}}`, "needs both name and secret"},
		{"duplicate collection", `{"workbooks": [], "collections": [{"luid": "c", "name": "A"}, {"luid": "c", "name": "B"}]}`, "duplicate luid c"},
		{"duplicate data source id", `{"workbooks": [{"luid": "a", "name": "x", "embeddedDatasources": [{"id": "e", "name": "one"}, {"id": "e", "name": "two"}]}]}`, "ids must be unique"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := t.TempDir() + "/site.json"
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := tableausim.LoadSite(path)
			if err == nil {
				t.Fatalf("LoadSite accepted %s", tc.content)
			}
			if !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("error %q does not contain %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error %q does not name the file", err)
			}
		})
	}
}

func TestServerInfoXMLAndJSON(t *testing.T) {
	h := startFixture(t, nil)

	resp := h.do("GET", "/api/3.24/serverinfo", "", "", "")
	if resp.status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var x struct {
		XMLName    xml.Name `xml:"tsResponse"`
		ServerInfo struct {
			ProductVersion string `xml:"productVersion"`
			RESTAPIVersion string `xml:"restApiVersion"`
		} `xml:"serverInfo"`
	}
	if err := xml.Unmarshal([]byte(resp.body), &x); err != nil {
		t.Fatalf("decoding XML %q: %v", resp.body, err)
	}
	if x.ServerInfo.RESTAPIVersion != "3.24" {
		t.Errorf("restApiVersion = %q, want 3.24", x.ServerInfo.RESTAPIVersion)
	}

	resp = h.do("GET", "/api/3.24/serverinfo", "", "application/json", "")
	if !strings.Contains(resp.body, `"restApiVersion":"3.24"`) {
		t.Errorf("JSON serverinfo %s lacks restApiVersion", resp.body)
	}
}

func TestUnknownVersionIs404003(t *testing.T) {
	h := startFixture(t, nil)
	for _, v := range []string{"9.99", "x", "3.99"} {
		resp := h.do("GET", "/api/"+v+"/serverinfo", "", "application/json", "")
		if resp.status != http.StatusNotFound {
			t.Errorf("version %s: status %d, want 404", v, resp.status)
		}
		if got := restErrorCode(t, resp.body); got != "404003" {
			t.Errorf("version %s: code %s, want 404003", v, got)
		}
	}
}

func TestSignInErrors(t *testing.T) {
	h := startFixture(t, nil)
	cases := []struct {
		name, token, secret, site string
	}{
		{"wrong secret", tokenName, "not-the-secret", siteName},
		{"unknown token", "nobody", tokenSecret, siteName},
		{"revoked token", "revoked-token", "revoked-secret-value-0003", siteName},
		{"other site", tokenName, tokenSecret, "other"},
		{"empty body", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.do("POST", "/api/3.24/auth/signin", "", "application/json", signInBody(tc.token, tc.secret, tc.site))
			if resp.status != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401: %s", resp.status, resp.body)
			}
			if got := restErrorCode(t, resp.body); got != "401001" {
				t.Errorf("code %s, want 401001", got)
			}
			if strings.Contains(resp.body, tc.secret) && tc.secret != "" {
				t.Errorf("error body repeats the secret: %s", resp.body)
			}
		})
	}
}

// TestSignInErrorXMLMatchesFixture checks the XML error body against the
// recorded Tableau response.
func TestSignInErrorXMLMatchesFixture(t *testing.T) {
	h := startFixture(t, nil)
	body := `<tsRequest><credentials personalAccessTokenName="ci-token" personalAccessTokenSecret="wrong"><site contentUrl="acme"/></credentials></tsRequest>`
	resp := h.do("POST", "/api/3.24/auth/signin", "", "", body)

	type tsError struct {
		Code    string `xml:"code,attr"`
		Summary string `xml:"summary"`
		Detail  string `xml:"detail"`
	}
	type envelope struct {
		XMLName xml.Name `xml:"http://tableau.com/api tsResponse"`
		Error   tsError  `xml:"error"`
	}
	fixture, err := os.ReadFile("../../testdata/tableau/rest/auth_sign_in_error.xml")
	if err != nil {
		t.Fatal(err)
	}
	var want, got envelope
	if err := xml.Unmarshal(fixture, &want); err != nil {
		t.Fatalf("decoding fixture: %v", err)
	}
	if err := xml.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("decoding response %q: %v", resp.body, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sign-in error body (-want +got):\n%s", diff)
	}
}

func TestSignInXMLMatchesFixtureShape(t *testing.T) {
	h := startFixture(t, nil)
	body := `<tsRequest><credentials personalAccessTokenName="ci-token" personalAccessTokenSecret="ci-secret-value-0001"><site contentUrl="acme"/></credentials></tsRequest>`
	resp := h.do("POST", "/api/3.24/auth/signin", "", "", body)
	if resp.status != http.StatusOK {
		t.Fatalf("status %d: %s", resp.status, resp.body)
	}
	var got struct {
		XMLName     xml.Name `xml:"http://tableau.com/api tsResponse"`
		Credentials struct {
			Token string `xml:"token,attr"`
			Site  struct {
				ID         string `xml:"id,attr"`
				ContentURL string `xml:"contentUrl,attr"`
			} `xml:"site"`
			User struct {
				ID string `xml:"id,attr"`
			} `xml:"user"`
		} `xml:"credentials"`
	}
	if err := xml.Unmarshal([]byte(resp.body), &got); err != nil {
		t.Fatalf("decoding %q: %v", resp.body, err)
	}
	if got.Credentials.Token == "" || got.Credentials.User.ID == "" {
		t.Errorf("credentials lack token or user id: %s", resp.body)
	}
	if got.Credentials.Site.ID != siteLUID || got.Credentials.Site.ContentURL != siteName {
		t.Errorf("site = %+v, want id %s contentUrl %s", got.Credentials.Site, siteLUID, siteName)
	}
	if strings.Contains(resp.body, tokenSecret) {
		t.Errorf("response repeats the secret")
	}
}

func TestSessionExpiresAfterTokenLifetime(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn("short-token", "short-secret-value-0002")
	path := "/api/3.24/sites/" + siteLUID + "/collections"

	if resp := h.do("GET", path, token, "application/json", ""); resp.status != http.StatusOK {
		t.Fatalf("fresh session: status %d: %s", resp.status, resp.body)
	}
	h.clock.Advance(61 * time.Second)
	resp := h.do("GET", path, token, "application/json", "")
	if resp.status != http.StatusUnauthorized {
		t.Fatalf("expired session: status %d, want 401", resp.status)
	}
	if got := restErrorCode(t, resp.body); got != "401002" {
		t.Errorf("expired session: code %s, want 401002", got)
	}
}

func TestSignInAgainEndsEarlierSession(t *testing.T) {
	h := startFixture(t, nil)
	first := h.signIn(tokenName, tokenSecret)
	second := h.signIn(tokenName, tokenSecret)
	path := "/api/3.24/sites/" + siteLUID + "/collections"

	if resp := h.do("GET", path, first, "application/json", ""); resp.status != http.StatusUnauthorized {
		t.Errorf("first session still works: status %d", resp.status)
	}
	if resp := h.do("GET", path, second, "application/json", ""); resp.status != http.StatusOK {
		t.Errorf("second session: status %d: %s", resp.status, resp.body)
	}
}

func TestSignOutEndsSession(t *testing.T) {
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)
	if resp := h.do("POST", "/api/3.24/auth/signout", token, "", ""); resp.status != http.StatusNoContent {
		t.Fatalf("sign-out status %d", resp.status)
	}
	if got := h.srv.Sessions(); got != 0 {
		t.Errorf("Sessions() = %d after sign-out, want 0", got)
	}
	resp := h.do("GET", "/api/3.24/sites/"+siteLUID+"/collections", token, "", "")
	if resp.status != http.StatusUnauthorized || !strings.Contains(resp.body, `code="401002"`) {
		t.Errorf("request after sign-out: status %d body %s, want 401002", resp.status, resp.body)
	}
}

func TestRequestWithoutTokenIs401000(t *testing.T) {
	h := startFixture(t, nil)
	resp := h.do("POST", "/api/metadata/graphql", "", "application/json", `{"query":"{ workbooks { id } }"}`)
	if resp.status != http.StatusUnauthorized {
		t.Fatalf("status %d, want 401", resp.status)
	}
	if got := restErrorCode(t, resp.body); got != "401000" {
		t.Errorf("code %s, want 401000", got)
	}
}

func TestSignInReportsSessionLifetime(t *testing.T) {
	h := startFixture(t, nil)
	resp := h.do("POST", "/api/3.24/auth/signin", "", "application/json", signInBody("short-token", "short-secret-value-0002", siteName))
	if !strings.Contains(resp.body, `"estimatedTimeToExpiration":"0:01:00"`) {
		t.Errorf("sign-in response %s lacks the 1 minute lifetime", resp.body)
	}
}

// TestLogsHoldNoSecrets signs in right and wrong and uses the session, and
// checks that the simulator's log has neither the secret nor the session
// token.
func TestLogsHoldNoSecrets(t *testing.T) {
	site, err := tableausim.LoadSite(fixturePath)
	if err != nil {
		t.Fatal(err)
	}
	var logs strings.Builder
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &logs, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	srv := tableausim.New(site, tableausim.WithLogger(logger))
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	h := &harness{t: t, srv: srv, clock: newFakeClock(), base: srv.URL()}

	h.do("POST", "/api/3.24/auth/signin", "", "application/json", signInBody(tokenName, "wrong-secret-value", siteName))
	token := h.signIn(tokenName, tokenSecret)
	h.srv.InjectFault(tableausim.Fault{Kind: tableausim.KindGraphQL, ExpireSession: true})
	h.graphql(token, `{ workbooks { luid } }`, nil)
	h.refresh(token, "workbooks", revenueLUID)
	srv.Close()

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if out == "" {
		t.Fatal("the simulator logged nothing")
	}
	for name, secret := range map[string]string{"token secret": tokenSecret, "wrong secret": "wrong-secret-value", "session token": token} {
		if strings.Contains(out, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
