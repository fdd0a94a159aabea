package exposures

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

// depRef is one entry of an exposure's depends_on: ref('model'),
// ref('package', 'model'), ref('model', v=2) or source('source', 'table').
type depRef struct {
	Source  bool
	Package string // ref only; empty for the root project
	Name    string // model, seed or snapshot name; table name for a source
	Version string // ref only
	// SourceName is the source's name, the first argument of source().
	SourceName string
}

// String renders the entry as dbt reads it in depends_on.
func (d depRef) String() string {
	if d.Source {
		return "source(" + quoteArg(d.SourceName) + ", " + quoteArg(d.Name) + ")"
	}
	var b strings.Builder
	b.WriteString("ref(")
	if d.Package != "" {
		b.WriteString(quoteArg(d.Package))
		b.WriteString(", ")
	}
	b.WriteString(quoteArg(d.Name))
	if d.Version != "" {
		b.WriteString(", v=")
		if _, err := strconv.ParseFloat(d.Version, 64); err == nil {
			b.WriteString(d.Version)
		} else {
			b.WriteString(quoteArg(d.Version))
		}
	}
	b.WriteString(")")
	return b.String()
}

// quoteArg quotes a Jinja string argument. dbt names rarely hold quotes, but
// a backslash or quote is escaped so that the call still parses.
func quoteArg(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// depRefFor returns the depends_on entry for a dbt node or source, written
// from the root project's point of view.
func depRefFor(m *dbt.Manifest, uniqueID string, nodes map[string]dbt.Node, sources map[string]dbt.Source) (depRef, bool) {
	if n, ok := nodes[uniqueID]; ok {
		d := depRef{Name: n.Name, Version: n.Version}
		if n.PackageName != "" && n.PackageName != m.ProjectName {
			d.Package = n.PackageName
		}
		return d, true
	}
	if s, ok := sources[uniqueID]; ok {
		return depRef{Source: true, SourceName: s.SourceName, Name: s.Name}, true
	}
	return depRef{}, false
}

// parseDepRef reads a depends_on entry written by a person, such as
// "ref('orders')", "ref(\"pkg\", \"orders\")", "ref('orders', v=2)" or
// "source('shop', 'payments')".
func parseDepRef(s string) (depRef, error) {
	text := strings.TrimSpace(s)
	text = strings.TrimPrefix(text, "{{")
	text = strings.TrimSuffix(text, "}}")
	text = strings.TrimSpace(text)

	fn, rest, ok := strings.Cut(text, "(")
	fn = strings.TrimSpace(fn)
	if !ok || !strings.HasSuffix(rest, ")") || (fn != "ref" && fn != "source") {
		return depRef{}, fmt.Errorf("invalid depends_on entry %q: write ref('model'), ref('package', 'model') or source('source', 'table')", s)
	}
	args, err := splitArgs(strings.TrimSuffix(rest, ")"))
	if err != nil {
		return depRef{}, fmt.Errorf("invalid depends_on entry %q: %v", s, err)
	}

	var positional []string
	version := ""
	for _, a := range args {
		if a.key == "" {
			positional = append(positional, a.value)
			continue
		}
		if fn == "ref" && (a.key == "v" || a.key == "version") {
			version = a.value
			continue
		}
		return depRef{}, fmt.Errorf("invalid depends_on entry %q: unknown argument %s", s, a.key)
	}

	if fn == "source" {
		if len(positional) != 2 {
			return depRef{}, fmt.Errorf("invalid depends_on entry %q: source() takes the source name and the table name", s)
		}
		return depRef{Source: true, SourceName: positional[0], Name: positional[1]}, nil
	}
	switch len(positional) {
	case 1:
		return depRef{Name: positional[0], Version: version}, nil
	case 2:
		return depRef{Package: positional[0], Name: positional[1], Version: version}, nil
	}
	return depRef{}, fmt.Errorf("invalid depends_on entry %q: ref() takes a model name, optionally after a package name", s)
}

type callArg struct{ key, value string }

// splitArgs splits "'a', \"b\", v=2" into its arguments. Values are quoted
// strings or, for keyword arguments, bare numbers.
func splitArgs(s string) ([]callArg, error) {
	var args []callArg
	i := 0
	skipSpace := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
	}
	for {
		skipSpace()
		if i >= len(s) {
			break
		}
		var a callArg
		// A keyword argument: name=value.
		if j := strings.IndexAny(s[i:], "='\","); j > 0 && s[i+j] == '=' {
			a.key = strings.TrimSpace(s[i : i+j])
			i += j + 1
			skipSpace()
		}
		if i >= len(s) {
			return nil, fmt.Errorf("missing value")
		}
		switch q := s[i]; q {
		case '\'', '"':
			var b strings.Builder
			i++
			closed := false
			for i < len(s) {
				c := s[i]
				if c == '\\' && i+1 < len(s) {
					b.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if c == q {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return nil, fmt.Errorf("unclosed quote")
			}
			a.value = b.String()
		default:
			j := strings.IndexByte(s[i:], ',')
			if j < 0 {
				j = len(s) - i
			}
			a.value = strings.TrimSpace(s[i : i+j])
			i += j
			if a.key == "" {
				return nil, fmt.Errorf("names must be quoted, as in ref('orders')")
			}
		}
		if a.value == "" {
			return nil, fmt.Errorf("empty argument")
		}
		args = append(args, a)
		skipSpace()
		if i < len(s) {
			if s[i] != ',' {
				return nil, fmt.Errorf("expected a comma between arguments")
			}
			i++
		}
	}
	return args, nil
}
