package config

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/sethvargo/go-envconfig"
)

// Temporal is the connection to the Temporal server that the worker and
// the starter use.
type Temporal struct {
	Address   string `env:"TEMPORAL_ADDRESS, default=127.0.0.1:7233"`
	Namespace string `env:"TEMPORAL_NAMESPACE, default=default"`
	// TLSCertPath and TLSKeyPath are the client certificate and key for
	// mTLS, both or neither; TLSCAPath is the CA that signed the server's
	// certificate, when not a public one. Setting any of them, or an API
	// key, turns TLS on.
	TLSCertPath   string `env:"TEMPORAL_TLS_CERT"`
	TLSKeyPath    string `env:"TEMPORAL_TLS_KEY"`
	TLSCAPath     string `env:"TEMPORAL_TLS_CA"`
	TLSServerName string `env:"TEMPORAL_TLS_SERVER_NAME"`
	// APIKey authenticates to Temporal Cloud; it stays in the process.
	APIKey Secret `env:"TEMPORAL_API_KEY"`
}

// TLS reports whether the connection uses TLS.
func (t Temporal) TLS() bool {
	return t.TLSCertPath != "" || t.TLSKeyPath != "" || t.TLSCAPath != "" || t.APIKey != ""
}

// LoadTemporal reads the Temporal connection settings from the process
// environment and validates them.
func LoadTemporal(ctx context.Context) (Temporal, error) {
	return LoadTemporalFrom(ctx, envconfig.OsLookuper())
}

// LoadTemporalFrom reads the Temporal connection settings from l. The error
// is an *Error that lists every problem found.
func LoadTemporalFrom(ctx context.Context, l envconfig.Lookuper) (Temporal, error) {
	var t Temporal
	problems := process(ctx, &t, l)
	problems = append(problems, t.validate()...)
	if len(problems) > 0 {
		return t, &Error{Problems: problems}
	}
	return t, nil
}

func (t Temporal) validate() []string {
	var problems []string
	if _, _, err := net.SplitHostPort(t.Address); err != nil {
		problems = append(problems, fmt.Sprintf("TEMPORAL_ADDRESS=%q is not host:port: use an address such as 127.0.0.1:7233", t.Address))
	}
	if t.Namespace == "" {
		problems = append(problems, "TEMPORAL_NAMESPACE is empty: unset it for the namespace default or name one")
	}
	if (t.TLSCertPath == "") != (t.TLSKeyPath == "") {
		problems = append(problems, "TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY go together: set both for mTLS, or neither")
	}
	for _, f := range []struct{ name, path string }{
		{"TEMPORAL_TLS_CERT", t.TLSCertPath},
		{"TEMPORAL_TLS_KEY", t.TLSKeyPath},
		{"TEMPORAL_TLS_CA", t.TLSCAPath},
	} {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			problems = append(problems, fmt.Sprintf("%s=%q cannot be read (%v): fix the path", f.name, f.path, err))
		}
	}
	return problems
}

// Secret is a value that must not be printed: formatting it, logging it
// with slog or encoding it as JSON shows [redacted]. Convert it with
// string() where the value itself is needed.
type Secret string

const redacted = "[redacted]"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString keeps %#v from printing the value.
func (s Secret) GoString() string { return s.String() }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText keeps encoders (JSON included) from writing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
