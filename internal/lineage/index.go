package lineage

import (
	"cmp"
	"slices"
	"strings"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

// Index is a manifest prepared for matching: every relation keyed by its
// database, schema and table name in lower case, so that one map lookup
// finds the few candidates that the warehouse's rules then decide between.
// Build it once with NewIndex and match any number of snapshots with it.
type Index struct {
	dialect dialect

	// Relations of enabled, non-ephemeral nodes and enabled sources.
	byFull   map[string][]*entry // lower(db) sep lower(schema) sep lower(table)
	bySchema map[string][]*entry // lower(schema) sep lower(table)
	byName   map[string][]*entry // lower(table)

	// The same keys for ephemeral and disabled nodes and disabled sources,
	// which never match but explain why a table matched nothing.
	inertFull   map[string][]*entry
	inertSchema map[string][]*entry
	inertName   map[string][]*entry
}

// keySep joins the parts of an index key. No identifier holds a NUL byte.
const keySep = "\x00"

// entry is one dbt node or source as a warehouse relation.
type entry struct {
	uniqueID string
	// stored holds the database, schema and table name as the warehouse
	// stores them; quoted says which of them dbt quotes.
	stored [3]string
	quoted [3]bool
	// relation identifies the warehouse table: entries with equal relation
	// are the same table, such as a seed and a source declared on it.
	relation string
	disabled bool
}

// NewIndex indexes the models, seeds, snapshots and sources of a manifest
// under the identifier rules of its adapter, or of opts.Adapter when set.
func NewIndex(m *dbt.Manifest, opts Options) *Index {
	adapter := opts.Adapter
	if adapter == "" && m != nil {
		adapter = m.AdapterType
	}
	ix := &Index{
		dialect:     dialectFor(adapter),
		byFull:      map[string][]*entry{},
		bySchema:    map[string][]*entry{},
		byName:      map[string][]*entry{},
		inertFull:   map[string][]*entry{},
		inertSchema: map[string][]*entry{},
		inertName:   map[string][]*entry{},
	}
	if m == nil {
		return ix
	}

	for i := range m.Nodes {
		n := &m.Nodes[i]
		switch n.ResourceType {
		case dbt.ResourceModel, dbt.ResourceSeed, dbt.ResourceSnapshot:
		default:
			continue
		}
		table := cmp.Or(n.Alias, n.Name)
		e := ix.newEntry(n.UniqueID, [3]string{n.Database, n.Schema, table}, n.RelationName, n.Quoting)
		e.disabled = !n.Enabled
		ix.add(e, n.HasRelation())
	}
	for i := range m.Sources {
		s := &m.Sources[i]
		table := cmp.Or(s.Identifier, s.Name)
		e := ix.newEntry(s.UniqueID, [3]string{s.Database, s.Schema, table}, s.RelationName, s.Quoting)
		e.disabled = !s.Enabled
		ix.add(e, s.Enabled)
	}

	// Candidates in unique ID order give sorted match lists for free.
	for _, byKey := range []map[string][]*entry{ix.byFull, ix.bySchema, ix.byName, ix.inertFull, ix.inertSchema, ix.inertName} {
		for _, es := range byKey {
			if len(es) > 1 {
				slices.SortFunc(es, func(a, b *entry) int { return cmp.Compare(a.uniqueID, b.uniqueID) })
			}
		}
	}
	return ix
}

func (ix *Index) newEntry(uniqueID string, names [3]string, relationName string, q dbt.Quoting) *entry {
	d := ix.dialect
	quoted := d.quoting(relationName, names, q)
	e := &entry{uniqueID: uniqueID, quoted: quoted}
	for i, name := range names {
		e.stored[i] = d.stored(name, quoted[i])
	}
	if d.quotesKeepCase {
		e.relation = e.stored[0] + keySep + e.stored[1] + keySep + e.stored[2]
	} else {
		e.relation = lowerASCII(e.stored[0]) + keySep + lowerASCII(e.stored[1]) + keySep + lowerASCII(e.stored[2])
	}
	return e
}

func (ix *Index) add(e *entry, hasRelation bool) {
	full, schema, name := ix.byFull, ix.bySchema, ix.byName
	if !hasRelation {
		full, schema, name = ix.inertFull, ix.inertSchema, ix.inertName
	}
	db, sc, tb := lowerASCII(e.stored[0]), lowerASCII(e.stored[1]), lowerASCII(e.stored[2])
	full[db+keySep+sc+keySep+tb] = append(full[db+keySep+sc+keySep+tb], e)
	schema[sc+keySep+tb] = append(schema[sc+keySep+tb], e)
	name[tb] = append(name[tb], e)
}

// quoting returns which of database, schema and identifier dbt quotes for
// a node. The relation name in the manifest is how dbt rendered the node,
// project-level quoting included, so it decides when its parts line up
// with the node's names; otherwise the node's quoting config and then the
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

// tableName is an upstream table's name, resolved to its parts; an empty
// part is unknown.
type tableName struct {
	db, schema, table namePart
}

// lookupResult is what the index found for one table.
type lookupResult struct {
	// uniqueIDs holds the nodes of the one relation that matched, sorted.
	uniqueIDs  []string
	schemaOnly bool
	// reason and candidates explain why nothing matched.
	reason     Reason
	candidates []string
}

// lookup finds the dbt relation that an upstream table is.
func (ix *Index) lookup(t tableName) lookupResult {
	if t.table.text == "" {
		return lookupResult{reason: ReasonNoRelation}
	}
	if t.schema.text == "" {
		// Without a schema the table could be in any schema on the
		// connection's search path, which Tableau does not report.
		cands := ix.filter(ix.byName[lowerASCII(t.table.text)], t, false, false)
		if len(cands) == 0 {
			cands = ix.filter(ix.inertName[lowerASCII(t.table.text)], t, false, false)
		}
		return lookupResult{reason: ReasonNoRelation, candidates: ids(cands)}
	}

	schemaKey := lowerASCII(t.schema.text) + keySep + lowerASCII(t.table.text)
	if t.db.text != "" {
		fullKey := lowerASCII(t.db.text) + keySep + schemaKey
		found := ix.filter(ix.byFull[fullKey], t, true, true)
		if len(found) == 0 {
			// Relations without a database (a Hive metastore, for one)
			// match on schema and table whatever the connection's database.
			found = ix.filterNoDatabase(ix.bySchema[schemaKey], t)
		}
		if len(found) > 0 {
			return decide(found, t, false)
		}
		inert := ix.filter(ix.inertFull[fullKey], t, true, true)
		if len(inert) == 0 {
			inert = ix.filterNoDatabase(ix.inertSchema[schemaKey], t)
		}
		return inertResult(inert)
	}

	found := ix.filter(ix.bySchema[schemaKey], t, false, true)
	if len(found) > 0 {
		return decide(found, t, true)
	}
	return inertResult(ix.filter(ix.inertSchema[schemaKey], t, false, true))
}

// filter keeps the candidates whose names the table's names refer to under
// the warehouse's rules. The table name is always compared; the database
// and schema when asked.
func (ix *Index) filter(cands []*entry, t tableName, withDB, withSchema bool) []*entry {
	var out []*entry
	for _, e := range cands {
		if ix.fits(e, t, withDB, withSchema) {
			out = append(out, e)
		}
	}
	return out
}

func (ix *Index) filterNoDatabase(cands []*entry, t tableName) []*entry {
	var out []*entry
	for _, e := range cands {
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
// table spells byte for byte win; if that leaves more than one, the table
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
	var full []namePart
	if fullName != "" {
		full, _ = parseName(fullName, ix.dialect.backtickPath)
	}
	fromFull := func(fromEnd int) string {
		if len(full) >= fromEnd {
			return full[len(full)-fromEnd].text
		}
		return ""
	}

	t := tableName{
		table:  namePart{text: cmp.Or(unwrapName(name), fromFull(1))},
		schema: namePart{text: cmp.Or(unwrapName(schema), fromFull(2))},
		db:     namePart{text: cmp.Or(unwrapName(database), fromFull(3), strings.TrimSpace(connectionDB))},
	}
	return t
}
