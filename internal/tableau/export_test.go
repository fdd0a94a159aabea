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

// SetPageSizes sets the REST page size and the workbook listing's page size
// until the test ends.
func SetPageSizes(t interface{ Cleanup(func()) }, rest, list int) {
	oldREST, oldList := restPageSize, listPageSize
	restPageSize, listPageSize = rest, list
	t.Cleanup(func() { restPageSize, listPageSize = oldREST, oldList })
}
