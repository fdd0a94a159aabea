package tableausim

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file maps each Metadata API type to the model. A field the schema
// declares but the site file has no data for (createdAt of a published data
// source, a user's domain) resolves to null, as Tableau returns null for
// values it does not know.

// many returns a list field's filtered objects sorted by id, or, for a
// *Connection field, the source the executor pages through.
func many[T object](name string, items []T, args map[string]any) any {
	objs := make([]object, 0, len(items))
	for _, it := range items {
		objs = append(objs, it)
	}
	if !slices.IsSortedFunc(objs, compareIDs) {
		slices.SortStableFunc(objs, compareIDs)
	}
	// Index lookups can name one object twice.
	objs = slices.Compact(objs)
	objs = filterObjects(objs, args["filter"])
	if strings.HasSuffix(name, "Connection") {
		return connectionSource{items: objs, args: args}
	}
	return objs
}

func compareIDs(a, b object) int { return cmp.Compare(objectID(a), objectID(b)) }

// filterObjects keeps the objects matching every field of a *_Filter input:
// X must equal the value, and XWithin must contain X.
func filterObjects(items []object, filter any) []object {
	f, _ := filter.(map[string]any)
	preds := compileFilter(f)
	if len(preds) == 0 {
		return items
	}
	var out []object
	for _, o := range items {
		if matchesAll(o, preds) {
			out = append(out, o)
		}
	}
	return out
}

// fieldPredicate tests one scalar field against a set of allowed values,
// kept as strings so that a filter over thousands of LUIDs stays a map
// lookup per object.
type fieldPredicate struct {
	field   string
	allowed map[string]bool
}

func compileFilter(f map[string]any) []fieldPredicate {
	var preds []fieldPredicate
	for key, want := range f {
		if want == nil {
			continue
		}
		p := fieldPredicate{field: key, allowed: map[string]bool{}}
		if base, ok := strings.CutSuffix(key, "Within"); ok {
			p.field = base
			list, _ := want.([]any)
			for _, x := range list {
				if x != nil {
					p.allowed[scalarString(x)] = true
				}
			}
		} else {
			p.allowed[scalarString(want)] = true
		}
		preds = append(preds, p)
	}
	return preds
}

func matchesAll(o object, preds []fieldPredicate) bool {
	for _, p := range preds {
		got, _ := o.field(p.field, nil)
		if got == nil || !p.allowed[scalarString(got)] {
			return false
		}
	}
	return true
}

func scalarString(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	}
	return fmt.Sprint(v)
}

func timeValue(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return formatTime(*t)
}

func unknownField(typeName, name string) error {
	return fmt.Errorf("field %s is not served on %s by the simulator", name, typeName)
}

// queryRoot is the Query type.
type queryRoot struct{ m *model }

func (q queryRoot) typeName() string { return "Query" }

func (q queryRoot) field(name string, args map[string]any) (any, error) {
	switch strings.TrimSuffix(name, "Connection") {
	case "workbooks":
		return many(name, q.m.workbooksFor(args["filter"]), args), nil
	case "publishedDatasources":
		return many(name, q.m.publishedFor(args["filter"]), args), nil
	case "embeddedDatasources":
		return many(name, q.m.embedded, args), nil
	case "databaseTables":
		return many(name, q.m.tables, args), nil
	case "customSQLTables":
		return many(name, q.m.customSQL, args), nil
	case "dashboards":
		return many(name, q.m.dashboards, args), nil
	case "tableauUsers":
		return many(name, q.m.users, args), nil
	}
	return nil, unknownField("Query", name)
}

// workbooksFor narrows the workbooks a filter can match through the LUID
// and id indexes, so that reading a batch by LUID does not test every
// workbook of a large site. The filter still runs on the result.
func (m *model) workbooksFor(filter any) []*workbookObj {
	luids, ids := indexKeys(filter, "luid"), indexKeys(filter, "id")
	if luids == nil && ids == nil {
		return m.workbooks
	}
	var out []*workbookObj
	for _, l := range luids {
		if w := m.byLUID[l]; w != nil {
			out = append(out, w)
		}
	}
	for _, id := range ids {
		if w := m.workbookByID[id]; w != nil {
			out = append(out, w)
		}
	}
	return out
}

