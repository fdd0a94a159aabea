package lineage

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// sqlLexRules are the lexical rules of one SQL dialect that decide what is
// a comment, a string or a name. Sources, from each vendor's manual:
//
//   - PostgreSQL, "Lexical Structure": nested comments, E'...' strings.
//   - Snowflake, "Literals" and the comment syntax: // and -- comments.
//   - BigQuery, "Lexical structure and syntax": # comments,
//     triple-quoted strings, escape sequences.
//   - MySQL, "String Literals" and "Comments".
//   - Databricks, "Comments" and "STRING type".
//   - SQL Server, "Slash Star (Block Comment)": nested comments, and
//     "CREATE TABLE": temporary table names.
type sqlLexRules struct {
	name string
	// hashComments: # starts a comment to the end of the line.
	hashComments bool
	// slashComments: // starts a comment to the end of the line.
	slashComments bool
	// nestedComments: /* */ comments nest, so each /* needs its own */.
	nestedComments bool
	// backslashEscapes: a backslash in a string literal escapes the next
	// character, so \' does not end the string.
	backslashEscapes bool
	// escapeStringPrefix: E'...' strings take backslash escapes.
	escapeStringPrefix bool
	// doubleQuotedStrings: "..." is a string literal, not an identifier.
	doubleQuotedStrings bool
	// tripleQuotedStrings: '''...''' and """...""" are string literals.
	tripleQuotedStrings bool
	// bracketNames: [...] quotes an identifier. Elsewhere a bracket is an
	// array subscript.
	bracketNames bool
	// hashNames: # may start and continue a name, as in SQL Server's
	// temporary tables (#orders, ##orders).
	hashNames bool
	// temporaryTables: names that start with # are temporary tables that
	// the query itself creates, so they are not reported.
	temporaryTables bool
}

// genericLexRules are used when neither the connection type nor the
// adapter is known: standard SQL comments and strings, square brackets
// and # in names as SQL Server and Access accept them.
var genericLexRules = sqlLexRules{name: "", bracketNames: true, hashNames: true}

// sqlLexRulesFor returns the lexical rules for a dialect hint: a Tableau
// connection type (a custom SQL query's connectionType, such as
// "snowflake", "bigquery", "sqlserver", "azure_sql_dw") or a dbt adapter
// type. An unknown or empty hint gives genericLexRules.
func sqlLexRulesFor(hint string) (sqlLexRules, bool) {
	h := strings.ToLower(strings.TrimSpace(hint))
	switch {
	case h == "":
		return genericLexRules, false
	case strings.Contains(h, "snowflake"):
		return sqlLexRules{name: "snowflake", slashComments: true, backslashEscapes: true}, true
	case strings.Contains(h, "bigquery"):
		return sqlLexRules{name: "bigquery", hashComments: true, backslashEscapes: true, doubleQuotedStrings: true,
			tripleQuotedStrings: true}, true
	case strings.Contains(h, "mysql"), strings.Contains(h, "mariadb"), strings.Contains(h, "memsql"), strings.Contains(h, "singlestore"):
		return sqlLexRules{name: "mysql", hashComments: true, backslashEscapes: true, doubleQuotedStrings: true}, true
	case strings.Contains(h, "databricks"), strings.Contains(h, "spark"):
		return sqlLexRules{name: "databricks", nestedComments: true, backslashEscapes: true, doubleQuotedStrings: true}, true
	case strings.Contains(h, "postgres"), strings.Contains(h, "duckdb"):
		// DuckDB's parser derives from PostgreSQL's and lexes the same way.
		return sqlLexRules{name: "postgres", nestedComments: true, escapeStringPrefix: true}, true
	case strings.Contains(h, "redshift"):
		// NOTE: whether Redshift nests block comments is not documented, so
		// they are read as not nesting.
		return sqlLexRules{name: "redshift"}, true
	case strings.Contains(h, "sqlserver"), strings.Contains(h, "azure_sql"), h == "fabric", h == "synapse":
		return sqlLexRules{name: "sqlserver", nestedComments: true, bracketNames: true, hashNames: true, temporaryTables: true}, true
	}
	return genericLexRules, false
}

// sqlLexRulesOf picks the rules for a custom SQL query: its connection type
// when that names a known dialect, else the manifest's adapter.
func sqlLexRulesOf(connectionType, adapter string) sqlLexRules {
	if rules, ok := sqlLexRulesFor(connectionType); ok {
		return rules
	}
	rules, _ := sqlLexRulesFor(adapter)
	return rules
}

