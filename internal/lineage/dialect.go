package lineage

import "strings"

// dialect contains a warehouse's rules for comparing identifiers. The rules
// per adapter, and their sources, are in the package documentation.
type dialect struct {
	name string
	// fold returns the stored form of an unquoted identifier.
	fold func(string) string
	// quotesKeepCase is true when a quoted identifier is stored as written
	// and compared exactly. When false every comparison ignores ASCII case.
	quotesKeepCase bool
	// defaultQuoted marks which of database, schema and identifier dbt's
	// adapter quotes when neither the node's config nor its relation name
	// sets it.
	defaultQuoted [3]bool
	// backtickPath is true when a backquoted name may contain a dotted path.
	backtickPath bool
	// keyCase is the case index keys fold names to. The exact rules apply
	// after the lookup.
	keyCase keyCase
}

func dialectFor(adapter string) dialect {
	d := dialectRules(adapter)
	switch d.name {
	case "snowflake":
		d.keyCase = keyUpper
	case "bigquery":
		// Every BigQuery comparison is exact, so the key need not fold.
		d.keyCase = keyExact
	default:
		d.keyCase = keyLower
	}
	return d
}

func dialectRules(adapter string) dialect {
	switch a := strings.ToLower(strings.TrimSpace(adapter)); a {
	case "snowflake":
		return dialect{name: a, fold: upperASCII, quotesKeepCase: true}
	case "postgres", "postgresql":
		return dialect{name: "postgres", fold: lowerASCII, quotesKeepCase: true, defaultQuoted: [3]bool{true, true, true}}
	case "bigquery":
		// Folding nothing and keeping quoted case makes every comparison
		// exact.
		return dialect{name: a, fold: identity, quotesKeepCase: true, defaultQuoted: [3]bool{true, true, true}, backtickPath: true}
	case "redshift":
		return dialect{name: a, fold: lowerASCII, defaultQuoted: [3]bool{true, true, true}}
	case "databricks", "spark":
		return dialect{name: a, fold: lowerASCII}
	case "duckdb":
		return dialect{name: a, fold: lowerASCII, defaultQuoted: [3]bool{true, true, true}}
	case "sqlserver", "fabric", "synapse":
		return dialect{name: a, fold: lowerASCII, defaultQuoted: [3]bool{true, true, true}}
	default:
		return dialect{name: a, fold: lowerASCII}
	}
}

// stored returns the name the warehouse keeps for an identifier.
func (d dialect) stored(name string, quoted bool) string {
	if quoted && d.quotesKeepCase {
		return name
	}
	return d.fold(name)
}

// partMatches reports whether a name Tableau gave refers to the stored
// identifier of a dbt relation part.
func (d dialect) partMatches(p namePart, stored string, dbtQuoted bool) bool {
	if !d.quotesKeepCase {
		return equalFoldASCII(p.text, stored)
	}
	switch p.mode {
	case modeQuoted:
		return p.text == stored
	case modeUnquoted:
		return d.fold(p.text) == stored
	default:
		// A catalog name is the stored name. A dbt part that is not quoted
		// compares case-insensitively, which also accepts catalog names
		// written in another case by hand.
		if dbtQuoted {
			return p.text == stored
		}
		return d.fold(p.text) == stored
	}
}

// partExact reports whether a Tableau name is byte for byte the stored
// name, which settles a tie between two relations that both fit.
func partExact(p namePart, stored string) bool {
	return p.text == stored
}

func identity(s string) string { return s }

// lowerASCII folds ASCII letters only, as Postgres and Snowflake do for
// unquoted identifiers. It returns s itself when nothing changes.
func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'A' <= c && c <= 'Z' {
					b[j] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

func upperASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'a' <= c && c <= 'z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if c := b[j]; 'a' <= c && c <= 'z' {
					b[j] = c - ('a' - 'A')
				}
			}
			return string(b)
		}
	}
	return s
}

func equalFoldASCII(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if 'A' <= ca && ca <= 'Z' {
			ca += 'a' - 'A'
		}
		if 'A' <= cb && cb <= 'Z' {
			cb += 'a' - 'A'
		}
		if ca != cb {
			return false
		}
	}
	return true
}
