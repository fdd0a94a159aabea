package tableausim

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"time"
)

// authHeader carries the session token on every signed-in request, REST and
// Metadata API alike.
const authHeader = "X-Tableau-Auth"

type session struct {
	token     string
	tokenName string
	siteLUID  string
	userID    string
	expires   time.Time
}

// signInRequest is the body of POST /api/{version}/auth/signin, in XML or
// JSON. Only personal access tokens are accepted.
type signInRequest struct {
	XMLName     xml.Name `xml:"tsRequest" json:"-"`
	Credentials struct {
		Name        string `xml:"name,attr" json:"name"`
		TokenName   string `xml:"personalAccessTokenName,attr" json:"personalAccessTokenName"`
		TokenSecret string `xml:"personalAccessTokenSecret,attr" json:"personalAccessTokenSecret"`
		Site        struct {
			ContentURL string `xml:"contentUrl,attr" json:"contentUrl"`
		} `xml:"site" json:"site"`
	} `xml:"credentials" json:"credentials"`
}

type credentials struct {
	Token string `xml:"token,attr" json:"token"`
	// EstimatedTimeToExpiration is the session's remaining lifetime as
	// hours:minutes:seconds, which recent REST versions add.
	EstimatedTimeToExpiration string  `xml:"estimatedTimeToExpiration,attr,omitempty" json:"estimatedTimeToExpiration,omitempty"`
	Site                      siteXML `xml:"site" json:"site"`
	User                      userXML `xml:"user" json:"user"`
}

type siteXML struct {
	ID         string `xml:"id,attr" json:"id"`
	ContentURL string `xml:"contentUrl,attr" json:"contentUrl"`
}

type userXML struct {
	ID string `xml:"id,attr" json:"id"`
}

// decodeBody reads an XML or JSON request body, whichever it is.
func decodeBody(r *http.Request, v any) error {
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '{' {
		return json.Unmarshal(trimmed, v)
	}
	return xml.Unmarshal(trimmed, v)
}

func (s *Server) tokens() []Token {
	if len(s.site.Simulator.Tokens) > 0 {
		return s.site.Simulator.Tokens
	}
	return []Token{{Name: DefaultTokenName, Secret: DefaultTokenSecret}}
}

// serveSignIn handles POST /api/{version}/auth/signin. A wrong token name,
// secret or site, or a revoked token, gets 401001 as on Tableau, and
// signing in with a token ends the sessions that token opened before.
func (s *Server) serveSignIn(w http.ResponseWriter, r *http.Request) {
	var req signInRequest
	if err := decodeBody(r, &req); err != nil {
		writeError(w, r, http.StatusBadRequest, "400000", "Bad Request",
			"The sign-in request body could not be parsed as XML or JSON.")
		return
	}
	c := req.Credentials
	var token *Token
	for i, t := range s.tokens() {
		if t.Name == c.TokenName && subtle.ConstantTimeCompare([]byte(t.Secret), []byte(c.TokenSecret)) == 1 {
			token = &s.tokens()[i]
		}
	}
	if c.TokenName == "" || token == nil || token.Revoked || c.Site.ContentURL != s.site.Site {
		s.logger.Info("tableau simulator rejected a sign-in", "token_name", c.TokenName, "site", c.Site.ContentURL)
		writeError(w, r, http.StatusUnauthorized, "401001", "Signin Error", "Error signing in to Tableau Server")
		return
	}

	lifetime := time.Duration(token.Lifetime)
	if lifetime <= 0 {
		lifetime = DefaultSessionLifetime
	}
	sess := &session{
		token:     newSessionToken(),
		tokenName: token.Name,
		siteLUID:  s.site.SiteLUID,
		userID:    derivedID("User", token.Name),
		expires:   s.clock().Add(lifetime),
	}
	s.mu.Lock()
	for t, old := range s.sessions {
		if old.tokenName == token.Name {
			delete(s.sessions, t)
		}
	}
	s.sessions[sess.token] = sess
	s.mu.Unlock()

	writeREST(w, r, http.StatusOK, tsResponse{Credentials: &credentials{
		Token:                     sess.token,
		EstimatedTimeToExpiration: hoursMinutesSeconds(lifetime),
		Site:                      siteXML{ID: sess.siteLUID, ContentURL: s.site.Site},
		User:                      userXML{ID: sess.userID},
	}})
}

// serveSignOut handles POST /api/{version}/auth/signout with 204. Signing
// out of a session that already ended also returns 204.
func (s *Server) serveSignOut(w http.ResponseWriter, r *http.Request) {
	token := r.Header.Get(authHeader)
	if token == "" {
		writeError(w, r, http.StatusUnauthorized, "401000", "Unauthorized Access",
			"No authentication credentials were provided.")
		return
	}
	s.mu.Lock()
	delete(s.sessions, token)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// authenticate returns the session of a request or responds with 401: 401000
// without a token, 401002 for an unknown or expired one.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*session, bool) {
	token := r.Header.Get(authHeader)
	if token == "" {
		writeError(w, r, http.StatusUnauthorized, "401000", "Unauthorized Access",
			"No authentication credentials were provided.")
		return nil, false
	}
	s.mu.RLock()
	sess := s.sessions[token]
	s.mu.RUnlock()
	if sess != nil && !s.clock().Before(sess.expires) {
		s.expireSession(token)
		sess = nil
	}
	if sess == nil {
		writeError(w, r, http.StatusUnauthorized, "401002", "Unauthorized Access",
			"Invalid authentication credentials were provided.")
		return nil, false
	}
	return sess, true
}

// expireSession ends a session as a time-out would.
func (s *Server) expireSession(token string) {
	s.mu.Lock()
	delete(s.sessions, token)
	s.mu.Unlock()
}

// ExpireSessions ends every open session, as a server restart or an
// administrator would.
func (s *Server) ExpireSessions() {
	s.mu.Lock()
	clear(s.sessions)
	s.mu.Unlock()
}

// Sessions returns the number of open sessions.
func (s *Server) Sessions() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	n := 0
	now := s.clock()
	for _, sess := range s.sessions {
		if now.Before(sess.expires) {
			n++
		}
	}
	return n
}

func hoursMinutesSeconds(d time.Duration) string {
	secs := int(d / time.Second)
	return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}

func newSessionToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
