package tableau

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// Config is the client's configuration, read from TABLEAU_* environment
// variables by LoadConfig. docs/tableau.md describes each variable.
type Config struct {
	// ServerURL is the address the user pasted: a host name
	// ("10az.online.tableau.com"), a browser URL
	// ("https://10az.online.tableau.com/#/site/acme/explore") or a Tableau
	// Server URL with a path prefix ("https://bi.example.com/tableau").
	// Resolve turns it into the server's base URL.
	ServerURL string `env:"TABLEAU_SERVER_URL, required"`
	// Site is the site's content URL, the name after /site/ in the browser;
	// empty selects the default site of Tableau Server.
	Site      string `env:"TABLEAU_SITE"`
	TokenName string `env:"TABLEAU_TOKEN_NAME, required"`
	// TokenSecret is the personal access token secret. It is never logged
	// and never part of an error message.
	TokenSecret string `env:"TABLEAU_TOKEN_SECRET, required"`
	// APIVersion is the REST API version such as "3.24"; empty lets the
	// server's serverinfo decide.
	APIVersion string `env:"TABLEAU_API_VERSION"`
	// RequestTimeout bounds each HTTP request, including reading its body.
	RequestTimeout time.Duration `env:"TABLEAU_REQUEST_TIMEOUT, default=60s"`
	// Concurrency is the maximum number of requests in flight at once.
	Concurrency int `env:"TABLEAU_CONCURRENCY, default=4"`
	// MaxAttempts is how many times a read is tried in all when Tableau
	// responds with a retryable error (429, 5xx, RATE_EXCEEDED, time-out).
	MaxAttempts int `env:"TABLEAU_MAX_ATTEMPTS, default=5"`
	// MaxRetryWait is the longest wait between two tries that the client
	// waits out itself. A longer Retry-After goes back to the caller as a
	// retryable error that carries the wait.
	MaxRetryWait time.Duration `env:"TABLEAU_MAX_RETRY_WAIT, default=60s"`
	// NodeLimit is the Metadata API's node limit per response that batches
	// are sized for: 20,000 on Tableau Cloud and by default on Tableau
	// Server, where an administrator can change it.
	NodeLimit int `env:"TABLEAU_NODE_LIMIT, default=20000"`
}

// Defaults for fields left zero when a Config is built in code.
const (
	defaultRequestTimeout = 60 * time.Second
	defaultConcurrency    = 4
	defaultMaxAttempts    = 5
	defaultMaxRetryWait   = 60 * time.Second
)

// LoadConfig reads the configuration from the process environment and
// resolves the server URL and site name.
func LoadConfig(ctx context.Context) (Config, error) {
	return LoadConfigFrom(ctx, envconfig.OsLookuper())
}

// LoadConfigFrom reads the configuration from l, for tests and for callers
// that keep settings elsewhere.
func LoadConfigFrom(ctx context.Context, l envconfig.Lookuper) (Config, error) {
	var cfg Config
	if err := envconfig.ProcessWith(ctx, &envconfig.Config{Target: &cfg, Lookuper: l}); err != nil {
		return Config{}, fmt.Errorf("loading Tableau configuration: %s: %w", envNameInError(err), err)
	}
	resolved, err := cfg.Resolve()
	if err != nil {
		return Config{}, err
	}
	return resolved, nil
}

// Resolve checks the configuration, fills defaults and turns ServerURL into
// the server's base URL (scheme, host and path prefix, no trailing slash)
// with the site name taken from the URL when TABLEAU_SITE is empty.
func (c Config) Resolve() (Config, error) {
	server, site, siteInURL, err := ParseServerURL(c.ServerURL)
	if err != nil {
		return Config{}, err
	}
	configured := strings.TrimSpace(c.Site)
	switch {
	case siteInURL && configured != "" && !strings.EqualFold(site, configured):
		return Config{}, fmt.Errorf("TABLEAU_SERVER_URL names site %q but TABLEAU_SITE is %q: make them agree or leave TABLEAU_SITE empty", site, configured)
	case siteInURL:
		c.Site = site
	default:
		c.Site = configured
	}
	c.ServerURL = server

	if strings.TrimSpace(c.TokenName) == "" {
		return Config{}, errors.New("TABLEAU_TOKEN_NAME is empty: set it to the name of a personal access token")
	}
	if c.TokenSecret == "" {
		return Config{}, errors.New("TABLEAU_TOKEN_SECRET is empty: set it to the secret shown when the personal access token was created")
	}
	if c.APIVersion != "" && !validAPIVersion(c.APIVersion) {
		return Config{}, fmt.Errorf("TABLEAU_API_VERSION %q is not a REST API version such as 3.24: fix it or leave it empty", c.APIVersion)
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = defaultRequestTimeout
	}
	if c.RequestTimeout < 0 {
		return Config{}, fmt.Errorf("TABLEAU_REQUEST_TIMEOUT %s is negative: use a duration such as 60s", c.RequestTimeout)
	}
	if c.Concurrency == 0 {
		c.Concurrency = defaultConcurrency
	}
	if c.Concurrency < 0 {
		return Config{}, fmt.Errorf("TABLEAU_CONCURRENCY %d is negative: use 1 or more", c.Concurrency)
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = defaultMaxAttempts
	}
	if c.MaxAttempts < 0 {
		return Config{}, fmt.Errorf("TABLEAU_MAX_ATTEMPTS %d is negative: use 1 or more", c.MaxAttempts)
	}
	if c.NodeLimit == 0 {
		c.NodeLimit = NodeLimit
	}
	if c.NodeLimit < 0 {
		return Config{}, fmt.Errorf("TABLEAU_NODE_LIMIT %d is negative: use the Metadata API node limit of the server, 20000 unless an administrator changed it", c.NodeLimit)
	}
	if c.MaxRetryWait == 0 {
		c.MaxRetryWait = defaultMaxRetryWait
	}
	if c.MaxRetryWait < 0 {
		return Config{}, fmt.Errorf("TABLEAU_MAX_RETRY_WAIT %s is negative: use a duration such as 60s", c.MaxRetryWait)
	}
	return c, nil
}

