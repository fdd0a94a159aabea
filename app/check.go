package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// TableauCheckTimeout bounds the sign-in the worker tries at start, so that
// an unreachable server delays the start by at most this long.
const TableauCheckTimeout = 30 * time.Second

// CheckTableau signs in to Tableau once, within timeout, so that a worker
// with a wrong or revoked token stops at start instead of failing every
// sync later. It returns an error when Tableau rejects the credentials, or
// ctx's error when ctx ends first. Any other failure, such as an
// unreachable server, is logged as a warning and the worker goes on,
// because the activities retry.
func CheckTableau(ctx context.Context, tc *tableau.Client, timeout time.Duration, logger *slog.Logger) error {
	checkCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	siteLUID, err := tc.SiteLUID(checkCtx)
	switch {
	case err == nil:
		logger.Info("tableau credentials accepted", "server_url", tc.ServerURL(), "site", tc.Site(), "site_luid", siteLUID)
		return nil
	case errors.Is(err, tableau.ErrInvalidCredentials):
		return fmt.Errorf("tableau rejected the credentials for site %q at %s: %w: check TABLEAU_TOKEN_NAME, TABLEAU_TOKEN_SECRET and TABLEAU_SITE (the token may be expired or revoked), then start the worker again",
			tc.Site(), tc.ServerURL(), err)
	case ctx.Err() != nil:
		// The worker was stopped while it signed in.
		return ctx.Err()
	}
	logger.Warn("signing in to tableau at start failed, starting anyway: activities retry until it is reachable",
		"server_url", tc.ServerURL(), "site", tc.Site(), "timeout", timeout.String(), "error", err)
	return nil
}
