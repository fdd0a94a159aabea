package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func TestFailureMessageShowsInnermostCause(t *testing.T) {
	inner := temporal.NewNonRetryableApplicationError("collection \"Bogus\" not found: check AUTOEXPOSURES_COLLECTIONS", "NotFound", nil)
	outer := temporal.NewApplicationErrorWithCause("listing workbooks: "+inner.Error(), "Wrapped", inner)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"nested application errors", fmt.Errorf("workflow failed: %w", outer), `collection "Bogus" not found: check AUTOEXPOSURES_COLLECTIONS`},
		{"no application error", fmt.Errorf("plain failure"), "plain failure"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, failureMessage(tt.err)); diff != "" {
				t.Errorf("failureMessage (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReportWaitErrorExitCodes(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
		want     string
	}{
		{"context deadline", context.DeadlineExceeded, exitStillRunning, "stopped waiting after 1m0s; workflow w1 is still running: see `starter status`"},
		{"gRPC deadline", fmt.Errorf("polling: %w", status.Error(codes.DeadlineExceeded, "context deadline exceeded")), exitStillRunning, "stopped waiting after 1m0s; workflow w1 is still running"},
		{"service deadline", serviceerror.NewDeadlineExceeded("context deadline exceeded"), exitStillRunning, "stopped waiting after 1m0s"},
		{"signal", context.Canceled, exitStillRunning, "stopped waiting (interrupted); workflow w1 is still running"},
		{"service canceled", serviceerror.NewCanceled("context canceled"), exitStillRunning, "stopped waiting (interrupted)"},
		{"other error", errors.New("connection refused"), exitFailure, "waiting for workflow w1: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := reportWaitError(&stderr, "sync", "w1", time.Minute, tt.err)
			if code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", code, tt.wantCode)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("stderr does not contain %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}
