package tableau

import (
	"context"
	"sync"
	"time"
)

// customSQLReuse is how long the site's custom SQL, read in full because the
// Metadata API cannot filter it by workbook, serves later reads. A sync that
// reads a site in chunks, one call per chunk, then reads it once. A query
// edited within this time shows up in the next sync.
const customSQLReuse = 2 * time.Minute

// customSQLRead is a read of the site's custom SQL running in the
// background.
type customSQLRead struct {
	done  chan struct{}
	nodes []customSQLNode
	err   error
}

// startCustomSQL starts reading the site's custom SQL, unless a read from
// less than customSQLReuse ago can serve. It stops when ctx ends.
func (c *Client) startCustomSQL(ctx context.Context) *customSQLRead {
	r := &customSQLRead{done: make(chan struct{})}
	c.sqlMu.Lock()
	fresh := !c.sqlReadAt.IsZero() && time.Since(c.sqlReadAt) < customSQLReuse
	nodes := c.sqlNodes
	c.sqlMu.Unlock()
	if fresh {
		r.nodes = nodes
		close(r.done)
		return r
	}

	go func() {
		defer close(r.done)
		started := time.Now()
		r.nodes, r.err = c.readCustomSQLNodes(ctx)
		if r.err == nil {
			c.sqlMu.Lock()
			c.sqlNodes, c.sqlReadAt = r.nodes, started
			c.sqlMu.Unlock()
		}
	}()
	return r
}

// wait returns the custom SQL once read.
func (r *customSQLRead) wait(ctx context.Context) ([]customSQLNode, error) {
	select {
	case <-r.done:
		return r.nodes, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// datasourceReads reads published data sources as workbook batches reveal
// them, alongside the remaining workbook batches. Each LUID is read once.
type datasourceReads struct {
	client *Client
	wake   chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	seen    map[string]bool
	pending []string
	closed  bool
	nodes   []publishedDatasourceNode
	err     error
}

func (c *Client) startDatasourceReads(ctx context.Context) *datasourceReads {
	d := &datasourceReads{
		client: c,
		wake:   make(chan struct{}, 1),
		done:   make(chan struct{}),
		seen:   map[string]bool{},
	}
	go d.run(ctx)
	return d
}

// add queues the published data sources that a workbook batch uses.
func (d *datasourceReads) add(luids []string) {
	d.mu.Lock()
	for _, luid := range luids {
		if luid != "" && !d.seen[luid] {
			d.seen[luid] = true
			d.pending = append(d.pending, luid)
		}
	}
	d.mu.Unlock()
	d.signal()
}

func (d *datasourceReads) signal() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

func (d *datasourceReads) run(ctx context.Context) {
	defer close(d.done)
	for {
		d.mu.Lock()
		batch, closed := d.pending, d.closed
		d.pending = nil
		d.mu.Unlock()

		if len(batch) > 0 {
			nodes, err := d.client.readPublishedDatasourceNodes(ctx, uniqueSorted(batch))
			d.mu.Lock()
			d.nodes = append(d.nodes, nodes...)
			d.err = err
			d.mu.Unlock()
			if err != nil {
				return
			}
			continue
		}
		if closed {
			return
		}
		select {
		case <-d.wake:
		case <-ctx.Done():
			d.mu.Lock()
			d.err = ctx.Err()
			d.mu.Unlock()
			return
		}
	}
}

// finish waits until every queued data source is read and returns them.
func (d *datasourceReads) finish() ([]publishedDatasourceNode, error) {
	d.mu.Lock()
	d.closed = true
	d.mu.Unlock()
	d.signal()
	d.wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.nodes, d.err
}

// wait waits for the background reader to stop.
func (d *datasourceReads) wait() { <-d.done }