// publishedFor is workbooksFor for published data sources, by LUID.
func (m *model) publishedFor(filter any) []*publishedObj {
	luids := indexKeys(filter, "luid")
	if luids == nil {
		return m.published
	}
	var out []*publishedObj
	for _, l := range luids {
		if p := m.publishedByLUID[l]; p != nil {
			out = append(out, p)
		}
	}
	return out
}

// indexKeys returns the values a filter allows for field (from field or
// fieldWithin), or nil when the filter does not restrict field.
func indexKeys(filter any, field string) []string {
	f, _ := filter.(map[string]any)
	var keys []string
	if v, ok := f[field].(string); ok {
		keys = append(keys, v)
	}
	if list, ok := f[field+"Within"].([]any); ok {
		for _, x := range list {
			if s, ok := x.(string); ok {
				keys = append(keys, s)
			}
		}
		if keys == nil {
			keys = []string{}
		}
	}
	return keys
}

func (w *workbookObj) typeName() string { return "Workbook" }

func (w *workbookObj) field(name string, args map[string]any) (any, error) {
	wb := w.w
	switch name {
	case "id":
		return w.id, nil
	case "luid":
		return wb.LUID, nil
	case "name":
		return wb.Name, nil
	case "description":
		return wb.Description, nil
	case "uri":
		return "sites/1/workbooks/" + vizportalURLID(wb), nil
	case "vizportalUrlId":
		return vizportalURLID(wb), nil
	case "projectName", "containerName":
		return nullable(wb.ProjectName), nil
	case "projectLuid":
		return nullable(wb.ProjectLUID), nil
	case "projectVizportalUrlId":
		return nil, nil
	case "containerType":
		return "Project", nil
	case "containsUnsupportedCustomSql":
		return slices.ContainsFunc(w.embedded, func(e *embeddedObj) bool { return unsupportedSQL(e.customSQL) }), nil
	case "createdAt", "updatedAt":
		return timeValue(&wb.UpdatedAt), nil
	case "owner":
		return w.owner, nil
	case "tags":
		tags := make([]*tagObj, 0, len(wb.Tags))
		for _, t := range wb.Tags {
			tags = append(tags, newTag(t))
		}
		return many(name, tags, args), nil
	case "dashboards", "dashboardsConnection":
		return many(name, w.dashboard, args), nil
	case "embeddedDatasources", "embeddedDatasourcesConnection":
		return many(name, w.embedded, args), nil
	case "upstreamDatasources", "upstreamDatasourcesConnection":
		return many(name, w.published, args), nil
	case "upstreamTables", "upstreamTablesConnection":
		return many(name, w.upstreamTables(), args), nil
	case "upstreamDatabases":
		var queries []*customSQLObj
		for _, e := range w.embedded {
			queries = append(queries, e.customSQL...)
		}
		for _, p := range w.published {
			queries = append(queries, p.customSQL...)
		}
		return many(name, databasesOf(w.upstreamTables(), queries), args), nil
	}
	return nil, unknownField("Workbook", name)
}

// upstreamTables returns the tables read directly by the workbook's embedded
// data sources and by the published data sources it uses.
func (w *workbookObj) upstreamTables() []*tableObj {
	var out []*tableObj
	add := func(ts []*tableObj) {
		for _, t := range ts {
			if !slices.Contains(out, t) {
				out = append(out, t)
			}
		}
	}
	for _, e := range w.embedded {
		add(e.tables)
	}
	for _, p := range w.published {
		add(p.tables)
	}
	return out
}

func unsupportedSQL(queries []*customSQLObj) bool {
	return slices.ContainsFunc(queries, func(q *customSQLObj) bool { return len(q.tables) == 0 })
}