// LogValue keeps the token secret out of logs when a Config is logged.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server_url", c.ServerURL),
		slog.String("site", c.Site),
		slog.String("token_name", c.TokenName),
		slog.String("api_version", c.APIVersion),
		slog.Duration("request_timeout", c.RequestTimeout),
		slog.Int("concurrency", c.Concurrency),
		slog.Int("node_limit", c.NodeLimit),
	)
}

// String keeps the token secret out of fmt output.
func (c Config) String() string {
	return fmt.Sprintf("tableau.Config{ServerURL:%q Site:%q TokenName:%q TokenSecret:[redacted] APIVersion:%q RequestTimeout:%s Concurrency:%d}",
		c.ServerURL, c.Site, c.TokenName, c.APIVersion, c.RequestTimeout, c.Concurrency)
}

// GoString keeps the token secret out of %#v output.
func (c Config) GoString() string { return c.String() }

// ParseServerURL turns what a user pasted into the server's base URL and,
// when the URL names one, the site's content URL. It accepts
//
//	10az.online.tableau.com                              (https is assumed)
//	https://10az.online.tableau.com/#/site/acme/explore  (site "acme")
//	https://bi.example.com/tableau/#/site/acme/views/x   (path prefix /tableau)
//	https://10az.online.tableau.com/t/acme/views/Wb/Sh   (site "acme")
//	https://bi.example.com/#/home                        (default site)
//
// siteInURL is false when the URL does not name a site, which is also how
// the default site of Tableau Server looks in a browser.
func ParseServerURL(raw string) (server, site string, siteInURL bool, err error) {
	text := strings.TrimSpace(raw)
	if text == "" {
		return "", "", false, errors.New("TABLEAU_SERVER_URL is empty: set it to the address your browser shows for Tableau, such as https://10az.online.tableau.com/#/site/acme/explore")
	}
	if !strings.Contains(text, "://") {
		text = "https://" + text
	}
	u, err := url.Parse(text)
	if err != nil {
		return "", "", false, fmt.Errorf("TABLEAU_SERVER_URL %q is not a URL: paste the address your browser shows for Tableau", raw)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return "", "", false, fmt.Errorf("TABLEAU_SERVER_URL %q uses scheme %q: use https", raw, u.Scheme)
	}
	if u.Host == "" {
		return "", "", false, fmt.Errorf("TABLEAU_SERVER_URL %q has no host name: paste the address your browser shows for Tableau", raw)
	}
	if u.User != nil {
		return "", "", false, fmt.Errorf("TABLEAU_SERVER_URL for host %q contains a user name or password: remove it and use TABLEAU_TOKEN_NAME and TABLEAU_TOKEN_SECRET", u.Host)
	}

	// The browser keeps the site in the fragment: #/site/acme/explore.
	if name, ok := siteAfter(strings.Split(u.Fragment, "/"), "site"); ok {
		site, siteInURL = name, true
	}

	// The path holds the server's prefix, and for some links the site as
	// /t/acme/..., or the REST API path when one was pasted.
	segments := strings.Split(strings.Trim(u.Path, "/"), "/")
	prefix := segments[:0:0]
	for i := 0; i < len(segments); i++ {
		seg := segments[i]
		if seg == "" {
			continue
		}
		if seg == "t" && i+1 < len(segments) && segments[i+1] != "" {
			if !siteInURL {
				site, siteInURL = segments[i+1], true
			}
			break
		}
		if seg == "api" || seg == "views" || seg == "vizportal" {
			break
		}
		prefix = append(prefix, seg)
	}

	server = u.Scheme + "://" + u.Host
	if len(prefix) > 0 {
		server += "/" + strings.Join(prefix, "/")
	}
	if siteInURL {
		decoded, err := url.PathUnescape(site)
		if err == nil {
			site = decoded
		}
	}
	return server, site, siteInURL, nil
}

// envNameInError returns the environment variable that an envconfig error
// is about: envconfig names the Go field ("RequestTimeout: time: invalid
// duration"), while users set TABLEAU_REQUEST_TIMEOUT.
func envNameInError(err error) string {
	field, _, _ := strings.Cut(err.Error(), ":")
	f, ok := reflect.TypeFor[Config]().FieldByName(strings.TrimSpace(field))
	if !ok {
		return "check the TABLEAU_* variables"
	}
	name, _, _ := strings.Cut(f.Tag.Get("env"), ",")
	return "check " + name
}

// siteAfter returns the segment after key in a fragment such as
// /site/acme/explore.
func siteAfter(segments []string, key string) (string, bool) {
	for i, seg := range segments {
		if seg == key && i+1 < len(segments) && segments[i+1] != "" {
			return segments[i+1], true
		}
	}
	return "", false
}

// validAPIVersion reports whether v looks like "3.24".
func validAPIVersion(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok || major == "" || minor == "" {
		return false
	}
	for _, r := range major + minor {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
