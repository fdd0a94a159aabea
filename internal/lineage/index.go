package lineage

import (
	"cmp"
	"slices"
	"strings"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

// Index is a manifest prepared for matching: every relation keyed by its
// database, schema and table name folded to one case, so that one map
// lookup finds the few candidates that the warehouse's rules then decide
// between. Build it once with NewIndex and match any number of snapshots
// with it. It is safe for concurrent use.
type Index struct {
	dialect dialect
	keys    keyer

	// entries contains every node and source, in unique ID order, in one
	// array so that lookups touch little memory.
	entries []entry

	// The first entry of each key of relations of enabled, non-ephemeral
	// nodes and enabled sources: by database, schema and table, by schema
	// and table, and by table. entry.next links the others.
	byFull   map[uint64]*entry
	bySchema map[uint64]*entry
	byName   map[uint64]*entry

	// The same keys for ephemeral and disabled nodes and disabled sources,
	// which never match but explain why a table matched nothing.
	inertFull   map[uint64]*entry
	inertSchema map[uint64]*entry
	inertName   map[uint64]*entry
}

// keySep joins the parts of a relation identity. No identifier contains a NUL
// byte.
const keySep = "\x00"

// Links of entry.next, one per kind of key.
const (
	linkFull = iota
	linkSchema
	linkName
)

// entry is one dbt node or source as a warehouse relation.
type entry struct {
	uniqueID string
	// stored contains the database, schema and table name as the warehouse
	// stores them, and quoted marks which of them dbt quotes.
	stored [3]string
	quoted [3]bool
	// relation identifies the warehouse table: entries with equal relation
	// are the same table, such as a seed and a source declared on it.
	relation    string
	disabled    bool
	hasRelation bool
	// self is []string{uniqueID}, shared by the results of the common
	// lookups that find one node.
	self []string
	// next links the entries with the same key, in unique ID order.
	next [3]*entry
}

// NewIndex indexes the models, seeds, snapshots and sources of a manifest
// under the identifier rules of its adapter, or of opts.Adapter when set.
func NewIndex(m *dbt.Manifest, opts Options) *Index {
	adapter := opts.Adapter
	if adapter == "" && m != nil {
		adapter = m.AdapterType
	}
	ix := &Index{dialect: dialectFor(adapter)}
	ix.keys = newKeyer(ix.dialect.keyCase)
	if m != nil {
		ix.entries = make([]entry, 0, len(m.Nodes)+len(m.Sources)+len(m.DisabledVariants)+len(m.DisabledSourceVariants))
		// Disabled variants of enabled nodes are indexed like disabled
		// nodes: they never match and only explain why a table at their
		// relation matches nothing, when no enabled node is that relation.
		ix.addNodes(m.Nodes)
		ix.addNodes(m.DisabledVariants)
		ix.addSources(m.Sources)
		ix.addSources(m.DisabledSourceVariants)
	}
	slices.SortFunc(ix.entries, func(a, b entry) int { return strings.Compare(a.uniqueID, b.uniqueID) })

	ids := make([]string, len(ix.entries))
	ix.byFull, ix.bySchema, ix.byName = make(map[uint64]*entry, len(ix.entries)), make(map[uint64]*entry, len(ix.entries)), make(map[uint64]*entry, len(ix.entries))
	ix.inertFull, ix.inertSchema, ix.inertName = map[uint64]*entry{}, map[uint64]*entry{}, map[uint64]*entry{}
	// Linking from the last entry to the first keeps each chain in unique
	// ID order, which gives sorted match lists for free.
	for i := len(ix.entries) - 1; i >= 0; i-- {
		e := &ix.entries[i]
		ids[i] = e.uniqueID
		e.self = ids[i : i+1 : i+1]
		ix.link(e)
	}
	return ix
}

func (ix *Index) addNodes(nodes []dbt.Node) {
	for i := range nodes {
		n := &nodes[i]
		switch n.ResourceType {
		case dbt.ResourceModel, dbt.ResourceSeed, dbt.ResourceSnapshot:
		default:
			continue
		}
		table := cmp.Or(n.Alias, n.Name)
		e := ix.newEntry(n.UniqueID, [3]string{n.Database, n.Schema, table}, n.RelationName, n.Quoting)
		e.disabled, e.hasRelation = !n.Enabled, n.HasRelation()
		ix.entries = append(ix.entries, e)
	}
}

func (ix *Index) addSources(sources []dbt.Source) {
	for i := range sources {
		s := &sources[i]
		table := cmp.Or(s.Identifier, s.Name)
		e := ix.newEntry(s.UniqueID, [3]string{s.Database, s.Schema, table}, s.RelationName, s.Quoting)
		e.disabled, e.hasRelation = !s.Enabled, s.Enabled
		ix.entries = append(ix.entries, e)
	}
}

func (ix *Index) newEntry(uniqueID string, names [3]string, relationName string, q dbt.Quoting) entry {
	d := ix.dialect
	quoted := d.quoting(relationName, names, q)
	e := entry{uniqueID: uniqueID, quoted: quoted}

	// The three stored names are parts of one string, so that comparing
	// them reads one piece of memory.
	db, schema, table := d.stored(names[0], quoted[0]), d.stored(names[1], quoted[1]), d.stored(names[2], quoted[2])
	joined := db + keySep + schema + keySep + table
	e.stored[0] = joined[:len(db)]
	e.stored[1] = joined[len(db)+1 : len(db)+1+len(schema)]
	e.stored[2] = joined[len(db)+1+len(schema)+1:]

	e.relation = joined
	if !d.quotesKeepCase {
		e.relation = lowerASCII(joined)
	}
	return e
}

// link puts an entry at the head of the chains of its three keys.
func (ix *Index) link(e *entry) {
	full, schema, name := ix.byFull, ix.bySchema, ix.byName
	if !e.hasRelation {
		full, schema, name = ix.inertFull, ix.inertSchema, ix.inertName
	}
	fk := ix.keys.key(kindFull, e.stored[0], e.stored[1], e.stored[2])
	sk := ix.keys.key(kindSchema, e.stored[1], e.stored[2], "")
	nk := ix.keys.key(kindName, e.stored[2], "", "")
	e.next[linkFull], full[fk] = full[fk], e
	e.next[linkSchema], schema[sk] = schema[sk], e
	e.next[linkName], name[nk] = name[nk], e
}

// quoting returns which of database, schema and identifier dbt quotes for
// a node. The relation name in the manifest is how dbt rendered the node,
// project-level quoting included, so it decides when its parts line up
// with the node's names. Otherwise the node's quoting config and then the
// adapter's defaults do.
func (d dialect) quoting(relationName string, names [3]string, q dbt.Quoting) [3]bool {
	quoted := d.defaultQuoted
	if relationName != "" {
		if parts, ok := parseName(relationName, false); ok && alignsWith(parts, names) {
			off := 3 - len(parts)
			for i := range quoted {
				quoted[i] = i >= off && parts[i-off].mode == modeQuoted
			}
			return quoted
		}
	}
	for i, v := range []*bool{q.Database, q.Schema, q.Identifier} {
		if v != nil {
			quoted[i] = *v
		}
	}
	return quoted
}

// alignsWith reports whether the parts of a relation name are the
// non-empty trailing names of a node, compared without case.
func alignsWith(parts []namePart, names [3]string) bool {
	off := 3 - len(parts)
	if off < 0 {
		return false
	}
	for i := range 3 {
		if i < off {
			if names[i] != "" {
				return false
			}
			continue
		}
		if !equalFoldASCII(parts[i-off].text, names[i]) {
			return false
		}
	}
	return true
}

// tableName is an upstream table's name, resolved to its parts. An empty
// part is unknown.
type tableName struct {
	db, schema, table namePart
}

// lookupResult is the outcome of looking up one table.
type lookupResult struct {
	// uniqueIDs contains the nodes of the one relation that matched, sorted.
	uniqueIDs  []string
	schemaOnly bool
	// reason, candidates and hint explain why nothing matched.
	reason     Reason
	candidates []string
	hint       string
}

// lookup finds the dbt relation that an upstream table is.
func (ix *Index) lookup(t tableName) lookupResult {
	if t.table.text == "" {
		return lookupResult{reason: ReasonNoRelation}
	}
	if t.schema.text == "" {
		// Without a schema the table could be in any schema on the
		// connection's search path, which Tableau does not report.
		nk := ix.keys.key(kindName, t.table.text, "", "")
		cands := ix.filter(ix.byName[nk], linkName, t, false, false)
		if len(cands) == 0 {
			cands = ix.filter(ix.inertName[nk], linkName, t, false, false)
		}
		hint := "the name has no schema and Tableau does not report the connection's search path"
		if len(cands) > 0 {
			hint += ", so the candidates are the relations of that table name in every schema"
		}
		return lookupResult{reason: ReasonNoRelation, candidates: ids(cands), hint: hint}
	}

	sk := ix.keys.key(kindSchema, t.schema.text, t.table.text, "")
	if t.db.text != "" {
		fk := ix.keys.key(kindFull, t.db.text, t.schema.text, t.table.text)
		head := ix.byFull[fk]
		// The common case, one candidate that fits, allocates nothing.
		if head != nil && head.next[linkFull] == nil && ix.fits(head, t, true, true) {
			return lookupResult{uniqueIDs: head.self}
		}
		found := ix.filter(head, linkFull, t, true, true)
		if len(found) == 0 {
			// Relations without a database (a Hive metastore, for one)
			// match on schema and table whatever the connection's database.
			found = ix.filterNoDatabase(ix.bySchema[sk], t)
		}
		if len(found) > 0 {
			return decide(found, t, false)
		}
		inert := ix.filter(ix.inertFull[fk], linkFull, t, true, true)
		if len(inert) == 0 {
			inert = ix.filterNoDatabase(ix.inertSchema[sk], t)
		}
		if len(inert) == 0 {
			return otherDatabases(ix.filter(ix.bySchema[sk], linkSchema, t, false, true))
		}
		return inertResult(inert)
	}

	head := ix.bySchema[sk]
	if head != nil && head.next[linkSchema] == nil && ix.fits(head, t, false, true) {
		return lookupResult{uniqueIDs: head.self, schemaOnly: true}
	}
	found := ix.filter(head, linkSchema, t, false, true)
	if len(found) > 0 {
		return decide(found, t, true)
	}
	return inertResult(ix.filter(ix.inertSchema[sk], linkSchema, t, false, true))
}

// filter follows a chain of entries and keeps those whose names the
// table's names refer to under the warehouse's rules. The table name is
// always compared, the database and schema when asked.
func (ix *Index) filter(head *entry, link int, t tableName, withDB, withSchema bool) []*entry {
	var out []*entry
	for e := head; e != nil; e = e.next[link] {
		if ix.fits(e, t, withDB, withSchema) {
			out = append(out, e)
		}
	}
	return out
}

func (ix *Index) filterNoDatabase(head *entry, t tableName) []*entry {
	var out []*entry
	for e := head; e != nil; e = e.next[linkSchema] {
		if e.stored[0] == "" && ix.fits(e, t, false, true) {
			out = append(out, e)
		}
	}
	return out
}

func (ix *Index) fits(e *entry, t tableName, withDB, withSchema bool) bool {
	d := ix.dialect
	if withDB && !d.partMatches(t.db, e.stored[0], e.quoted[0]) {
		return false
	}
	if withSchema && !d.partMatches(t.schema, e.stored[1], e.quoted[1]) {
		return false
	}
	return d.partMatches(t.table, e.stored[2], e.quoted[2])
}

// decide turns the entries that fit a table into a match when they are one
// relation. Where several relations fit, those whose stored names the
// table spells byte for byte win. If that leaves more than one, the table
// is ambiguous.
func decide(found []*entry, t tableName, schemaOnly bool) lookupResult {
	if oneRelation(found) {
		return lookupResult{uniqueIDs: ids(found), schemaOnly: schemaOnly}
	}
	var exact []*entry
	for _, e := range found {
		if (schemaOnly || e.stored[0] == "" || partExact(t.db, e.stored[0])) &&
			partExact(t.schema, e.stored[1]) && partExact(t.table, e.stored[2]) {
			exact = append(exact, e)
		}
	}
	if len(exact) > 0 && oneRelation(exact) {
		return lookupResult{uniqueIDs: ids(exact), schemaOnly: schemaOnly}
	}
	return lookupResult{reason: ReasonAmbiguous, candidates: ids(found)}
}

// otherDatabases explains a table that no relation of its database is by
// the relations with the same schema and table name in other databases:
// a workbook on a development database, for one, when dbt builds the
// production one.
func otherDatabases(found []*entry) lookupResult {
	if len(found) == 0 {
		return lookupResult{reason: ReasonNoRelation}
	}
	var dbs []string
	for _, e := range found {
		dbs = append(dbs, e.stored[0])
	}
	slices.Sort(dbs)
	dbs = slices.Compact(dbs)
	word := "database "
	if len(dbs) > 1 {
		word = "databases "
	}
	return lookupResult{reason: ReasonNoRelation, candidates: ids(found), hint: "same schema and table in " + word + strings.Join(dbs, ", ")}
}

func inertResult(inert []*entry) lookupResult {
	if len(inert) == 0 {
		return lookupResult{reason: ReasonNoRelation}
	}
	reason := ReasonDisabled
	for _, e := range inert {
		if !e.disabled {
			reason = ReasonEphemeral
		}
	}
	return lookupResult{reason: reason, candidates: ids(inert)}
}

func oneRelation(es []*entry) bool {
	for _, e := range es[1:] {
		if e.relation != es[0].relation {
			return false
		}
	}
	return true
}

// ids returns the unique IDs of entries, which are already in unique ID
// order.
func ids(es []*entry) []string {
	if len(es) == 0 {
		return nil
	}
	out := make([]string, 0, len(es))
	for _, e := range es {
		if n := len(out); n == 0 || out[n-1] != e.uniqueID {
			out = append(out, e.uniqueID)
		}
	}
	return out
}

// resolve reads an upstream table's database, schema and name from
// Tableau's fields, falling back to the parts of its full name and then to
// the connection's database.
func (ix *Index) resolve(name, schema, database, fullName, connectionDB string) tableName {
	// A quoted dotted name in the name field, as in "[public].[orders]",
	// is a full name.
	if n := strings.TrimSpace(name); schema == "" && n != "" && strings.ContainsRune("[\"`", rune(n[0])) {
		if parts, ok := parseName(n, ix.dialect.backtickPath); ok && len(parts) > 1 {
			name, fullName = "", n
		}
	}

	t := tableName{
		table:  namePart{text: unwrapName(name)},
		schema: namePart{text: unwrapName(schema)},
		db:     namePart{text: unwrapName(database)},
	}
	if fullName != "" && (t.table.text == "" || t.schema.text == "" || t.db.text == "") {
		full, _ := parseName(fullName, ix.dialect.backtickPath)
		fill := func(p *namePart, fromEnd int) {
			if p.text == "" && len(full) >= fromEnd {
				p.text = full[len(full)-fromEnd].text
			}
		}
		fill(&t.table, 1)
		fill(&t.schema, 2)
		fill(&t.db, 3)
	}
	if t.db.text == "" {
		t.db.text = strings.TrimSpace(connectionDB)
	}
	return t
}
