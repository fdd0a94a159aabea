package main

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/temporal"
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
