package tableau

import (
	"context"
	"time"
)

// SetSleep replaces the wait between retries, so that tests record the waits
// the client chose instead of sitting them out.
func SetSleep(c *Client, sleep func(ctx context.Context, d time.Duration) error) {
	c.sleep = sleep
}
