package tableau

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shurcooL/graphql"
)

// listPageSize is the page size of the cheap workbook listing. The listing
// costs about one node per workbook, so a page stays well under NodeLimit.
// Tests lower it to read several pages.
var listPageSize = 10000

// luidChunk is the most LUIDs one luidWithin filter of the listing carries.
const luidChunk = 5000

// WorkbookRef is a workbook as the cheap listing returns it.
type WorkbookRef struct {
	LUID        string
	Name        string
	ProjectName string
	UpdatedAt   time.Time
}

// ReadResult is the lineage of the workbooks that ReadWorkbooks was asked
// for.
type ReadResult struct {
	Workbooks []Workbook
	// PublishedDatasources are the published data sources the workbooks
	// read, each once.
	PublishedDatasources []PublishedDatasource
	// Missing holds the requested LUIDs that Tableau no longer returns:
	// workbooks deleted, or hidden from the token's user, since the listing.
	Missing []string
}

// ListWorkbooks lists the selected workbooks cheaply (LUID, name, project,
// updated time), sorted by LUID. The selection is the union of the
// collections (by name or LUID), the projects (by name) and the workbook
// LUIDs it names. An empty selection lists every workbook on the site. A
// collection that does not exist is a non-retryable error that names it.
//
// Whatever the selection, it also returns every collection of the site with
// its workbook LUIDs. A snapshot therefore records the same membership for a
// workbook however the workbook was selected. On a site that does not serve the collections methods it
// logs that once and returns no collections, unless the selection names
// collections: then it fails with a non-retryable ErrNotFound that explains this.
func (c *Client) ListWorkbooks(ctx context.Context, sel Selection) ([]WorkbookRef, []Collection, error) {
	site, err := c.siteCollections(ctx)
	if notServed(err) {
		if len(sel.Collections) > 0 {
			return nil, nil, c.notServedError(ctx, "resolving the selected collections", err)
		}
		version, _ := c.apiVersion(ctx)
		c.logger.WarnContext(ctx, "tableau site does not serve collections, reading workbooks without their collection membership",
			"site", c.cfg.Site, "api_version", version, "collections_need", collectionsVersion, "error", err)
		site, err = nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	cols, err := c.resolveCollections(site, sel.Collections)
	if err != nil {
		return nil, nil, err
	}

	byLUID := map[string]WorkbookRef{}
	add := func(refs []WorkbookRef) {
		for _, r := range refs {
			byLUID[r.LUID] = r
		}
	}

	if sel.IsEmpty() {
		refs, err := c.listWorkbooks(ctx, nil)
		if err != nil {
			return nil, nil, err
		}
		add(refs)
	}

	var luids []string
	for _, col := range cols {
		luids = append(luids, col.WorkbookLUIDs...)
	}
	luids = append(luids, sel.WorkbookLUIDs...)
	luids = uniqueSorted(luids)
	for chunk := range slices.Chunk(luids, luidChunk) {
		refs, err := c.listWorkbooks(ctx, &Workbook_Filter{LUIDWithin: chunk})
		if err != nil {
			return nil, nil, err
		}
		add(refs)
	}
	if len(sel.WorkbookLUIDs) > 0 {
		for _, luid := range sel.WorkbookLUIDs {
			if _, ok := byLUID[luid]; !ok {
				c.logger.WarnContext(ctx, "selected tableau workbook not found, skipping it", "workbook_luid", luid, "site", c.cfg.Site)
			}
		}
	}

	if len(sel.Projects) > 0 {
		refs, err := c.listWorkbooks(ctx, &Workbook_Filter{ProjectNameWithin: sel.Projects})
		if err != nil {
			return nil, nil, err
		}
		add(refs)
	}

	out := make([]WorkbookRef, 0, len(byLUID))
	for _, r := range byLUID {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b WorkbookRef) int { return strings.Compare(a.LUID, b.LUID) })
	return out, site, nil
}

