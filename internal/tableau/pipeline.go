package tableau

import (
	"context"
	"sync"
	"time"

	"github.com/shurcooL/graphql"
)

// customSQLReuse is how long the site's custom SQL, read in full because the
// Metadata API cannot filter it by workbook, serves later reads. A sync that
// reads a site in chunks, one call per chunk, then reads it once. A query
// edited within this time shows up in the next sync. Published data sources
// are not reused this way: their extract refresh times must be current.
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

// probeRead reads the lineage of the first workbooks of a selection while
// the listing runs. It measures the nodes per workbook, so that every
// remaining batch can be sized and sent at once instead of after a first
// batch read alone.
type probeRead struct {
	done  chan struct{}
	nodes []workbookNode
	err   error
}

// startProbe starts a probe when the selection can be read without the
// listing (the whole site or projects) and the cost per workbook is not
// known yet. It returns nil otherwise.
func (c *Client) startProbe(ctx context.Context, sel Selection) *probeRead {
	if c.workbookCost.measured() || len(sel.Collections) > 0 || len(sel.WorkbookLUIDs) > 0 {
		return nil
	}
	var filter *Workbook_Filter
	if len(sel.Projects) > 0 {
		filter = &Workbook_Filter{ProjectNameWithin: sel.Projects}
	}
	p := &probeRead{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		var q readWorkbooksQuery
		size := c.workbookCost.batchSize()
		p.err = c.query(ctx, "reading Tableau workbook lineage", &q, map[string]any{
			"first":  graphql.Int(size),
			"after":  cursor(""),
			"filter": filter,
		})
		if isTooBig(p.err) {
			// The guess was too low; the batches that follow start over.
			c.workbookCost.exceeded()
			p.err = nil
			return
		}
		if p.err != nil {
			return
		}
		p.nodes = q.WorkbooksConnection.Nodes
		nodes := 0
		for _, n := range p.nodes {
			nodes += workbookNodeCost(n)
		}
		c.workbookCost.observe(nodes, len(p.nodes))
	}()
	return p
}

// wait waits for the probe to end, if there is one.
func (p *probeRead) wait() {
	if p != nil {
		<-p.done
	}
}

// take returns the probed workbooks that are among luids, and the LUIDs
// still to read. A nil probe takes nothing.
func (p *probeRead) take(ctx context.Context, luids []string) (probed []workbookNode, rest []string, err error) {
	if p == nil {
		return nil, luids, nil
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return nil, nil, ctx.Err()
	}
	if p.err != nil {
		return nil, nil, p.err
	}
	wanted := make(map[string]bool, len(luids))
	for _, luid := range luids {
		wanted[luid] = true
	}
	have := map[string]bool{}
	for _, n := range p.nodes {
		// A workbook created or deleted between the probe and the listing
		// follows the listing.
		if wanted[n.LUID] && !have[n.LUID] {
			have[n.LUID] = true
			probed = append(probed, n)
		}
	}
	for _, luid := range luids {
		if !have[luid] {
			rest = append(rest, luid)
		}
	}
	return probed, rest, nil
}
