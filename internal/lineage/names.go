package lineage

import "strings"

// nameMode is the origin of a name, which decides how it compares.
type nameMode uint8

const (
	// modeCatalog is a name Tableau read from the warehouse catalog: the
	// stored name, whatever brackets Tableau shows around it.
	modeCatalog nameMode = iota
	// modeUnquoted is a bare identifier from SQL, which the warehouse folds.
	modeUnquoted
	// modeQuoted is a quoted identifier from SQL, taken as written.
	modeQuoted
)

// namePart is one part of a dotted name such as db.schema.table.
type namePart struct {
	text string
	mode nameMode
}

// parseName splits a dotted name into its parts. It reads bare parts and
// parts quoted with double quotes, square brackets or backquotes, where a
// doubled closing quote stands for itself. When backtickPath is true a
// backquoted part holding dots is a path of several parts, as in BigQuery.
// It returns false when a quote is not closed or a part is followed by
// something other than a dot.
func parseName(s string, backtickPath bool) ([]namePart, bool) {
	var parts []namePart
	i := 0
	for {
		i = skipSpace(s, i)
		if i >= len(s) {
			// An empty name or a trailing dot.
			return nil, false
		}

		switch c := s[i]; c {
		case '"', '[', '`':
			text, next, ok := readQuoted(s, i)
			if !ok {
				return nil, false
			}
			if c == '`' && backtickPath && strings.Contains(text, ".") {
				for _, p := range strings.Split(text, ".") {
					parts = append(parts, namePart{text: p, mode: modeQuoted})
				}
			} else {
				parts = append(parts, namePart{text: text, mode: modeQuoted})
			}
			i = next
		default:
			start := i
			for i < len(s) && s[i] != '.' {
				i++
			}
			parts = append(parts, namePart{text: strings.TrimSpace(s[start:i]), mode: modeUnquoted})
		}

		i = skipSpace(s, i)
		if i >= len(s) {
			return parts, true
		}
		if s[i] != '.' {
			return nil, false
		}
		i++
	}
}

// readQuoted reads the quoted identifier that starts at s[i] and returns
// its text and the index after its closing quote.
func readQuoted(s string, i int) (string, int, bool) {
	closing := s[i]
	if closing == '[' {
		closing = ']'
	}
	// Without a doubled quote the text is a substring of s.
	if end := strings.IndexByte(s[i+1:], closing); end >= 0 {
		j := i + 1 + end
		if j+1 >= len(s) || s[j+1] != closing {
			return s[i+1 : j], j + 1, true
		}
	}
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != closing {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == closing {
			b.WriteByte(closing)
			j++
			continue
		}
		return b.String(), j + 1, true
	}
	return "", len(s), false
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// unwrapName strips the brackets or quotes around a whole name when
// Tableau reports a single part with them, as in "[Orders$]".
func unwrapName(s string) string {
	s = strings.TrimSpace(s)
	if len(s) < 2 {
		return s
	}
	switch s[0] {
	case '[', '"', '`':
		if text, next, ok := readQuoted(s, 0); ok && next == len(s) {
			return text
		}
	}
	return s
}

// displayName renders resolved name parts for the run report: parts joined
// by dots, with double quotes around a part that was quoted in SQL or that
// contains characters that would make the joined name unclear.
func displayName(parts ...namePart) string {
	if s, ok := plainDisplayName(parts); ok {
		return s
	}
	var b strings.Builder
	first := true
	for _, p := range parts {
		if p.text == "" && p.mode != modeQuoted {
			continue
		}
		if !first {
			b.WriteByte('.')
		}
		first = false
		if p.mode == modeQuoted || strings.ContainsAny(p.text, ".\"[]` \t\n") {
			b.WriteByte('"')
			b.WriteString(strings.ReplaceAll(p.text, `"`, `""`))
			b.WriteByte('"')
			continue
		}
		b.WriteString(p.text)
	}
	return b.String()
}

// plainDisplayName joins parts that need no quotes with one allocation.
func plainDisplayName(parts []namePart) (string, bool) {
	n := 0
	for _, p := range parts {
		if p.mode == modeQuoted || strings.ContainsAny(p.text, ".\"[]` \t\n") {
			return "", false
		}
		if p.text != "" {
			n += len(p.text) + 1
		}
	}
	if n == 0 {
		return "", true
	}
	b := make([]byte, 0, n-1)
	for _, p := range parts {
		if p.text == "" {
			continue
		}
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, p.text...)
	}
	return string(b), true
}
