package activities

import (
	"context"
	"time"

	"go.temporal.io/sdk/activity"
)

// keepAlive heartbeats at once and then every third of the activity's
// heartbeat timeout until the returned stop is called, for work that has no
// natural progress to report, such as matching or decoding a manifest. With
// a short heartbeat timeout, Temporal notices a killed worker within seconds
// instead of waiting out the start-to-close timeout. Call stop before
// returning.
func keepAlive(ctx context.Context) (stop func()) {
	activity.RecordHeartbeat(ctx)
	interval := activity.GetInfo(ctx).HeartbeatTimeout / 3
	if interval <= 0 {
		interval = 10 * time.Second
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}
