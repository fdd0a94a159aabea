package lineage

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ExtractTables returns the tables that a SQL query reads, for custom SQL
// that Tableau could not parse. It finds the names after FROM and JOIN
// (and SQL Server's APPLY), in comma joins and in subqueries at any depth.
// It leaves out the names of common table expressions, function calls
// such as EXTRACT(YEAR FROM d) or generate_series(...), comments (-- and
// /* */) and string literals. It reads the query under standard SQL rules;
// ExtractTablesFor applies a dialect's comments and escapes.
//
// Each table is returned as written, with its quoting: bare parts, parts
// in double quotes, square brackets or backquotes, joined by dots, so that
// `"My Schema"."a.b"` keeps both its case rules and its dots. The list is
// sorted and contains no duplicates. It is nil when the query reads no table
// or cannot be read (an unterminated string, quote or comment, or
// unbalanced parentheses).
func ExtractTables(sql string) []string {
	return ExtractTablesFor(sql, "")
}

// ExtractTablesFor is ExtractTables under the lexical rules of a dialect,
// named by a Tableau connection type (a custom SQL query's connectionType,
// such as "snowflake", "bigquery" or "sqlserver") or a dbt adapter type:
//
//   - snowflake: // comments, backslash escapes in strings.
//   - bigquery: # comments, backslash escapes in strings and backquoted
//     names, double-quoted and triple-quoted strings.
//   - mysql (and mariadb, singlestore): # comments, backslash escapes,
//     double-quoted strings.
//   - databricks, spark: nested /* */ comments, backslash escapes,
//     double-quoted strings.
//   - postgres, duckdb: nested /* */ comments, backslash escapes in
//     E'...' strings only.
//   - sqlserver (and azure_sql*, fabric, synapse): nested /* */ comments,
//     [bracketed] names, # in names. Temporary tables (#name, ##name) are
//     created by the query itself and are not returned.
//
// Square brackets quote names only for SQL Server and an unknown dialect.
// An empty or unknown dialect reads standard SQL, with # allowed in names.
func ExtractTablesFor(sql, dialect string) []string {
	rules, _ := sqlLexRulesFor(dialect)
	tables, err := extractTables(sql, rules)
	if err != nil {
		return nil
	}
	return tables
}

var errNoTables = errors.New("no table found")

func extractTables(sql string, rules sqlLexRules) ([]string, error) {
	toks, err := tokenize(sql, rules)
	if err != nil {
		return nil, err
	}
	p := sqlScanner{toks: toks, stack: []sqlFrame{{kind: frameQuery}}}
	if err := p.scan(); err != nil {
		return nil, err
	}

	var out []string
	for _, t := range p.tables {
		if t.raw == t.first.text && p.isCTE(t.first) {
			continue
		}
		if rules.temporaryTables && t.first.kind == tokWord && strings.HasPrefix(t.raw, "#") {
			continue
		}
		out = append(out, t.raw)
	}
	if len(out) == 0 {
		return nil, errNoTables
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

type tokenKind uint8

const (
	tokWord   tokenKind = iota // a bare identifier or keyword
	tokQuoted                  // a quoted identifier
	tokNumber
	tokString // a string literal
	tokPunct  // one character of punctuation or an operator
	tokOther  // a parameter, a stage or anything else that names no table
)

type token struct {
	kind       tokenKind
	text       string // the source text, quotes included
	start, end int
}

func (t token) isWord(upper string) bool {
	return t.kind == tokWord && strings.EqualFold(t.text, upper)
}

func (t token) isPunct(c byte) bool {
	return t.kind == tokPunct && t.text[0] == c
}

type frameKind uint8

const (
	// frameQuery is the whole query or a parenthesized subquery.
	frameQuery frameKind = iota
	// frameGroup is a parenthesized join in a FROM clause.
	frameGroup
	// frameOther is a function's arguments or an expression, where FROM
	// is part of a function's syntax, as in EXTRACT(YEAR FROM d).
	frameOther
)

type sqlFrame struct {
	kind frameKind
	// fromList is true inside a FROM clause, where a comma starts another
	// table.
	fromList bool
	// expectItem is true when the next token starts a table item.
	expectItem bool
	// inWith is true between WITH and the SELECT of its main query.
	inWith bool
}

type tableRef struct {
	raw   string // as written, parts joined by dots
	first token  // the first part, for the CTE check
}

type sqlScanner struct {
	toks   []token
	i      int
	stack  []sqlFrame
	tables []tableRef
	ctes   []token
}

// clauseEnds contains the keywords that end a FROM clause.
var clauseEnds = map[string]bool{
	"WHERE": true, "GROUP": true, "HAVING": true, "ORDER": true, "LIMIT": true,
	"QUALIFY": true, "WINDOW": true, "UNION": true, "INTERSECT": true, "EXCEPT": true,
	"MINUS": true, "FETCH": true, "OFFSET": true, "RETURNING": true, "INTO": true,
	"SET": true, "CONNECT": true, "START": true, "SELECT": true, "VALUES": true,
}

// cteKeywords contains the words of a WITH clause that name no expression.
var cteKeywords = map[string]bool{"AS": true, "MATERIALIZED": true, "NOT": true, "RECURSIVE": true}

// notTables contains the keywords that cannot start a table item.
var notTables = map[string]bool{
	"ON": true, "USING": true, "JOIN": true, "LEFT": true, "RIGHT": true, "INNER": true,
	"OUTER": true, "FULL": true, "CROSS": true, "NATURAL": true, "AS": true, "FROM": true,
	"WITH": true, "APPLY": true,
}

func (p *sqlScanner) top() *sqlFrame { return &p.stack[len(p.stack)-1] }

func (p *sqlScanner) peek(k int) (token, bool) {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k], true
	}
	return token{}, false
}

