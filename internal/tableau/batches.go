package tableau

import (
	"context"
	"fmt"
	"sync"
)

// Batch sizing. Tableau counts the nodes a response touches and rejects a
// response over NodeLimit, but the cost of a workbook is unknown until it is
// read. The client therefore reads one batch sized from a cautious guess,
// measures the nodes per workbook, and sizes the remaining batches to fill
// batchNodeTarget. A batch that still exceeds the limit is split in half.
const (
	// batchNodeShare of the node limit is what a batch aims for, leaving
	// room for workbooks larger than the average.
	batchNodeShare = 0.85
	// maxBatch bounds the LUIDs in one luidWithin filter.
	maxBatch = 5000
	// initialWorkbookCost guesses the nodes of one workbook with its owner,
	// tags, dashboards, data sources and tables before any is read.
	initialWorkbookCost = 40.0
	// initialDatasourceCost guesses the nodes of one published data source.
	initialDatasourceCost = 20.0
	// costMargin covers the spread between workbooks of one site.
	costMargin = 1.05
)

// costModel estimates the nodes per item from the batches read so far.
type costModel struct {
	mu      sync.Mutex
	target  float64
	initial float64
	nodes   int
	items   int
	// correction grows each time a batch exceeds the limit, for servers
	// that count more nodes than this client does.
	correction float64
}

func newCostModel(initial float64, nodeLimit int) *costModel {
	return &costModel{initial: initial, target: float64(nodeLimit) * batchNodeShare}
}

// measured reports whether any batch has been read yet.
func (m *costModel) measured() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.items > 0
}

func (m *costModel) perItem() float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	estimate := m.initial
	if m.items > 0 {
		estimate = float64(m.nodes) / float64(m.items) * costMargin
	}
	if m.correction > 1 {
		estimate *= m.correction
	}
	return max(estimate, 1)
}

func (m *costModel) batchSize() int {
	return min(max(int(m.target/m.perItem()), 1), maxBatch)
}

func (m *costModel) observe(nodes, items int) {
	if items <= 0 {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.nodes += nodes
	m.items += items
}

func (m *costModel) exceeded() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.correction = max(m.correction, 1) * 1.5
}

// readBatches reads items by LUID in batches under the node limit, up to
// Config.Concurrency at a time. Until model has measured a batch, the first
// batch is read alone to measure the cost. The Client keeps its models, so
// later calls skip that step. Results keep the order of the batches.
// onBatch, when not nil, is called with each batch as soon as it is read,
// from any goroutine.
func readBatches[T any](ctx context.Context, c *Client, what string, luids []string, model *costModel,
	read func(ctx context.Context, batch []string) ([]T, error), cost func(T) int, onBatch func([]T)) ([]T, error) {
	if len(luids) == 0 {
		return nil, nil
	}

	var readSplit func(ctx context.Context, batch []string) ([]T, error)
	readSplit = func(ctx context.Context, batch []string) ([]T, error) {
		items, err := read(ctx, batch)
		if isTooBig(err) {
			if len(batch) == 1 {
				return nil, fmt.Errorf("reading Tableau %s: %s alone is over the Metadata API limit: %w", what, batch[0], err)
			}
			model.exceeded()
			half := len(batch) / 2
			c.logger.WarnContext(ctx, "tableau batch too large, splitting it", "kind", what, "batch_size", len(batch), "error", err)
			left, err := readSplit(ctx, batch[:half])
			if err != nil {
				return nil, err
			}
			right, err := readSplit(ctx, batch[half:])
			if err != nil {
				return nil, err
			}
			return append(left, right...), nil
		}
		if err != nil {
			return nil, err
		}
		nodes := 0
		for _, it := range items {
			nodes += cost(it)
		}
		model.observe(nodes, len(items))
		if onBatch != nil {
			onBatch(items)
		}
		return items, nil
	}

	var out []T
	rest := luids
	if !model.measured() {
		// The first batch measures the cost per item.
		first := luids[:min(model.batchSize(), len(luids))]
		items, err := readSplit(ctx, first)
		if err != nil {
			return nil, err
		}
		out = items
		rest = luids[len(first):]
	}
	if len(rest) == 0 {
		return out, nil
	}

	size := model.batchSize()
	var batches [][]string
	for start := 0; start < len(rest); start += size {
		batches = append(batches, rest[start:min(start+size, len(rest))])
	}
	results := make([][]T, len(batches))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
		next     = make(chan int)
	)
	workers := min(c.cfg.Concurrency, len(batches))
	for range workers {
		wg.Go(func() {
			for i := range next {
				items, err := readSplit(ctx, batches[i])
				if err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					continue
				}
				results[i] = items
			}
		})
	}
feed:
	for i := range batches {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// workbookNodeCost counts the objects of one workbook in a response, as the
// Metadata API counts nodes: the workbook, its owner, each tag, dashboard,
// data source, table, table database and published data source reference.
func workbookNodeCost(n workbookNode) int {
	nodes := 2 + len(n.Tags) + len(n.Dashboards) + len(n.UpstreamDatasources)
	for _, d := range n.EmbeddedDatasources {
		nodes += 1 + tablesNodeCost(d.UpstreamTables)
	}
	return nodes
}

// datasourceNodeCost counts the objects of one published data source in a response.
func datasourceNodeCost(n publishedDatasourceNode) int {
	return 2 + tablesNodeCost(n.UpstreamTables)
}

func tablesNodeCost(tables []tableNode) int {
	nodes := len(tables)
	for _, t := range tables {
		if t.Database != nil {
			nodes++
		}
	}
	return nodes
}