// tokenize splits a query into tokens under a dialect's rules, dropping
// comments and white space.
func tokenize(s string, rules sqlLexRules) ([]token, error) {
	var toks []token
	i := 0
	for i < len(s) {
		c := s[i]
		start := i
		switch {
		case isSpace(c):
			i++
			continue

		case c == '-' && i+1 < len(s) && s[i+1] == '-',
			c == '/' && rules.slashComments && i+1 < len(s) && s[i+1] == '/',
			c == '#' && rules.hashComments:
			for i < len(s) && s[i] != '\n' {
				i++
			}
			continue

		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			next, ok := skipBlockComment(s, i, rules.nestedComments)
			if !ok {
				return nil, fmt.Errorf("comment at offset %d is not closed", start)
			}
			i = next
			continue

		case c == '\'' || c == '"' && rules.doubleQuotedStrings:
			next, ok := skipString(s, i, rules.backslashEscapes, rules.tripleQuotedStrings)
			if !ok {
				return nil, fmt.Errorf("string at offset %d is not closed", start)
			}
			i = next
			toks = append(toks, token{kind: tokString, text: s[start:i], start: start, end: i})

		case rules.escapeStringPrefix && (c == 'E' || c == 'e') && i+1 < len(s) && s[i+1] == '\'':
			next, ok := skipString(s, i+1, true, false)
			if !ok {
				return nil, fmt.Errorf("string at offset %d is not closed", start)
			}
			i = next
			toks = append(toks, token{kind: tokString, text: s[start:i], start: start, end: i})

		case c == '"' || c == '`' || c == '[' && rules.bracketNames:
			_, next, ok := readQuoted(s, i)
			if !ok {
				return nil, fmt.Errorf("quoted identifier at offset %d is not closed", start)
			}
			i = next
			toks = append(toks, token{kind: tokQuoted, text: s[start:i], start: start, end: i})

		case c == '$' && dollarTag(s, i) != "":
			tag := dollarTag(s, i)
			end := strings.Index(s[i+len(tag):], tag)
			if end < 0 {
				return nil, fmt.Errorf("dollar-quoted string at offset %d is not closed", start)
			}
			i += len(tag) + end + len(tag)
			toks = append(toks, token{kind: tokString, text: s[start:i], start: start, end: i})

		case c >= '0' && c <= '9':
			i = scanWord(s, i, rules)
			if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
				i = scanWord(s, i+1, rules)
			}
			toks = append(toks, token{kind: tokNumber, text: s[start:i], start: start, end: i})

		case isWordStart(s, i, rules):
			i = scanWord(s, i, rules)
			toks = append(toks, token{kind: tokWord, text: s[start:i], start: start, end: i})

		case c == '@' || c == '$' || c == ':' || c == '?':
			// Stages, bind parameters and positional columns.
			i = scanWord(s, i+1, rules)
			toks = append(toks, token{kind: tokOther, text: s[start:i], start: start, end: i})

		default:
			_, size := utf8.DecodeRuneInString(s[i:])
			i += size
			toks = append(toks, token{kind: tokPunct, text: s[start:i], start: start, end: i})
		}
	}
	return toks, nil
}

// skipBlockComment returns the index after the /* */ comment at s[i]. With
// nested set, each /* inside needs its own */.
func skipBlockComment(s string, i int, nested bool) (int, bool) {
	if !nested {
		end := strings.Index(s[i+2:], "*/")
		if end < 0 {
			return len(s), false
		}
		return i + 2 + end + 2, true
	}
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*':
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, true
			}
		default:
			j++
		}
	}
	return len(s), false
}

// skipString returns the index after the string literal that starts with
// the quote at s[i]. A doubled quote is one
// quote character. With backslash set, a backslash escapes the next byte;
// with triple set, three quotes open a string that only three quotes end.
func skipString(s string, i int, backslash, triple bool) (int, bool) {
	quote := s[i]
	if triple && strings.HasPrefix(s[i:], strings.Repeat(string(quote), 3)) {
		closing := strings.Repeat(string(quote), 3)
		for j := i + 3; j < len(s); j++ {
			if backslash && s[j] == '\\' {
				j++
				continue
			}
			if strings.HasPrefix(s[j:], closing) {
				return j + 3, true
			}
		}
		return len(s), false
	}
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			if backslash {
				j++
			}
		case quote:
			if j+1 < len(s) && s[j+1] == quote {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(s), false
}

func isWordStart(s string, i int, rules sqlLexRules) bool {
	c := s[i]
	if c == '_' || c == '#' && rules.hashNames || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
		return true
	}
	if c < utf8.RuneSelf {
		return false
	}
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r)
}

// scanWord returns the index after the identifier characters from s[i].
func scanWord(s string, i int, rules sqlLexRules) int {
	for i < len(s) {
		c := s[i]
		if c == '_' || c == '$' || c == '#' && rules.hashNames || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.Is(unicode.Mn, r) {
			return i
		}
		i += size
	}
	return i
}

// dollarTag returns the opening "$$" or "$tag$" of a dollar-quoted string
// at s[i], or "" when there is none.
func dollarTag(s string, i int) string {
	for j := i + 1; j < len(s); j++ {
		c := s[j]
		if c == '$' {
			return s[i : j+1]
		}
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || j > i+1 && '0' <= c && c <= '9') {
			return ""
		}
	}
	return ""
}