func (p *sqlScanner) scan() error {
	for ; p.i < len(p.toks); p.i++ {
		tok := p.toks[p.i]
		f := p.top()

		if f.expectItem && p.startItem(tok) {
			continue
		}

		switch {
		case tok.isPunct('('):
			p.open()
		case tok.isPunct(')'):
			if len(p.stack) == 1 {
				return fmt.Errorf("unbalanced ')' at offset %d", tok.start)
			}
			p.stack = p.stack[:len(p.stack)-1]
		case tok.isPunct(','):
			if f.fromList {
				f.expectItem = true
			}
		case tok.isPunct(';'):
			if len(p.stack) != 1 {
				return fmt.Errorf("';' inside parentheses at offset %d", tok.start)
			}
			*f = sqlFrame{kind: frameQuery}
		case tok.kind == tokWord:
			p.keyword(tok, f)
		case tok.kind == tokQuoted:
			p.maybeCTE(tok, f)
		}
	}
	if len(p.stack) != 1 {
		return errors.New("unbalanced '('")
	}
	return nil
}

// startItem handles the token that starts a table item in a FROM clause
// and reports whether it consumed it.
func (p *sqlScanner) startItem(tok token) bool {
	f := p.top()
	switch tok.kind {
	case tokWord:
		kw := strings.ToUpper(tok.text)
		if kw == "LATERAL" || kw == "ONLY" {
			return true
		}
		if clauseEnds[kw] || notTables[kw] {
			f.expectItem = false
			return false
		}
	case tokQuoted:
	case tokPunct:
		if tok.isPunct('(') {
			// A subquery or a parenthesized join: open handles both.
			return false
		}
		f.expectItem = false
		return false
	default:
		// A stage, a file name or a parameter: nothing to match.
		f.expectItem = false
		return true
	}

	f.expectItem = false
	first := tok
	raw := p.readName()
	if next, ok := p.peek(1); ok && next.isPunct('(') {
		// A table function such as TABLE(...), UNNEST(...) or FLATTEN(...).
		return true
	}
	p.tables = append(p.tables, tableRef{raw: raw, first: first})
	return true
}

