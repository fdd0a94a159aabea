package tableausim

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
)

//go:embed schema.graphql
var schemaSDL string

// metadataSchema is the served part of the Metadata API schema, parsed once.
var metadataSchema = gqlparser.MustLoadSchema(&ast.Source{Name: "schema.graphql", Input: schemaSDL})

// SchemaSDL returns the schema the simulator validates queries against.
func SchemaSDL() string { return schemaSDL }

// defaultPageSize is the page size of a connection read without first.
const defaultPageSize = 100

type graphqlRequest struct {
	Query         string         `json:"query"`
	OperationName string         `json:"operationName"`
	Variables     map[string]any `json:"variables"`
}

// graphqlError is one entry of a response's "errors" list.
type graphqlError struct {
	Message    string         `json:"message"`
	Locations  []location     `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// graphqlResponse keeps "data" before "errors" when written, as Tableau does.
type graphqlResponse struct {
	Data   json.RawMessage `json:"data,omitempty"`
	Errors []graphqlError  `json:"errors,omitempty"`
}

// serveGraphQLPartial serves a query that runs out of time: it returns
// half of the nodes the query would return, and the error of the recorded
// response tsc_metadata_query_error.json, whose path and extensions are
// null.
func (s *Server) serveGraphQLPartial(w http.ResponseWriter, r *http.Request) {
	s.serveQuery(w, r, func(full *executor) (limit int, extra []graphqlError) {
		return full.nodes / 2, []graphqlError{{Message: "Reached time limit of PT5S for query execution."}}
	})
}

// serveGraphQL handles POST /api/metadata/graphql. Like Tableau's Metadata
// API it responds with HTTP 200 to query errors, with the errors in the body.
func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	s.serveQuery(w, r, nil)
}

// partialFunc decides, from a full run of a query, the node limit of a
// second run that returns partial data, and the errors that come with it.
type partialFunc func(full *executor) (limit int, extra []graphqlError)

// serveQuery parses, validates and runs a query. With partial set, it runs
// the query twice and returns the partial data of the second run.
func (s *Server) serveQuery(w http.ResponseWriter, r *http.Request, partial partialFunc) {
	if _, ok := s.authenticate(w, r); !ok {
		return
	}
	var req graphqlRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeGraphQL(w, http.StatusBadRequest, graphqlResponse{Errors: []graphqlError{{
			Message: "Invalid request body: " + err.Error(),
		}}}, 0)
		return
	}

	doc, errs := gqlparser.LoadQuery(metadataSchema, req.Query)
	if len(errs) > 0 {
		writeGraphQL(w, http.StatusOK, graphqlResponse{Errors: validationErrors(errs)}, 0)
		return
	}
	op := doc.Operations.ForName(req.OperationName)
	if op == nil {
		writeGraphQL(w, http.StatusOK, graphqlResponse{Errors: []graphqlError{{
			Message:    fmt.Sprintf("Unknown operation named %q.", req.OperationName),
			Extensions: map[string]any{"classification": "ValidationError"},
		}}}, 0)
		return
	}
	vars, err := validator.VariableValues(metadataSchema, op, req.Variables)
	if err != nil {
		var gerr *gqlerror.Error
		if !errors.As(err, &gerr) {
			gerr = gqlerror.Wrap(err)
		}
		writeGraphQL(w, http.StatusOK, graphqlResponse{Errors: validationErrors(gqlerror.List{gerr})}, 0)
		return
	}

	s.mu.RLock()
	ex := &executor{model: s.model, vars: vars, limit: s.nodeLimit, maxPageSize: s.site.Simulator.MaxPageSize,
		out: make([]byte, 0, 64<<10)}
	data := ex.execute(op)
	var extra []graphqlError
	if partial != nil {
		var limit int
		limit, extra = partial(ex)
		ex = &executor{model: s.model, vars: vars, limit: limit, maxPageSize: s.site.Simulator.MaxPageSize}
		data = ex.execute(op)
		// The cut is the fault's doing, not the node limit's.
		ex.exceeded = false
	}
	s.mu.RUnlock()

	resp := graphqlResponse{Data: data, Errors: append(ex.errs, extra...)}
	if ex.exceeded {
		resp.Errors = append(resp.Errors, nodeLimitError(ex.limit))
	}
	s.countNodes(ex.nodes)
	writeGraphQL(w, http.StatusOK, resp, len(data))
}

// writeGraphQL writes a response with "data" before "errors". The data is
// copied once into a buffer of at least sizeHint bytes.
func writeGraphQL(w http.ResponseWriter, status int, resp graphqlResponse, sizeHint int) {
	body := make([]byte, 0, max(512, sizeHint+256))
	body = append(body, '{')
	if resp.Data != nil {
		body = append(body, `"data":`...)
		body = append(body, resp.Data...)
	}
	if len(resp.Errors) > 0 {
		if len(body) > 1 {
			body = append(body, ',')
		}
		errs, _ := json.Marshal(resp.Errors)
		body = append(body, `"errors":`...)
		body = append(body, errs...)
	}
	body = append(body, '}', '\n')
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// validationErrors turns gqlparser's errors into GraphQL errors shaped like
// those of Tableau's Metadata API, which classifies them as ValidationError.
func validationErrors(list gqlerror.List) []graphqlError {
	out := make([]graphqlError, 0, len(list))
	for _, e := range list {
		ge := graphqlError{
			Message:    e.Message,
			Extensions: map[string]any{"classification": "ValidationError"},
		}
		for _, l := range e.Locations {
			ge.Locations = append(ge.Locations, location{Line: l.Line, Column: l.Column})
		}
		out = append(out, ge)
	}
	return out
}

// nodeLimitError is the error Tableau adds when a query touches more nodes
// than the limit. The data that comes with it is partial.
func nodeLimitError(limit int) graphqlError {
	return graphqlError{
		Message: fmt.Sprintf("Showing partial results. The request exceeded the %d node limit. "+
			"Use pagination, additional filtering, or both in the query to adjust results.", limit),
		Extensions: map[string]any{
			"severity":   "WARNING",
			"code":       "NODE_LIMIT_EXCEEDED",
			"properties": map[string]any{"nodeLimit": limit},
		},
	}
}

// rateExceededError is Tableau Cloud's throttling error for the Metadata API.
func rateExceededError() graphqlError {
	return graphqlError{
		Message: "Request was throttled. The rate of requests exceeded the limit; retry after a while.",
		Extensions: map[string]any{
			"severity": "ERROR",
			"code":     "RATE_EXCEEDED",
		},
	}
}

// appendJSON appends the JSON form of a scalar field value: a string,
// boolean, integer or null. Other values go through encoding/json.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case json.RawMessage:
		return append(b, v...), nil
	case string:
		return appendJSONString(b, v), nil
	case bool:
		return strconv.AppendBool(b, v), nil
	case int:
		return strconv.AppendInt(b, int64(v), 10), nil
	}
	enc, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, enc...), nil
}

// safeJSONByte[c] reports whether byte c stands for itself inside a JSON
// string as encoding/json writes it.
var safeJSONByte = func() (table [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		table[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return table
}()

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	// Most strings need no escaping: copy the plain prefix in one step.
	plain := 0
	for plain < len(s) && safeJSONByte[s[plain]] {
		plain++
	}
	b = append(b, s[:plain]...)
	for i := plain; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// object is a Metadata API object the executor can read fields from.
type object interface {
	typeName() string
	// field returns a scalar (string, bool, int, nil), an object, a list of
	// objects or a connectionSource.
	field(name string, args map[string]any) (any, error)
}

// connectionSource is the full, filtered list behind a *Connection field;
// the executor cuts the page out of it.
type connectionSource struct {
	items []object
	args  map[string]any
}

// fieldError is a resolver error that becomes a GraphQL error with a code.
type fieldError struct {
	code    string
	message string
}

func (e *fieldError) Error() string { return e.message }

// executor runs one operation against the model and counts the nodes it
// returns.
//
// The node limit counts objects: every object in the result counts once, at
// whatever depth (a workbook, its owner, each tag, dashboard, data source,
// table and database). NOTE: Tableau documents the limit but not this
// counting rule, which is the simulator's reading of it. Connection
// wrappers, pageInfo and the query root are structure, not nodes, and
// scalars never count. Once the count would pass the limit, further objects
// are left out (lists end early, single objects become null) and the
// response carries NODE_LIMIT_EXCEEDED with the partial data.
type executor struct {
	model    *model
	vars     map[string]any
	limit    int
	nodes    int
	exceeded bool
	errs     []graphqlError
	// maxPageSize caps first on connections; 0 sets no cap.
	maxPageSize int
	plans       map[planKey][]plannedField
	// out is the "data" value, written while the query runs, so that no
	// tree of the response is built in between.
	out []byte
}

// plannedField is one response key of a selection on one type, with its
// arguments evaluated and the sub-selections of every field node that asked
// for it merged. A request's plans are computed once per selection and
// type, not once per object.
type plannedField struct {
	key   string
	field *ast.Field
	sub   ast.SelectionSet
	args  map[string]any
}

// planKey names a selection: the field whose sub-selection it is (nil for
// the operation) and the type of the object it applies to.
type planKey struct {
	parent   *ast.Field
	typeName string
}

// pathNode is a response path kept as a list from leaf to root, so that a
// path is built only for the errors that need one.
type pathNode struct {
	parent *pathNode
	key    any
}

func (p *pathNode) slice() []any {
	var out []any
	for n := p; n != nil; n = n.parent {
		out = append(out, n.key)
	}
	slices.Reverse(out)
	return out
}

// execute runs the operation and returns the JSON of its "data" value.
func (e *executor) execute(op *ast.OperationDefinition) json.RawMessage {
	root := queryRoot{m: e.model}
	e.selectObject(root, "Query", nil, op.SelectionSet, nil)
	return e.out
}

func (e *executor) plan(parent *ast.Field, set ast.SelectionSet, typeName string) []plannedField {
	key := planKey{parent: parent, typeName: typeName}
	if p, ok := e.plans[key]; ok {
		return p
	}
	var out []plannedField
	for _, cf := range e.collectFields(set, typeName, nil) {
		f := cf.fields[0]
		pf := plannedField{key: cf.key, field: f, sub: f.SelectionSet}
		if len(cf.fields) > 1 {
			pf.sub = nil
			for _, ff := range cf.fields {
				pf.sub = append(pf.sub, ff.SelectionSet...)
			}
		}
		if !strings.HasPrefix(f.Name, "__") {
			pf.args = f.ArgumentMap(e.vars)
		}
		out = append(out, pf)
	}
	if e.plans == nil {
		e.plans = map[planKey][]plannedField{}
	}
	e.plans[key] = out
	return out
}

// takeNode counts one node and reports whether it still fits the limit.
func (e *executor) takeNode() bool {
	if e.nodes >= e.limit {
		e.exceeded = true
		return false
	}
	e.nodes++
	return true
}

// collectedField is one response key with every field node that asked for
// it, so that fragments selecting the same field merge their sub-selections.
type collectedField struct {
	key    string
	fields []*ast.Field
}

func (e *executor) collectFields(set ast.SelectionSet, typeName string, out []collectedField) []collectedField {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if !e.included(sel.Directives) {
				continue
			}
			key := sel.Alias
			if key == "" {
				key = sel.Name
			}
			i := slices.IndexFunc(out, func(c collectedField) bool { return c.key == key })
			if i < 0 {
				out = append(out, collectedField{key: key})
				i = len(out) - 1
			}
			out[i].fields = append(out[i].fields, sel)
		case *ast.InlineFragment:
			if e.included(sel.Directives) && typeMatches(sel.TypeCondition, typeName) {
				out = e.collectFields(sel.SelectionSet, typeName, out)
			}
		case *ast.FragmentSpread:
			if e.included(sel.Directives) && sel.Definition != nil && typeMatches(sel.Definition.TypeCondition, typeName) {
				out = e.collectFields(sel.Definition.SelectionSet, typeName, out)
			}
		}
	}
	return out
}

// included evaluates @skip and @include.
func (e *executor) included(dirs ast.DirectiveList) bool {
	if d := dirs.ForName("skip"); d != nil {
		if v, _ := d.ArgumentMap(e.vars)["if"].(bool); v {
			return false
		}
	}
	if d := dirs.ForName("include"); d != nil {
		if v, _ := d.ArgumentMap(e.vars)["if"].(bool); !v {
			return false
		}
	}
	return true
}

// typeMatches reports whether an object of type typeName satisfies a
// fragment's type condition, which may name the type or an interface it
// implements.
func typeMatches(condition, typeName string) bool {
	if condition == "" || condition == typeName {
		return true
	}
	def := metadataSchema.Types[typeName]
	for _, iface := range metadataSchema.GetImplements(def) {
		if iface.Name == condition {
			return true
		}
	}
	return false
}

// selectObject writes the JSON object of obj's selected fields.
func (e *executor) selectObject(obj object, typeName string, parent *ast.Field, set ast.SelectionSet, path *pathNode) {
	e.out = append(e.out, '{')
	for i, pf := range e.plan(parent, set, typeName) {
		if i > 0 {
			e.out = append(e.out, ',')
		}
		e.out = appendJSONString(e.out, pf.key)
		e.out = append(e.out, ':')

		f := pf.field
		if f.Name == "__typename" {
			e.out = appendJSONString(e.out, typeName)
			continue
		}
		if strings.HasPrefix(f.Name, "__") {
			e.errs = append(e.errs, graphqlError{
				Message: "Introspection is not served by the Tableau simulator.",
				Path:    (&pathNode{parent: path, key: pf.key}).slice(),
			})
			e.out = append(e.out, "null"...)
			continue
		}
		v, err := obj.field(f.Name, pf.args)
		if err != nil {
			e.addFieldError(err, f, &pathNode{parent: path, key: pf.key})
			e.out = append(e.out, "null"...)
			continue
		}
		e.value(v, f, pf.sub, path, pf.key)
	}
	e.out = append(e.out, '}')
}

func (e *executor) addFieldError(err error, f *ast.Field, path *pathNode) {
	ge := graphqlError{Message: err.Error(), Path: path.slice()}
	if f.Position != nil {
		ge.Locations = []location{{Line: f.Position.Line, Column: f.Position.Column}}
	}
	if fe, ok := err.(*fieldError); ok {
		ge.Extensions = map[string]any{"severity": "ERROR", "code": fe.code}
	}
	e.errs = append(e.errs, ge)
}

// value writes a resolved value of field f, completed against its
// declared type. The field's response path is parent plus key, built only
// when an object or an error needs it.
func (e *executor) value(v any, f *ast.Field, set ast.SelectionSet, parent *pathNode, key string) {
	switch v.(type) {
	case nil, string, bool, int:
		var err error
		if e.out, err = appendJSON(e.out, v); err != nil {
			e.addFieldError(err, f, &pathNode{parent: parent, key: key})
			e.out = append(e.out, "null"...)
		}
		return
	}
	path := &pathNode{parent: parent, key: key}
	switch v := v.(type) {
	case nil:
		e.out = append(e.out, "null"...)
	case structure:
		e.selectObject(v.object, v.typeName(), f, set, path)
	case object:
		if !e.takeNode() {
			e.out = append(e.out, "null"...)
			return
		}
		e.selectObject(v, v.typeName(), f, set, path)
	case []object:
		e.out = append(e.out, '[')
		for i, item := range v {
			if !e.takeNode() {
				break
			}
			if i > 0 {
				e.out = append(e.out, ',')
			}
			e.selectObject(item, item.typeName(), f, set, &pathNode{parent: path, key: i})
		}
		e.out = append(e.out, ']')
	case connectionSource:
		conn, err := e.page(f.Definition.Type.Name(), v)
		if err != nil {
			e.addFieldError(err, f, path)
			e.out = append(e.out, "null"...)
			return
		}
		e.selectObject(conn, conn.typeName(), f, set, path)
	default:
		var err error
		if e.out, err = appendJSON(e.out, v); err != nil {
			e.addFieldError(err, f, path)
			e.out = append(e.out, "null"...)
		}
	}
}

// cursor is the content of a Metadata API cursor: base64 of a JSON object
// naming the node type, the site and the id of the last node of the page.
type cursor struct {
	Type           string `json:"type"`
	Scope          string `json:"scope"`
	SortOrderValue struct {
		LastID string `json:"lastId"`
	} `json:"sortOrderValue"`
}

func encodeCursor(typeName, siteLUID, lastID string) string {
	c := cursor{Type: typeName, Scope: "sites/" + siteLUID}
	c.SortOrderValue.LastID = lastID
	b, _ := json.Marshal(c)
	return base64.StdEncoding.EncodeToString(b)
}

func invalidArgument(msg string) error {
	return &fieldError{code: "INVALID_ARGUMENT", message: msg}
}

// page cuts one page out of a connection's items, which are sorted by id.
func (e *executor) page(connType string, src connectionSource) (*connectionObj, error) {
	nodeType := metadataSchema.Types[connType].Fields.ForName("nodes").Type.Name()
	items := src.items

	first := defaultPageSize
	if v, ok := src.args["first"]; ok && v != nil {
		first = toInt(v)
		if first < 0 {
			return nil, invalidArgument("The argument first must not be negative.")
		}
	}
	if e.maxPageSize > 0 && first > e.maxPageSize {
		first = e.maxPageSize
		e.errs = append(e.errs, graphqlError{
			Message: fmt.Sprintf("The value chosen for \"first\" exceeded the maximum page size, so the query results "+
				"are limited to the maximum page size of %d.", e.maxPageSize),
			Extensions: map[string]any{
				"severity":   "WARNING",
				"code":       "MAX_PAGE_SIZE_EXCEEDED",
				"properties": map[string]any{"maxPageSize": e.maxPageSize},
			},
		})
	}
	after, _ := src.args["after"].(string)
	offset := 0
	if v, ok := src.args["offset"]; ok && v != nil {
		offset = toInt(v)
		if offset < 0 {
			return nil, invalidArgument("The argument offset must not be negative.")
		}
	}
	if after != "" && offset > 0 {
		return nil, invalidArgument("Can't use \"after\" and \"offset\" pagination at the same time. Remove one of the arguments from the query.")
	}

	start := offset
	if after != "" {
		raw, err := base64.StdEncoding.DecodeString(after)
		var c cursor
		if err == nil {
			err = json.Unmarshal(raw, &c)
		}
		if err != nil || c.SortOrderValue.LastID == "" {
			return nil, invalidArgument("The query contains an invalid cursor. Make sure to use cursors of the same type.")
		}
		if c.Type != nodeType {
			return nil, invalidArgument("The query contains an invalid cursor. Make sure to use cursors of the same type.")
		}
		if c.Scope != "sites/"+e.model.siteLUID {
			return nil, invalidArgument("The query contains an invalid cursor. Make sure to use cursors that belong to the same site.")
		}
		// The position after the last id still holds when that node was
		// deleted since, because items are sorted by id.
		start, _ = slices.BinarySearchFunc(items, c.SortOrderValue.LastID, func(o object, id string) int {
			return strings.Compare(objectID(o), id)
		})
		if start < len(items) && objectID(items[start]) == c.SortOrderValue.LastID {
			start++
		}
	}
	start = min(start, len(items))
	end := min(start+first, len(items))

	conn := &connectionObj{typ: connType, nodes: items[start:end], total: len(items)}
	conn.info = pageInfoObj{hasNext: end < len(items), hasPrevious: start > 0}
	if end > start {
		conn.info.startCursor = encodeCursor(nodeType, e.model.siteLUID, objectID(items[start]))
		conn.info.endCursor = encodeCursor(nodeType, e.model.siteLUID, objectID(items[end-1]))
	}
	return conn, nil
}

func objectID(o object) string {
	id, _ := o.field("id", nil)
	s, _ := id.(string)
	return s
}

// toInt reads an Int argument, which arrives as int64 from a literal and as
// float64 from a JSON variable.
func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		i, _ := n.Int64()
		return int(i)
	}
	return 0
}

// connectionObj is a page of a connection. It is structure, not a node, so
// selecting it does not count against the node limit; its nodes do.
type connectionObj struct {
	typ   string
	nodes []object
	total int
	info  pageInfoObj
}

func (c *connectionObj) typeName() string { return c.typ }

func (c *connectionObj) field(name string, _ map[string]any) (any, error) {
	switch name {
	case "nodes":
		return c.nodes, nil
	case "pageInfo":
		return structure{c.info}, nil
	case "totalCount":
		return c.total, nil
	}
	return nil, fmt.Errorf("field %s is not served on %s", name, c.typ)
}

type pageInfoObj struct {
	hasNext, hasPrevious   bool
	startCursor, endCursor string
}

func (p pageInfoObj) typeName() string { return "PageInfo" }

func (p pageInfoObj) field(name string, _ map[string]any) (any, error) {
	switch name {
	case "hasNextPage":
		return p.hasNext, nil
	case "hasPreviousPage":
		return p.hasPrevious, nil
	case "startCursor":
		return nullable(p.startCursor), nil
	case "endCursor":
		return nullable(p.endCursor), nil
	}
	return nil, fmt.Errorf("field %s is not served on PageInfo", name)
}

// structure wraps an object that is not a node, such as PageInfo, so that
// the executor does not count it.
type structure struct{ object }

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