func (u *userObj) typeName() string { return "TableauUser" }

func (u *userObj) field(name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return u.id, nil
	case "luid":
		return derivedID("TableauUserLUID", u.id), nil
	case "vizportalUrlId", "domain":
		return nil, nil
	case "name":
		return nullable(u.owner.Name), nil
	case "username":
		return nullable(u.owner.Username), nil
	case "email":
		return nullable(u.owner.Email), nil
	case "ownedWorkbooks":
		return many(name, u.owned, args), nil
	}
	return nil, unknownField("TableauUser", name)
}

type tagObj struct{ id, name string }

func newTag(name string) *tagObj { return &tagObj{id: derivedID("Tag", name), name: name} }

func (t *tagObj) typeName() string { return "Tag" }

func (t *tagObj) field(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return t.id, nil
	case "name":
		return t.name, nil
	}
	return nil, unknownField("Tag", name)
}

func (d *dashboardObj) typeName() string { return "Dashboard" }

func (d *dashboardObj) field(name string, _ map[string]any) (any, error) {
	switch name {
	case "id":
		return d.id, nil
	case "luid":
		if d.d.LUID != "" {
			return d.d.LUID, nil
		}
		return derivedID("DashboardLUID", d.id), nil
	case "name":
		return d.d.Name, nil
	case "path":
		return nullable(d.d.Path), nil
	case "documentViewId":
		return nil, nil
	case "createdAt", "updatedAt":
		return timeValue(&d.workbook.w.UpdatedAt), nil
	case "workbook":
		return d.workbook, nil
	}
	return nil, unknownField("Dashboard", name)
}

func (e *embeddedObj) typeName() string { return "EmbeddedDatasource" }

func (e *embeddedObj) field(name string, args map[string]any) (any, error) {
	d := e.d
	switch name {
	case "id":
		return e.id, nil
	case "name":
		return d.Name, nil
	case "hasExtracts":
		return d.HasExtracts, nil
	case "containsUnsupportedCustomSql":
		return unsupportedSQL(e.customSQL), nil
	case "extractLastRefreshTime", "extractLastUpdateTime":
		return timeValue(d.ExtractLastRefreshTime), nil
	case "extractLastIncrementalUpdateTime":
		return nil, nil
	case "upstreamTables", "upstreamTablesConnection":
		return many(name, e.tables, args), nil
	case "upstreamDatabases":
		return many(name, databasesOf(e.tables, e.customSQL), args), nil
	case "upstreamDatasources":
		// NOTE: the site file does not say which embedded data source of a
		// workbook connects to which published one, so this list is empty;
		// Workbook.upstreamDatasources carries that link.
		return many(name, []*publishedObj{}, args), nil
	case "workbook":
		return e.workbook, nil
	}
	return nil, unknownField("EmbeddedDatasource", name)
}

func (p *publishedObj) typeName() string { return "PublishedDatasource" }

func (p *publishedObj) field(name string, args map[string]any) (any, error) {
	d := p.d
	switch name {
	case "id":
		return p.id, nil
	case "luid":
		return d.LUID, nil
	case "name":
		return d.Name, nil
	case "projectName":
		return nullable(d.ProjectName), nil
	case "uri":
		return "sites/1/datasources/" + p.vizportalURLID(), nil
	case "vizportalUrlId":
		return p.vizportalURLID(), nil
	case "description", "projectVizportalUrlId", "createdAt", "updatedAt", "extractLastIncrementalUpdateTime":
		return nil, nil
	case "isCertified":
		return false, nil
	case "hasExtracts":
		return d.HasExtracts, nil
	case "containsUnsupportedCustomSql":
		return unsupportedSQL(p.customSQL), nil
	case "extractLastRefreshTime", "extractLastUpdateTime":
		return timeValue(d.ExtractLastRefreshTime), nil
	case "owner":
		return p.owner, nil
	case "tags":
		return many(name, []*tagObj{}, args), nil
	case "upstreamTables", "upstreamTablesConnection":
		return many(name, p.tables, args), nil
	case "upstreamDatabases":
		return many(name, databasesOf(p.tables, p.customSQL), args), nil
	case "downstreamWorkbooks":
		return many(name, p.workbooks, args), nil
	}
	return nil, unknownField("PublishedDatasource", name)
}