// listWorkbooks pages through the cheap listing. Without orderBy the
// Metadata API sorts by id, which keeps cursors stable between pages.
func (c *Client) listWorkbooks(ctx context.Context, filter *Workbook_Filter) ([]WorkbookRef, error) {
	var out []WorkbookRef
	first := listPageSize
	after := ""
	for {
		var q listWorkbooksQuery
		vars := map[string]any{
			"first":  graphql.Int(first),
			"after":  cursor(after),
			"filter": filter,
		}
		err := c.query(ctx, "listing Tableau workbooks", &q, vars)
		if isTooBig(err) && first > 1 {
			first /= 2
			c.logger.WarnContext(ctx, "tableau workbook listing page too large, shrinking it", "page_size", first, "error", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, n := range q.WorkbooksConnection.Nodes {
			out = append(out, WorkbookRef{
				LUID:        n.LUID,
				Name:        n.Name,
				ProjectName: n.ProjectName,
				UpdatedAt:   parseTime(n.UpdatedAt),
			})
		}
		pi := q.WorkbooksConnection.PageInfo
		if !pi.HasNextPage {
			return out, nil
		}
		if pi.EndCursor == "" || pi.EndCursor == after {
			return nil, &Error{Kind: ErrServer, Message: "listing Tableau workbooks: the Metadata API reported a next page without a new cursor"}
		}
		after = pi.EndCursor
	}
}

// ReadWorkbooks reads full lineage for the given workbooks: owner, tags,
// dashboards, embedded data sources with their upstream tables and extract
// times, the published data sources they use, and the custom SQL that feeds
// both. It reads in batches (luidWithin) sized to stay under NodeLimit, up to
// Config.Concurrency at once. Workbooks that no longer exist are listed in
// ReadResult.Missing; that is not an error.
//
// The Metadata API cannot filter custom SQL by workbook, so the site's custom
// SQL is read in full and kept for customSQLReuse. Calls that read one site
// in chunks within that time read it once.
func (c *Client) ReadWorkbooks(ctx context.Context, luids []string) (ReadResult, error) {
	return c.readWorkbooks(ctx, luids, nil, nil)
}

// readWorkbooks reads the lineage of the workbooks. The site's custom SQL and
// the published data sources are read alongside the workbook batches, so
// that neither adds a round trip at the end. sql may carry a custom SQL read
// that the caller started earlier; nil starts one here. probe may carry the
// first workbooks of the selection, read while the listing ran.
func (c *Client) readWorkbooks(ctx context.Context, luids []string, sql *customSQLRead, probe *probeRead) (ReadResult, error) {
	luids = uniqueSorted(luids)
	if len(luids) == 0 {
		return ReadResult{}, nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if sql == nil {
		sql = c.startCustomSQL(ctx)
	}
	datasources := c.startDatasourceReads(ctx)
	addDatasources := func(batch []workbookNode) {
		var used []string
		for _, n := range batch {
			for _, d := range n.UpstreamDatasources {
				used = append(used, d.LUID)
			}
		}
		datasources.add(used)
	}

	probed, rest, err := probe.take(ctx, luids)
	if err != nil {
		cancel()
		datasources.wait()
		return ReadResult{}, err
	}
	addDatasources(probed)
	nodes, err := c.readWorkbookNodes(ctx, rest, addDatasources)
	nodes = append(probed, nodes...)
	if err != nil {
		cancel()
		datasources.wait()
		return ReadResult{}, err
	}
	dsNodes, err := datasources.finish()
	if err != nil {
		return ReadResult{}, err
	}
	sqlNodes, err := sql.wait(ctx)
	if err != nil {
		return ReadResult{}, err
	}

	result := ReadResult{}
	found := map[string]bool{}
	for _, n := range nodes {
		if found[n.LUID] {
			continue
		}
		found[n.LUID] = true
		result.Workbooks = append(result.Workbooks, c.workbookFromNode(n))
	}
	for _, luid := range luids {
		if !found[luid] {
			result.Missing = append(result.Missing, luid)
		}
	}
	if len(result.Missing) > 0 {
		c.logger.InfoContext(ctx, "tableau workbooks gone since listing", "count", len(result.Missing), "workbook_luids", result.Missing)
	}
	for _, n := range dsNodes {
		result.PublishedDatasources = append(result.PublishedDatasources, publishedDatasourceFromNode(n))
	}
	attachCustomSQL(&result, sqlNodes)

	slices.SortFunc(result.Workbooks, func(a, b Workbook) int { return strings.Compare(a.LUID, b.LUID) })
	slices.SortFunc(result.PublishedDatasources, func(a, b PublishedDatasource) int { return strings.Compare(a.LUID, b.LUID) })
	return result, nil
}

// readWorkbookNodes reads the lineage of the given workbooks in batches.
// onBatch is called with each batch as soon as it is read.
func (c *Client) readWorkbookNodes(ctx context.Context, luids []string, onBatch func([]workbookNode)) ([]workbookNode, error) {
	return readBatches(ctx, c, "workbooks", luids, c.workbookCost,
		func(ctx context.Context, batch []string) ([]workbookNode, error) {
			return pageAll(ctx, c, "reading Tableau workbook lineage", len(batch),
				func(first int, after string) ([]workbookNode, pageInfo, error) {
					var q readWorkbooksQuery
					err := c.query(ctx, "reading Tableau workbook lineage", &q, map[string]any{
						"first":  graphql.Int(first),
						"after":  cursor(after),
						"filter": &Workbook_Filter{LUIDWithin: batch},
					})
					return q.WorkbooksConnection.Nodes, q.WorkbooksConnection.PageInfo, err
				})
		}, workbookNodeCost, onBatch)
}

// readPublishedDatasourceNodes reads the lineage of published data sources
// in batches.
func (c *Client) readPublishedDatasourceNodes(ctx context.Context, luids []string) ([]publishedDatasourceNode, error) {
	if len(luids) == 0 {
		return nil, nil
	}
	return readBatches(ctx, c, "published data sources", luids, c.datasourceCost,
		func(ctx context.Context, batch []string) ([]publishedDatasourceNode, error) {
			return pageAll(ctx, c, "reading Tableau published data sources", len(batch),
				func(first int, after string) ([]publishedDatasourceNode, pageInfo, error) {
					var q readPublishedDatasourcesQuery
					err := c.query(ctx, "reading Tableau published data sources", &q, map[string]any{
						"first":  graphql.Int(first),
						"after":  cursor(after),
						"filter": &PublishedDatasource_Filter{LUIDWithin: batch},
					})
					return q.PublishedDatasourcesConnection.Nodes, q.PublishedDatasourcesConnection.PageInfo, err
				})
		}, datasourceNodeCost, nil)
}

// attachCustomSQL attaches each custom SQL query to the embedded and
// published data sources in result that contain it.
func attachCustomSQL(result *ReadResult, nodes []customSQLNode) {
	type ref struct{ workbook, datasource int }
	embedded := map[string][]ref{}
	for wi := range result.Workbooks {
		for di, d := range result.Workbooks[wi].EmbeddedDatasources {
			embedded[d.ID] = append(embedded[d.ID], ref{wi, di})
		}
	}
	published := map[string]int{}
	for i, d := range result.PublishedDatasources {
		if d.ID != "" {
			published[d.ID] = i
		}
	}

	for _, n := range nodes {
		sql := customSQLFromNode(n)
		for _, ds := range n.DownstreamDatasources {
			for _, r := range embedded[ds.ID] {
				d := &result.Workbooks[r.workbook].EmbeddedDatasources[r.datasource]
				d.CustomSQL = append(d.CustomSQL, sql)
			}
			if i, ok := published[ds.ID]; ok {
				d := &result.PublishedDatasources[i]
				d.CustomSQL = append(d.CustomSQL, sql)
			}
		}
	}
}

// customSQLPageSize is the first page size of the custom SQL read; a custom
// SQL node with a few tables costs about ten nodes.
const customSQLPageSize = 1000

// readCustomSQLNodes pages through the site's custom SQL, halving the page
// when Tableau rejects it as too large.
func (c *Client) readCustomSQLNodes(ctx context.Context) ([]customSQLNode, error) {
	var out []customSQLNode
	first := customSQLPageSize
	after := ""
	for {
		var q readCustomSQLQuery
		err := c.query(ctx, "reading Tableau custom SQL", &q, map[string]any{
			"first": graphql.Int(first),
			"after": cursor(after),
		})
		if isTooBig(err) && first > 1 {
			first /= 2
			c.logger.WarnContext(ctx, "tableau custom SQL page too large, shrinking it", "page_size", first, "error", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, q.CustomSQLTablesConnection.Nodes...)
		pi := q.CustomSQLTablesConnection.PageInfo
		if !pi.HasNextPage {
			return out, nil
		}
		if pi.EndCursor == "" || pi.EndCursor == after {
			return nil, &Error{Kind: ErrServer, Message: "reading Tableau custom SQL: the Metadata API reported a next page without a new cursor"}
		}
		after = pi.EndCursor
	}
}

// ReadSnapshot lists the selected workbooks and reads their lineage into a
// normalized Snapshot. Workbooks deleted between the listing and the read are
// left out. Whatever the selection, Collections lists every collection of
// the site with its workbooks, and each workbook lists the collections that
// contain it. Both are empty on a site without the collections methods.
func (c *Client) ReadSnapshot(ctx context.Context, sel Selection) (*Snapshot, error) {
	started := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// The site's custom SQL and the lineage of the first workbooks do not
	// depend on the listing, so they are read while the listing runs.
	sql := c.startCustomSQL(ctx)
	probe := c.startProbe(ctx, sel)
	refs, cols, err := c.ListWorkbooks(ctx, sel)
	if err != nil {
		cancel()
		_, _ = sql.wait(context.Background())
		probe.wait()
		return nil, err
	}
	luids := make([]string, len(refs))
	for i, r := range refs {
		luids[i] = r.LUID
	}
	res, err := c.readWorkbooks(ctx, luids, sql, probe)
	if err != nil {
		return nil, err
	}
	siteLUID, err := c.SiteLUID(ctx)
	if err != nil {
		return nil, err
	}

	inCollections := map[string][]string{}
	for _, col := range cols {
		for _, luid := range col.WorkbookLUIDs {
			inCollections[luid] = append(inCollections[luid], col.LUID)
		}
	}
	for i := range res.Workbooks {
		res.Workbooks[i].Collections = inCollections[res.Workbooks[i].LUID]
	}

	snap := &Snapshot{
		FormatVersion:        SnapshotFormatVersion,
		ServerURL:            c.cfg.ServerURL,
		Site:                 c.cfg.Site,
		SiteLUID:             siteLUID,
		Selection:            cloneSelection(sel),
		Collections:          cols,
		Workbooks:            res.Workbooks,
		PublishedDatasources: res.PublishedDatasources,
	}
	if snap.Workbooks == nil {
		snap.Workbooks = []Workbook{}
	}
	snap.Normalize()
	c.logger.InfoContext(ctx, "read tableau snapshot", "site", c.cfg.Site, "workbooks", len(snap.Workbooks),
		"published_datasources", len(snap.PublishedDatasources), "missing", len(res.Missing), "duration", time.Since(started))
	return snap, nil
}

func cloneSelection(sel Selection) Selection {
	return Selection{
		Collections:   slices.Clone(sel.Collections),
		Projects:      slices.Clone(sel.Projects),
		WorkbookLUIDs: slices.Clone(sel.WorkbookLUIDs),
	}
}

// uniqueSorted returns the non-empty values sorted, without duplicates.
func uniqueSorted(values []string) []string {
	out := make([]string, 0, len(values))
	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// workbookFromNode converts a Metadata API workbook into a Workbook.
func (c *Client) workbookFromNode(n workbookNode) Workbook {
	wb := Workbook{
		LUID:        n.LUID,
		Name:        n.Name,
		ProjectName: n.ProjectName,
		ProjectLUID: n.ProjectLUID,
		Description: n.Description,
		Owner:       Owner(n.Owner),
		WebURL:      c.webURL(n.URI),
		UpdatedAt:   parseTime(n.UpdatedAt),
	}
	for _, t := range n.Tags {
		if t.Name != "" {
			wb.Tags = append(wb.Tags, t.Name)
		}
	}
	for _, d := range n.Dashboards {
		wb.Dashboards = append(wb.Dashboards, Dashboard{ID: d.ID, LUID: d.LUID, Name: d.Name, Path: d.Path})
	}
	for _, d := range n.EmbeddedDatasources {
		wb.EmbeddedDatasources = append(wb.EmbeddedDatasources, EmbeddedDatasource{
			ID:                     d.ID,
			Name:                   d.Name,
			HasExtracts:            d.HasExtracts,
			ExtractLastRefreshTime: parseTimePtr(d.ExtractLastRefreshTime),
			UpstreamTables:         tablesFromNodes(d.UpstreamTables),
		})
	}
	for _, d := range n.UpstreamDatasources {
		if d.LUID != "" {
			wb.PublishedDatasourceLUIDs = append(wb.PublishedDatasourceLUIDs, d.LUID)
		}
	}
	if len(wb.PublishedDatasourceLUIDs) > 0 {
		wb.PublishedDatasourceLUIDs = uniqueSorted(wb.PublishedDatasourceLUIDs)
	}
	return wb
}

// webURL turns the Metadata API's uri ("sites/4989/workbooks/15995") into
// the address a browser opens: {server}/#/site/{site}/workbooks/15995, or
// {server}/#/workbooks/15995 on the default site.
func (c *Client) webURL(uri string) string {
	_, id, ok := strings.Cut(uri, "workbooks/")
	if !ok || id == "" {
		return ""
	}
	id, _, _ = strings.Cut(id, "/")
	if c.cfg.Site == "" {
		return c.cfg.ServerURL + "/#/workbooks/" + id
	}
	return c.cfg.ServerURL + "/#/site/" + c.cfg.Site + "/workbooks/" + id
}

func publishedDatasourceFromNode(n publishedDatasourceNode) PublishedDatasource {
	return PublishedDatasource{
		LUID:                   n.LUID,
		ID:                     n.ID,
		Name:                   n.Name,
		ProjectName:            n.ProjectName,
		Owner:                  Owner(n.Owner),
		HasExtracts:            n.HasExtracts,
		ExtractLastRefreshTime: parseTimePtr(n.ExtractLastRefreshTime),
		UpstreamTables:         tablesFromNodes(n.UpstreamTables),
	}
}

func customSQLFromNode(n customSQLNode) CustomSQL {
	sql := CustomSQL{
		ID:             n.ID,
		Name:           n.Name,
		Query:          n.Query,
		ConnectionType: n.ConnectionType,
		Tables:         tablesFromNodes(n.Tables),
	}
	if n.Database != nil {
		sql.Database = n.Database.Name
		if sql.ConnectionType == "" {
			sql.ConnectionType = n.Database.ConnectionType
		}
	}
	return sql
}

func tablesFromNodes(nodes []tableNode) []Table {
	var out []Table
	for _, t := range nodes {
		table := Table{
			ID:             t.ID,
			Name:           t.Name,
			Schema:         t.Schema,
			FullName:       t.FullName,
			ConnectionType: t.ConnectionType,
		}
		if t.Database != nil {
			table.Database = t.Database.Name
			if table.ConnectionType == "" {
				table.ConnectionType = t.Database.ConnectionType
			}
		}
		out = append(out, table)
	}
	return out
}

func parseTimePtr(value *string) *time.Time {
	if value == nil {
		return nil
	}
	t := parseTime(*value)
	if t.IsZero() {
		return nil
	}
	return &t
}

// pageAll reads every page of one batch. A batch normally fits one page
// because first equals the batch size.
func pageAll[T any](ctx context.Context, c *Client, what string, first int,
	page func(first int, after string) ([]T, pageInfo, error)) ([]T, error) {
	var out []T
	after := ""
	for {
		nodes, pi, err := page(first, after)
		if err != nil {
			return nil, err
		}
		out = append(out, nodes...)
		if !pi.HasNextPage {
			return out, nil
		}
		if pi.EndCursor == "" || pi.EndCursor == after {
			return nil, &Error{Kind: ErrServer, Message: fmt.Sprintf("%s: the Metadata API reported a next page without a new cursor", what)}
		}
		after = pi.EndCursor
	}
}
