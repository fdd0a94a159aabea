package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"go.temporal.io/sdk/temporal"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// reportWaitError prints why waiting for a workflow stopped and returns the
// exit code. When the starter gave up (timeout or signal) the workflow goes
// on, and exitStillRunning lets orchestrators tell that from a failure.
func reportWaitError(stderr io.Writer, command, workflowID string, timeout time.Duration, err error) int {
	var execErr *temporal.WorkflowExecutionError
	switch {
	case errors.As(err, &execErr):
		fmt.Fprintf(stderr, "starter %s: workflow %s failed: %s\n", command, workflowID, failureMessage(err))
		return exitFailure
	case isWaitCanceled(err, context.DeadlineExceeded, codes.DeadlineExceeded):
		fmt.Fprintf(stderr, "starter %s: stopped waiting after %s; workflow %s is still running: see `starter status`\n", command, timeout, workflowID)
		return exitStillRunning
	case isWaitCanceled(err, context.Canceled, codes.Canceled):
		fmt.Fprintf(stderr, "starter %s: stopped waiting (interrupted); workflow %s is still running: see `starter status`\n", command, workflowID)
		return exitStillRunning
	default:
		fmt.Fprintf(stderr, "starter %s: waiting for workflow %s: %v\n", command, workflowID, err)
		return exitFailure
	}
}

// isWaitCanceled reports whether err ended a wait because its context
// ended. The SDK returns either the context error or a gRPC status with
// the matching code, depending on where the wait was when it ended.
func isWaitCanceled(err, ctxErr error, code codes.Code) bool {
	if errors.Is(err, ctxErr) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s, ok := e.(interface{ Status() *status.Status }); ok && s.Status().Code() == code {
			return true
		}
		if s, ok := status.FromError(e); ok && s.Code() == code {
			return true
		}
	}
	return false
}

// failureMessage returns the message of the innermost application error
// in a workflow failure, because that message names the value and the fix.
// The whole chain repeats each activity's context, so it is shown only when
// there is no application error.
func failureMessage(err error) string {
	var innermost *temporal.ApplicationError
	for e := err; e != nil; e = errors.Unwrap(e) {
		if app, ok := e.(*temporal.ApplicationError); ok {
			innermost = app
		}
	}
	if innermost == nil {
		return err.Error()
	}
	return innermost.Message()
}