func (p *publishedObj) vizportalURLID() string {
	sum := 0
	for _, c := range p.d.LUID {
		sum = (sum*31 + int(c)) % 9000000
	}
	return strconv.Itoa(sum + 1000000)
}

func (t *tableObj) typeName() string { return "DatabaseTable" }

func (t *tableObj) field(name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return t.id, nil
	case "luid":
		return derivedID("DatabaseTableLUID", t.id), nil
	case "name":
		return t.t.Name, nil
	case "schema":
		return nullable(t.t.Schema), nil
	case "fullName":
		return nullable(t.t.FullName), nil
	case "connectionType":
		return nullable(t.t.ConnectionType), nil
	case "isEmbedded":
		return false, nil
	case "description":
		return nil, nil
	case "database":
		if t.database == nil {
			return nil, nil
		}
		return t.database, nil
	case "downstreamDatasources":
		return many(name, t.downstreamDatasources(), args), nil
	case "downstreamWorkbooks":
		return many(name, workbooksOf(t.downstreamDatasources()), args), nil
	case "referencedByQueries":
		return many(name, t.queries, args), nil
	}
	return nil, unknownField("DatabaseTable", name)
}

// downstreamDatasources returns the data sources that read the table
// directly or through custom SQL.
func (t *tableObj) downstreamDatasources() []object {
	var out []object
	add := func(d datasourceObj) {
		o := d.(object)
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, d := range t.datasources {
		add(d)
	}
	for _, q := range t.queries {
		add(q.datasource)
	}
	return out
}

// workbooksOf returns the workbooks that hold or use the data sources.
func workbooksOf(datasources []object) []*workbookObj {
	var out []*workbookObj
	add := func(w *workbookObj) {
		if !slices.Contains(out, w) {
			out = append(out, w)
		}
	}
	for _, d := range datasources {
		switch d := d.(type) {
		case *embeddedObj:
			add(d.workbook)
		case *publishedObj:
			for _, w := range d.workbooks {
				add(w)
			}
		}
	}
	return out
}

func (q *customSQLObj) typeName() string { return "CustomSQLTable" }

func (q *customSQLObj) field(name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return q.id, nil
	case "name":
		return cmp.Or(q.q.Name, "Custom SQL Query"), nil
	case "query":
		return q.q.Query, nil
	case "isUnsupportedCustomSql":
		return len(q.tables) == 0, nil
	case "isEmbedded":
		return true, nil
	case "description":
		return nil, nil
	case "connectionType":
		return nullable(q.q.ConnectionType), nil
	case "database":
		if q.database == nil {
			return nil, nil
		}
		return q.database, nil
	case "tables":
		return many(name, q.tables, args), nil
	case "downstreamDatasources":
		return many(name, []object{q.datasource.(object)}, args), nil
	case "downstreamWorkbooks":
		return many(name, workbooksOf([]object{q.datasource.(object)}), args), nil
	}
	return nil, unknownField("CustomSQLTable", name)
}

func (d *databaseObj) typeName() string { return "DatabaseServer" }

func (d *databaseObj) field(name string, args map[string]any) (any, error) {
	switch name {
	case "id":
		return d.id, nil
	case "luid":
		return derivedID("DatabaseLUID", d.id), nil
	case "name":
		return d.name, nil
	case "connectionType":
		return nullable(d.connectionType), nil
	case "isEmbedded":
		return false, nil
	case "description", "hostName", "port", "service":
		return nil, nil
	case "tables":
		return many(name, d.tables, args), nil
	}
	return nil, unknownField("DatabaseServer", name)
}
