package tableau

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// serverInfoVersion is the REST API version used to ask serverinfo for the
// server's own version. serverinfo exists from REST API 2.4 on, and servers
// accept older version numbers in the path, so 2.4 works on every server
// that has the method. The Python tableauserverclient sends the same request.
const serverInfoVersion = "2.4"

// signInRequest is the body of POST /api/{version}/auth/signin with a
// personal access token.
type signInRequest struct {
	XMLName     xml.Name `xml:"tsRequest"`
	Credentials struct {
		TokenName   string `xml:"personalAccessTokenName,attr"`
		TokenSecret string `xml:"personalAccessTokenSecret,attr"`
		Site        struct {
			ContentURL string `xml:"contentUrl,attr"`
		} `xml:"site"`
	} `xml:"credentials"`
}

// signIn signs in with the personal access token and returns the session.
// It does not retry; callers run it inside withRetry.
func (c *Client) signIn(ctx context.Context) (*session, error) {
	version, err := c.apiVersion(ctx)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("signing in to site %q with personal access token %q", c.cfg.Site, c.cfg.TokenName)

	var body signInRequest
	body.Credentials.TokenName = c.cfg.TokenName
	body.Credentials.TokenSecret = c.cfg.TokenSecret
	body.Credentials.Site.ContentURL = c.cfg.Site
	payload, err := xml.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("%s: encoding the request: %w", what, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ServerURL+"/api/"+version+"/auth/signin", bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("Accept", "application/xml")

	_, data, err := c.send(ctx, req, what, nil)
	if err != nil {
		var te *Error
		if errors.As(err, &te) && (te.HTTPStatus == http.StatusUnauthorized || te.Code == codeSignInError) {
			// A wrong, expired or revoked token, or a token of another site.
			te.Kind = ErrInvalidCredentials
			te.Message += ": check that the personal access token exists, has not expired or been revoked, and belongs to this site (TABLEAU_TOKEN_NAME, TABLEAU_TOKEN_SECRET, TABLEAU_SITE)"
		}
		return nil, err
	}
	var out tsResponse
	if err := xml.Unmarshal(data, &out); err != nil || out.Credentials == nil || out.Credentials.Token == "" {
		return nil, &Error{Kind: ErrServer, Message: what + ": the response contains no session token"}
	}
	if out.Credentials.Site.ID == "" {
		return nil, &Error{Kind: ErrServer, Message: what + ": the response contains no site"}
	}
	c.logger.InfoContext(ctx, "signed in to tableau", "server_url", c.cfg.ServerURL, "site", c.cfg.Site,
		"site_luid", out.Credentials.Site.ID, "token_name", c.cfg.TokenName)
	return &session{
		token:    out.Credentials.Token,
		siteLUID: out.Credentials.Site.ID,
		userLUID: out.Credentials.User.ID,
	}, nil
}

// SignOut ends the session, if there is one. The next call signs in again.
func (c *Client) SignOut(ctx context.Context) error {
	s := c.dropSession()
	if s == nil {
		return nil
	}
	version, err := c.apiVersion(ctx)
	if err != nil {
		return err
	}
	what := "signing out of Tableau"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.ServerURL+"/api/"+version+"/auth/signout", nil)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if _, _, err := c.send(ctx, req, what, s); err != nil {
		// An expired session is as good as a closed one.
		if errors.Is(err, ErrSessionExpired) {
			c.logger.InfoContext(ctx, "tableau session had already expired at sign-out", "site", c.cfg.Site)
			return nil
		}
		return err
	}
	c.logger.InfoContext(ctx, "signed out of tableau", "site", c.cfg.Site)
	return nil
}

// SiteLUID returns the LUID of the signed-in site, signing in if needed.
func (c *Client) SiteLUID(ctx context.Context) (string, error) {
	s, err := c.currentSession(ctx)
	if err != nil {
		return "", err
	}
	return s.siteLUID, nil
}

// APIVersion returns the REST API version in use, asking the server when
// none is configured.
func (c *Client) APIVersion(ctx context.Context) (string, error) {
	return c.apiVersion(ctx)
}

// serverVersion requests serverinfo for the highest REST API version the server
// supports. It needs no sign-in.
func (c *Client) serverVersion(ctx context.Context) (string, error) {
	what := "reading the REST API version from serverinfo"
	var version string
	err := c.withRetry(ctx, what, 0, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.cfg.ServerURL+"/api/"+serverInfoVersion+"/serverinfo", nil)
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		req.Header.Set("Accept", "application/xml")
		_, data, err := c.send(ctx, req, what, nil)
		if err != nil {
			var te *Error
			if errors.As(err, &te) && te.Kind == ErrNotFound {
				te.Message += ": the server is older than REST API 2.4 or " + c.cfg.ServerURL + " is not a Tableau server; check TABLEAU_SERVER_URL or set TABLEAU_API_VERSION"
			}
			return err
		}
		var out tsResponse
		if err := xml.Unmarshal(data, &out); err != nil || out.ServerInfo == nil {
			return &Error{Kind: ErrBadRequest, Message: what + ": the response is not Tableau's serverinfo; check TABLEAU_SERVER_URL"}
		}
		v := strings.TrimSpace(out.ServerInfo.RESTAPIVersion)
		if !validAPIVersion(v) {
			return &Error{Kind: ErrBadRequest, Message: fmt.Sprintf("%s: restApiVersion %q is not a version; set TABLEAU_API_VERSION", what, v)}
		}
		version = v
		return nil
	})
	if err != nil {
		return "", err
	}
	c.logger.InfoContext(ctx, "tableau REST API version from serverinfo", "api_version", version)
	return version, nil
}
