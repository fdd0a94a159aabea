package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"os"

	"go.temporal.io/sdk/client"
	temporallog "go.temporal.io/sdk/log"

	"github.com/autoexposures/autoexposures/internal/config"
)

// Dial connects to the Temporal server t names, with TLS and an API key
// where given, and logs through logger.
func Dial(ctx context.Context, t config.Temporal, logger *slog.Logger) (client.Client, error) {
	opts := client.Options{
		HostPort:  t.Address,
		Namespace: t.Namespace,
		Logger:    temporallog.NewStructuredLogger(logger),
	}
	if t.TLS() {
		tlsConfig, err := tlsConfig(t)
		if err != nil {
			return nil, err
		}
		opts.ConnectionOptions.TLS = tlsConfig
	}
	if t.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(string(t.APIKey))
	}

	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %s): %w: check TEMPORAL_ADDRESS and that the server runs", t.Address, t.Namespace, err)
	}
	return c, nil
}

func tlsConfig(t config.Temporal) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.TLSServerName}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(t.Address)
		if err == nil {
			cfg.ServerName = host
		}
	}
	if t.TLSCertPath != "" {
		cert, err := tls.LoadX509KeyPair(t.TLSCertPath, t.TLSKeyPath)
		if err != nil {
			return nil, fmt.Errorf("loading TEMPORAL_TLS_CERT %s and TEMPORAL_TLS_KEY %s: %w", t.TLSCertPath, t.TLSKeyPath, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	if t.TLSCAPath != "" {
		pem, err := os.ReadFile(t.TLSCAPath)
		if err != nil {
			return nil, fmt.Errorf("reading TEMPORAL_TLS_CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("TEMPORAL_TLS_CA %s contains no PEM certificate: point it at the CA certificate file", t.TLSCAPath)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
