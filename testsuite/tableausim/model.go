package tableausim

import (
	"cmp"
	"crypto/sha1"
	"fmt"
	"hash/fnv"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// model is the site in the form the Metadata API serves it: every object with its
// Metadata API id, and the links between them in both directions. Tables
// and databases are shared objects, as on Tableau, where one DatabaseTable
// is referenced by every data source that reads it.
type model struct {
	siteLUID string

	workbooks    []*workbookObj // sorted by id
	workbookByID map[string]*workbookObj
	byLUID       map[string]*workbookObj

	published       []*publishedObj // sorted by id
	publishedByLUID map[string]*publishedObj

	embedded []*embeddedObj // sorted by id

	tables    []*tableObj // sorted by id
	tableByID map[string]*tableObj

	customSQL []*customSQLObj // sorted by id

	databases  []*databaseObj // sorted by id
	databaseBy map[string]*databaseObj

	users      []*userObj // sorted by id
	userByName map[string]*userObj

	dashboards []*dashboardObj // sorted by id
}

type workbookObj struct {
	id        string
	w         *tableau.Workbook
	owner     *userObj
	embedded  []*embeddedObj
	published []*publishedObj
	dashboard []*dashboardObj
}

type publishedObj struct {
	id        string
	d         *tableau.PublishedDatasource
	owner     *userObj
	tables    []*tableObj
	customSQL []*customSQLObj
	workbooks []*workbookObj
}

type embeddedObj struct {
	id        string
	d         *tableau.EmbeddedDatasource
	workbook  *workbookObj
	tables    []*tableObj
	customSQL []*customSQLObj
}

// datasourceObj is an embedded or published data source.
type datasourceObj interface{ datasourceID() string }

func (e *embeddedObj) datasourceID() string  { return e.id }
func (p *publishedObj) datasourceID() string { return p.id }

type tableObj struct {
	id          string
	t           tableau.Table
	database    *databaseObj
	datasources []datasourceObj
	queries     []*customSQLObj
}

type customSQLObj struct {
	id         string
	q          *tableau.CustomSQL
	database   *databaseObj
	tables     []*tableObj
	datasource datasourceObj
}

type databaseObj struct {
	id             string
	name           string
	connectionType string
	tables         []*tableObj
}

type userObj struct {
	id    string
	owner tableau.Owner
	owned []*workbookObj
}

type dashboardObj struct {
	id       string
	d        tableau.Dashboard
	workbook *workbookObj
}

// derivedID makes a stable UUID-shaped id from a kind and a key, for objects
// whose site file entry has no Metadata API id. Tableau's ids are UUIDs that
// differ from LUIDs, so a derived id never equals the LUID it came from.
func derivedID(kind, key string) string {
	sum := sha1.Sum([]byte(kind + "\x00" + key))
	h := fmt.Sprintf("%x", sum[:16])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// tableKey is a table's identity when it has no id: the same database,
// schema, name and connection type are one table on Tableau.
func tableKey(t tableau.Table) string {
	if t.ID != "" {
		return "id:" + t.ID
	}
	return strings.Join([]string{
		strings.ToLower(t.Database), strings.ToLower(t.Schema),
		strings.ToLower(t.Name), strings.ToLower(t.FullName), t.ConnectionType,
	}, "\x00")
}

var vizportalIDPattern = regexp.MustCompile(`/workbooks/(\d+)`)

// vizportalURLID returns the numeric id in a workbook's web URL, or a
// stable number derived from its LUID when the URL has none.
func vizportalURLID(w *tableau.Workbook) string {
	if m := vizportalIDPattern.FindStringSubmatch(w.WebURL); m != nil {
		return m[1]
	}
	h := fnv.New32a()
	h.Write([]byte(w.LUID))
	return strconv.FormatUint(uint64(h.Sum32()%9000000+1000000), 10)
}

// buildModel indexes a site. The site must have passed Validate.
func buildModel(site *Site) *model {
	m := &model{
		siteLUID:        site.SiteLUID,
		workbookByID:    map[string]*workbookObj{},
		byLUID:          map[string]*workbookObj{},
		publishedByLUID: map[string]*publishedObj{},
		tableByID:       map[string]*tableObj{},
		databaseBy:      map[string]*databaseObj{},
		userByName:      map[string]*userObj{},
	}
	tablesByKey := map[string]*tableObj{}

	for i := range site.PublishedDatasources {
		d := &site.PublishedDatasources[i]
		id := d.ID
		if id == "" {
			id = derivedID("PublishedDatasource", d.LUID)
		}
		p := &publishedObj{id: id, d: d, owner: m.user(d.Owner)}
		p.tables = m.linkTables(tablesByKey, d.UpstreamTables, p)
		p.customSQL = m.linkCustomSQL(tablesByKey, d.CustomSQL, p, d.LUID)
		m.published = append(m.published, p)
		m.publishedByLUID[d.LUID] = p
	}

	for i := range site.Workbooks {
		w := &site.Workbooks[i]
		wb := &workbookObj{id: derivedID("Workbook", w.LUID), w: w, owner: m.user(w.Owner)}
		wb.owner.owned = append(wb.owner.owned, wb)
		for j := range w.EmbeddedDatasources {
			d := &w.EmbeddedDatasources[j]
			id := d.ID
			if id == "" {
				id = derivedID("EmbeddedDatasource", w.LUID+"\x00"+strconv.Itoa(j))
			}
			e := &embeddedObj{id: id, d: d, workbook: wb}
			e.tables = m.linkTables(tablesByKey, d.UpstreamTables, e)
			e.customSQL = m.linkCustomSQL(tablesByKey, d.CustomSQL, e, id)
			wb.embedded = append(wb.embedded, e)
			m.embedded = append(m.embedded, e)
		}
		for _, luid := range w.PublishedDatasourceLUIDs {
			p := m.publishedByLUID[luid]
			if p != nil && !slices.Contains(wb.published, p) {
				wb.published = append(wb.published, p)
				p.workbooks = append(p.workbooks, wb)
			}
		}
		for _, d := range w.Dashboards {
			id := d.ID
			if id == "" {
				id = derivedID("Dashboard", w.LUID+"\x00"+d.Name)
			}
			db := &dashboardObj{id: id, d: d, workbook: wb}
			wb.dashboard = append(wb.dashboard, db)
			m.dashboards = append(m.dashboards, db)
		}
		m.workbooks = append(m.workbooks, wb)
		m.workbookByID[wb.id] = wb
		m.byLUID[w.LUID] = wb
	}

	for _, t := range tablesByKey {
		m.tables = append(m.tables, t)
		m.tableByID[t.id] = t
	}
	byID := func(a, b string) int { return cmp.Compare(a, b) }
	slices.SortFunc(m.workbooks, func(a, b *workbookObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.published, func(a, b *publishedObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.embedded, func(a, b *embeddedObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.tables, func(a, b *tableObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.customSQL, func(a, b *customSQLObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.databases, func(a, b *databaseObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.users, func(a, b *userObj) int { return byID(a.id, b.id) })
	slices.SortFunc(m.dashboards, func(a, b *dashboardObj) int { return byID(a.id, b.id) })
	return m
}

func (m *model) user(o tableau.Owner) *userObj {
	key := cmp.Or(o.Username, o.Email, o.Name)
	if u := m.userByName[key]; u != nil {
		return u
	}
	u := &userObj{id: derivedID("TableauUser", key), owner: o}
	m.userByName[key] = u
	m.users = append(m.users, u)
	return u
}

func (m *model) database(name, connectionType string) *databaseObj {
	if name == "" {
		return nil
	}
	key := strings.ToLower(name) + "\x00" + connectionType
	if d := m.databaseBy[key]; d != nil {
		return d
	}
	d := &databaseObj{id: derivedID("Database", key), name: name, connectionType: connectionType}
	m.databaseBy[key] = d
	m.databases = append(m.databases, d)
	return d
}

func (m *model) table(byKey map[string]*tableObj, t tableau.Table) *tableObj {
	key := tableKey(t)
	if obj := byKey[key]; obj != nil {
		return obj
	}
	id := t.ID
	if id == "" {
		id = derivedID("DatabaseTable", key)
	}
	obj := &tableObj{id: id, t: t, database: m.database(t.Database, t.ConnectionType)}
	if obj.database != nil {
		obj.database.tables = append(obj.database.tables, obj)
	}
	byKey[key] = obj
	return obj
}

func (m *model) linkTables(byKey map[string]*tableObj, tables []tableau.Table, ds datasourceObj) []*tableObj {
	var out []*tableObj
	for _, t := range tables {
		obj := m.table(byKey, t)
		if !slices.Contains(out, obj) {
			out = append(out, obj)
			obj.datasources = append(obj.datasources, ds)
		}
	}
	return out
}

func (m *model) linkCustomSQL(byKey map[string]*tableObj, queries []tableau.CustomSQL, ds datasourceObj, owner string) []*customSQLObj {
	var out []*customSQLObj
	for i := range queries {
		q := &queries[i]
		id := q.ID
		if id == "" {
			id = derivedID("CustomSQLTable", owner+"\x00"+strconv.Itoa(i))
		}
		obj := &customSQLObj{id: id, q: q, datasource: ds, database: m.database(q.Database, q.ConnectionType)}
		for _, t := range q.Tables {
			tbl := m.table(byKey, t)
			if !slices.Contains(obj.tables, tbl) {
				obj.tables = append(obj.tables, tbl)
				tbl.queries = append(tbl.queries, obj)
			}
		}
		out = append(out, obj)
		m.customSQL = append(m.customSQL, obj)
	}
	return out
}

// databasesOf returns the distinct databases of tables and queries.
func databasesOf(tables []*tableObj, queries []*customSQLObj) []*databaseObj {
	var out []*databaseObj
	add := func(d *databaseObj) {
		if d != nil && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	for _, t := range tables {
		add(t.database)
	}
	for _, q := range queries {
		add(q.database)
	}
	slices.SortFunc(out, func(a, b *databaseObj) int { return cmp.Compare(a.id, b.id) })
	return out
}

// formatTime writes a time as Tableau does in both APIs.
func formatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05Z")
}
