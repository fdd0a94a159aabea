package lineage

import (
	"slices"
	"strings"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// rebuiltStatuses are the run statuses (dbt's NodeStatus) of a model, seed
// or snapshot that changed its table: "partial success" is a microbatch
// model of which some batches were built.
var rebuiltStatuses = map[string]bool{"success": true, "partial success": true}

// ignoredStatuses are the statuses of nodes that failed or did not run
// because something upstream failed. "no-op" and "reused" nodes built
// nothing and are neither rebuilt nor ignored.
var ignoredStatuses = map[string]bool{"error": true, "runtime error": true, "skipped": true}

// FindStale returns the extracts that the dbt run made stale. Such an
// extract's data source reads a node R, and a model, seed or snapshot N
// completed successfully after the extract's last refresh. N is R itself,
// or N is upstream of R on a path where every node after N, R included,
// was rebuilt in the run or is a view or ephemeral model. A table or
// incremental model that was skipped, errored or not run keeps its old
// rows, so it stops the chain. An extract never refreshed is stale as soon
// as such an N exists. Live connections have no extract and are never
// stale.
//
// Only the tables of the extract's own data source count: a model read by
// a live data source of the same workbook makes no extract stale. Nodes
// that errored or were skipped make nothing stale and are listed in
// Ignored. A nil res is computed from the manifest and snapshot.
//
// Only the run results of commands that build tables count (rr.Command is
// run, build, seed, snapshot or retry). Those of any other command, such
// as dbt docs generate or dbt compile, which report every model they read
// as "success", are ignored: the report sets ResultsIgnored and says why
// in CommandNote. Run results without a command are read as a build, and
// CommandNote says so.
func FindStale(m *dbt.Manifest, snap *tableau.Snapshot, res *Result, rr *dbt.RunResults) StaleReport {
	var report StaleReport
	if m == nil || snap == nil || rr == nil {
		return report
	}
	report.Command = rr.Command
	builds, note := commandBuilds(rr.Command)
	report.CommandNote = note
	if !builds {
		report.ResultsIgnored = true
		return report
	}
	if res == nil {
		res = Compute(m, snap, Options{})
	}

	nodes := nodesByID(m)
	rebuilt, ignored := readRun(rr, nodes)
	g := &upstreamGraph{nodes: nodes, rebuilt: rebuilt, ignored: ignored, summaries: map[string]*upstreamSummary{}}

	refreshed := lastRefreshTimes(snap)
	ignoredExposures := map[string][]string{}
	for _, x := range collectExtracts(res) {
		last := refreshed[x.key]
		newer := func(at time.Time) bool { return !at.IsZero() && (last == nil || at.After(*last)) }

		var latest time.Time
		hasIgnored := false
		for _, id := range x.reads {
			sum := g.summary(id)
			if sum.latest.After(latest) {
				latest = sum.latest
			}
			hasIgnored = hasIgnored || sum.hasIgnored
		}

		if hasIgnored {
			g.walk(x.reads, func(sum *upstreamSummary) bool { return sum.hasIgnored }, nil, func(id string) {
				if _, ok := ignored[id]; ok {
					ignoredExposures[id] = append(ignoredExposures[id], x.exposures...)
				}
			})
		}
		if !newer(latest) {
			continue
		}

		var models []string
		g.walk(x.reads, func(sum *upstreamSummary) bool { return newer(sum.latest) }, g.carries, func(id string) {
			if newer(rebuilt[id]) {
				models = append(models, id)
			}
		})
		slices.Sort(models)

		exposures := slices.Clone(x.exposures)
		slices.Sort(exposures)
		report.Extracts = append(report.Extracts, StaleExtract{
			ExtractRef:  x.ref,
			LastRefresh: last,
			Exposures:   slices.Compact(exposures),
			Models:      models,
			RebuiltAt:   latest,
		})
	}
	slices.SortFunc(report.Extracts, func(a, b StaleExtract) int { return compareExtract(a.ExtractRef, b.ExtractRef) })

	for id, status := range ignored {
		exposures := ignoredExposures[id]
		slices.Sort(exposures)
		report.Ignored = append(report.Ignored, IgnoredResult{UniqueID: id, Status: status, Exposures: slices.Compact(exposures)})
	}
	slices.SortFunc(report.Ignored, func(a, b IgnoredResult) int { return strings.Compare(a.UniqueID, b.UniqueID) })
	return report
}

// buildingCommands are the values of args.which of the dbt commands that
// write tables: dbt run, build, seed and snapshot, and dbt retry, which
// runs again what failed in the previous command and is assumed to repeat
// one of those. Every other command (docs generate, compile, test, list,
// show, parse, run-operation, clone, source freshness) leaves the tables
// of models, seeds and snapshots as they were, although its results report
// them as "success".
var buildingCommands = map[string]bool{"run": true, "build": true, "seed": true, "snapshot": true, "retry": true}

// commandNames turns args.which into the command a user types, for notes.
var commandNames = map[string]string{"generate": "docs generate", "serve": "docs serve", "freshness": "source freshness", "ls": "list"}

// commandBuilds reports whether the results of a dbt command count as
// rebuilds, and the note the report shows about it.
func commandBuilds(which string) (bool, string) {
	switch {
	case which == "":
		return true, "the run results do not say which dbt command wrote them (no args.which), so they were read as a dbt build"
	case buildingCommands[which]:
		return true, ""
	}
	name := which
	if n, ok := commandNames[which]; ok {
		name = n
	}
	return false, "run results ignored: they were written by dbt " + name + ", which rebuilds no table; only dbt run, build, seed, snapshot and retry make extracts stale"
}

// nodesByID maps unique IDs to nodes. A disabled node never replaces an
// enabled one of the same unique ID: the manifest's disabled section can
// repeat an enabled node's unique ID with an empty depends_on, and the
// dependency graph is the enabled node's.
func nodesByID(m *dbt.Manifest) map[string]*dbt.Node {
	nodes := make(map[string]*dbt.Node, len(m.Nodes))
	for i := range m.Nodes {
		n := &m.Nodes[i]
		if prev, ok := nodes[n.UniqueID]; ok && prev.Enabled && !n.Enabled {
			continue
		}
		nodes[n.UniqueID] = n
	}
	return nodes
}

// readRun returns the completion time of each model, seed and snapshot
// that succeeded in the run, and the status of each one that did not.
func readRun(rr *dbt.RunResults, nodes map[string]*dbt.Node) (map[string]time.Time, map[string]string) {
	rebuilt := map[string]time.Time{}
	ignored := map[string]string{}
	for _, r := range rr.Results {
		if !isBuiltNode(r.UniqueID, nodes) {
			continue
		}
		if ignoredStatuses[r.Status] {
			ignored[r.UniqueID] = r.Status
			continue
		}
		if !rebuiltStatuses[r.Status] {
			continue
		}
		// NOTE: a success without timing (older dbt versions leave it out
		// for some nodes) counts as completed when the run ended.
		at := r.CompletedAt
		if at.IsZero() {
			at = rr.GeneratedAt
		}
		if at.IsZero() {
			continue
		}
		if prev, ok := rebuilt[r.UniqueID]; !ok || at.After(prev) {
			rebuilt[r.UniqueID] = at
		}
	}
	// A node listed twice that succeeded once was rebuilt.
	for id := range rebuilt {
		delete(ignored, id)
	}
	return rebuilt, ignored
}

// isBuiltNode reports whether a run result is for a model, seed or
// snapshot, from the manifest or else from its unique ID.
func isBuiltNode(uniqueID string, nodes map[string]*dbt.Node) bool {
	resourceType, _, _ := strings.Cut(uniqueID, ".")
	if n, ok := nodes[uniqueID]; ok {
		resourceType = n.ResourceType
	}
	switch resourceType {
	case dbt.ResourceModel, dbt.ResourceSeed, dbt.ResourceSnapshot:
		return true
	}
	return false
}

// extractUse is one extract with the workbooks it serves and the dbt nodes
// its data source reads.
type extractUse struct {
	key       string
	ref       ExtractRef
	exposures []string
	reads     []string
}

// extractKey identifies an extract: a published data source by its LUID,
// an embedded one by its workbook and data source id.
func extractKey(published bool, luid, datasourceID string) string {
	if published {
		return "p" + keySep + luid
	}
	return "e" + keySep + luid + keySep + datasourceID
}

func collectExtracts(res *Result) []*extractUse {
	byKey := map[string]*extractUse{}
	var order []*extractUse
	for _, wl := range res.Workbooks {
		for _, ref := range wl.Extracts {
			key := extractKey(ref.Published, ref.LUID, ref.DatasourceID)
			x := byKey[key]
			if x == nil {
				x = &extractUse{key: key, ref: ref}
				byKey[key] = x
				order = append(order, x)
			}
			x.exposures = append(x.exposures, wl.WorkbookLUID)

			for _, match := range wl.Matches {
				if match.Published != ref.Published {
					continue
				}
				if ref.Published && match.DatasourceID != ref.LUID {
					continue
				}
				if !ref.Published && match.DatasourceID != ref.DatasourceID {
					continue
				}
				x.reads = append(x.reads, match.UniqueIDs...)
			}
		}
	}
	return order
}

func lastRefreshTimes(snap *tableau.Snapshot) map[string]*time.Time {
	out := map[string]*time.Time{}
	for _, wb := range snap.Workbooks {
		for _, d := range wb.EmbeddedDatasources {
			if d.HasExtracts {
				out[extractKey(false, wb.LUID, d.ID)] = d.ExtractLastRefreshTime
			}
		}
	}
	for _, d := range snap.PublishedDatasources {
		if d.HasExtracts {
			out[extractKey(true, d.LUID, "")] = d.ExtractLastRefreshTime
		}
	}
	return out
}

// upstreamGraph records, for any node, what the run did upstream of it.
type upstreamGraph struct {
	nodes     map[string]*dbt.Node
	rebuilt   map[string]time.Time
	ignored   map[string]string
	summaries map[string]*upstreamSummary
}

// upstreamSummary is the run's outcome for a node and the nodes upstream
// of it.
type upstreamSummary struct {
	// latest is the latest completion among the rebuilt nodes whose new
	// data reaches this node. These are the node itself if it was rebuilt,
	// and the rebuilt nodes upstream with a path down to it on which every
	// node carries data (see carries). It is zero when there is none.
	latest time.Time
	// hasIgnored is true when the node or any node upstream of it errored
	// or was skipped, whatever lies between.
	hasIgnored bool
}

// carries reports whether new data upstream of a node reaches the tables
// downstream of it: the node was rebuilt in the run, or it holds no data of
// its own. A view or an ephemeral model computes its rows from its parents
// whenever it is queried. A table, incremental model, seed or snapshot
// that the run did not rebuild (skipped, errored or not selected) still
// holds what it held before, so it stops the chain. A node missing from
// the manifest counts as holding data.
func (g *upstreamGraph) carries(id string) bool {
	if _, ok := g.rebuilt[id]; ok {
		return true
	}
	n, ok := g.nodes[id]
	return ok && (n.Materialized == "view" || n.Materialized == "ephemeral")
}

// summary returns a node's upstream summary, computing each node's once,
// so that deciding every extract costs one pass over the graph.
func (g *upstreamGraph) summary(id string) *upstreamSummary {
	if sum, ok := g.summaries[id]; ok {
		// A node met again while its parents are being summarized closes a
		// cycle, which dbt rejects; the partial summary ends the recursion.
		return sum
	}
	sum := &upstreamSummary{}
	g.summaries[id] = sum
	sum.latest = g.rebuilt[id]
	_, sum.hasIgnored = g.ignored[id]
	if n, ok := g.nodes[id]; ok {
		carries := g.carries(id)
		for _, parent := range n.DependsOn {
			p := g.summary(parent)
			if carries && p.latest.After(sum.latest) {
				sum.latest = p.latest
			}
			sum.hasIgnored = sum.hasIgnored || p.hasIgnored
		}
	}
	return sum
}

// walk visits the nodes read and the nodes upstream of them, each once.
// It goes up only through nodes whose summary passes keep and that expand
// accepts (when expand is not nil), because a node failing either has
// nothing upstream that visit needs.
func (g *upstreamGraph) walk(reads []string, keep func(*upstreamSummary) bool, expand func(id string) bool, visit func(id string)) {
	seen := map[string]bool{}
	stack := slices.Clone(reads)
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] || !keep(g.summary(id)) {
			continue
		}
		seen[id] = true
		visit(id)
		if expand != nil && !expand(id) {
			continue
		}
		if n, ok := g.nodes[id]; ok {
			stack = append(stack, n.DependsOn...)
		}
	}
}