// readName reads a dotted name from the current token and leaves p.i on
// its last token. BigQuery project names such as my-project-1 are joined
// from the words and hyphens that touch each other.
func (p *sqlScanner) readName() string {
	var b strings.Builder
	b.WriteString(p.toks[p.i].text)
	for {
		next, ok := p.peek(1)
		if !ok {
			break
		}
		switch {
		case next.isPunct('.'):
			after, ok := p.peek(2)
			if ok && after.isPunct('.') {
				// db..table: SQL Server's default schema.
				last, ok := p.peek(3)
				if !ok || (last.kind != tokWord && last.kind != tokQuoted) {
					return b.String()
				}
				b.WriteString("..")
				b.WriteString(last.text)
				p.i += 3
				continue
			}
			if !ok || (after.kind != tokWord && after.kind != tokQuoted) {
				return b.String()
			}
			b.WriteByte('.')
			b.WriteString(after.text)
			p.i += 2
		case next.isPunct('-') && next.start == p.toks[p.i].end && p.toks[p.i].kind != tokQuoted:
			after, ok := p.peek(2)
			if !ok || after.start != next.end || (after.kind != tokWord && after.kind != tokNumber) {
				return b.String()
			}
			b.WriteByte('-')
			b.WriteString(after.text)
			p.i += 2
		default:
			return b.String()
		}
	}
	return b.String()
}

// open pushes the frame of an opening parenthesis.
func (p *sqlScanner) open() {
	f := p.top()
	next, _ := p.peek(1)
	switch {
	case next.isWord("SELECT") || next.isWord("WITH") || next.isWord("VALUES"):
		f.expectItem = false
		p.stack = append(p.stack, sqlFrame{kind: frameQuery})
	case f.expectItem:
		f.expectItem = false
		p.stack = append(p.stack, sqlFrame{kind: frameGroup, fromList: true, expectItem: true})
	case next.isPunct('('):
		// ((SELECT ...)) and the like: the inner parenthesis decides.
		p.stack = append(p.stack, sqlFrame{kind: frameQuery})
	default:
		p.stack = append(p.stack, sqlFrame{kind: frameOther})
	}
}

func (p *sqlScanner) keyword(tok token, f *sqlFrame) {
	kw := strings.ToUpper(tok.text)
	switch kw {
	case "FROM":
		if f.kind == frameOther {
			return
		}
		if p.i > 0 && p.toks[p.i-1].isWord("DISTINCT") {
			// IS [NOT] DISTINCT FROM compares two values.
			return
		}
		f.fromList, f.expectItem = true, true
	case "JOIN", "APPLY":
		if f.kind == frameOther {
			return
		}
		f.fromList, f.expectItem = true, true
	case "WITH":
		// A WITH clause starts a query, unlike TIMESTAMP WITH TIME ZONE.
		startsQuery := p.i == 0 || p.toks[p.i-1].isPunct('(') || p.toks[p.i-1].isPunct(';') || p.toks[p.i-1].isWord("AS")
		next, _ := p.peek(1)
		if startsQuery && (next.kind == tokWord || next.kind == tokQuoted) {
			f.inWith = true
		}
	default:
		if clauseEnds[kw] {
			f.fromList, f.expectItem = false, false
			if kw == "SELECT" {
				f.inWith = false
			}
			return
		}
		p.maybeCTE(tok, f)
	}
}

// maybeCTE records the name of a common table expression: inside WITH, a
// name followed by AS or by its column list.
func (p *sqlScanner) maybeCTE(tok token, f *sqlFrame) {
	if !f.inWith {
		return
	}
	if tok.kind == tokWord && cteKeywords[strings.ToUpper(tok.text)] {
		return
	}
	next, _ := p.peek(1)
	if next.isWord("AS") || next.isPunct('(') {
		p.ctes = append(p.ctes, tok)
	}
}

// isCTE reports whether a one-part table name is a common table
// expression of the query. Names compare without ASCII case unless both
// are quoted.
func (p *sqlScanner) isCTE(name token) bool {
	for _, c := range p.ctes {
		if c.kind == tokQuoted && name.kind == tokQuoted {
			if c.text[1:len(c.text)-1] == name.text[1:len(name.text)-1] {
				return true
			}
			continue
		}
		if equalFoldASCII(identText(c), identText(name)) {
			return true
		}
	}
	return false
}

func identText(t token) string {
	if t.kind == tokQuoted {
		text, _, _ := readQuoted(t.text, 0)
		return text
	}
	return t.text
}
