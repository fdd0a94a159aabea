package exposures

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// CurationFormatVersion is the only curation file version we read.
const CurationFormatVersion = 1

// Curation is the user's curation file: which workbooks get an exposure, the
// defaults, and per-workbook overrides. The zero value selects every
// workbook and overrides nothing. docs/exposures.md documents the format.
type Curation struct {
	// Path is the file it was read from, for error messages.
	Path string

	Defaults Defaults
	Include  Selector
	Exclude  Selector
	// Workbooks holds the per-workbook overrides, keyed by workbook LUID.
	Workbooks map[string]Override
}

// Defaults apply to every generated exposure unless an override sets the
// same field.
type Defaults struct {
	Maturity string
	// Owner replaces a workbook owner that Tableau did not report.
	Owner Owner
}

// Owner is an exposure owner.
type Owner struct {
	Name  string
	Email string
}

// Selector matches workbooks by LUID, name pattern, project or collection.
// An empty selector matches nothing.
type Selector struct {
	WorkbookLUIDs []string
	// NamePatterns are globs over the workbook name: "*" any text, "?" one
	// character, compared case-insensitively.
	NamePatterns []string
	Projects     []string
	// Collections holds collection names or LUIDs.
	Collections []string

	// patterns caches NamePatterns compiled, in the same order.
	patterns []*regexp.Regexp
	// lines holds the curation file line of each rule, by rule kind, in the
	// order of the lists above. A selector built in code has none.
	lines map[string][]int
}

// Override changes one workbook's exposure. Empty fields change nothing.
type Override struct {
	Line        int // line of the entry in the curation file
	Name        string
	Label       string
	Maturity    string
	Owner       Owner
	Description string
	// DependsOn holds extra dependencies that lineage cannot see, such as
	// "ref('orders')" or "source('shop', 'payments')".
	DependsOn []DependsOnEntry
}

// DependsOnEntry is one extra dependency from the curation file.
type DependsOnEntry struct {
	Line int
	Ref  depRef
}

var maturities = []string{"high", "medium", "low"}

// LoadCuration reads and checks a curation file. An error names the file
// and line and the change to make.
func LoadCuration(path string) (*Curation, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading curation file: %w", err)
	}
	c, err := ParseCuration(data)
	if err != nil {
		return nil, fmt.Errorf("curation file %s: %w", path, err)
	}
	c.Path = path
	return c, nil
}

// ParseCuration reads a curation file's content.
func ParseCuration(data []byte) (*Curation, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Curation{}, nil
		}
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	// A second document would be ignored without a word, and what it sets
	// would be lost.
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, lineErr(&next, "a second YAML document starts here: keep the whole curation in one document, without a --- line")
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if root.Kind == yaml.ScalarNode && root.Tag == "!!null" {
		return &Curation{}, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, lineErr(root, "expected a mapping with version, defaults, include, exclude and workbooks")
	}

	c := &Curation{}
	sawVersion := false
	err := eachKey(root, []string{"version", "defaults", "include", "exclude", "workbooks"}, func(key string, v *yaml.Node) error {
		switch key {
		case "version":
			sawVersion = true
			if v.Kind != yaml.ScalarNode || v.Value != fmt.Sprint(CurationFormatVersion) {
				return lineErr(v, "version must be %d, found %q", CurationFormatVersion, v.Value)
			}
		case "defaults":
			return parseDefaults(v, &c.Defaults)
		case "include":
			return parseSelector(v, &c.Include)
		case "exclude":
			return parseSelector(v, &c.Exclude)
		case "workbooks":
			return parseOverrides(v, c)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if !sawVersion {
		return nil, lineErr(root, "missing \"version: %d\" at the top", CurationFormatVersion)
	}
	return c, nil
}

func parseDefaults(n *yaml.Node, d *Defaults) error {
	return eachKey(n, []string{"maturity", "owner"}, func(key string, v *yaml.Node) error {
		switch key {
		case "maturity":
			m, err := parseMaturity(v)
			d.Maturity = m
			return err
		case "owner":
			return parseOwner(v, &d.Owner)
		}
		return nil
	})
}

func parseSelector(n *yaml.Node, s *Selector) error {
	return eachKey(n, []string{"workbooks", "names", "projects", "collections"}, func(key string, v *yaml.Node) error {
		list, err := stringList(v)
		if err != nil {
			return err
		}
		if s.lines == nil {
			s.lines = make(map[string][]int)
		}
		for _, item := range deref(v).Content {
			s.lines[ruleKinds[key]] = append(s.lines[ruleKinds[key]], item.Line)
		}
		switch key {
		case "workbooks":
			s.WorkbookLUIDs = list
		case "names":
			for i, p := range list {
				re, err := globRegexp(p)
				if err != nil {
					return lineErr(v.Content[i], "invalid name pattern %q: %v", p, err)
				}
				s.patterns = append(s.patterns, re)
			}
			s.NamePatterns = list
		case "projects":
			s.Projects = list
		case "collections":
			s.Collections = list
		}
		return nil
	})
}

func parseOverrides(n *yaml.Node, c *Curation) error {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return lineErr(n, "workbooks must be a list of entries, each with a luid")
	}
	c.Workbooks = make(map[string]Override, len(n.Content))
	for _, item := range n.Content {
		o := Override{Line: item.Line}
		luid := ""
		err := eachKey(item, []string{"luid", "name", "label", "maturity", "owner", "description", "depends_on"}, func(key string, v *yaml.Node) error {
			var err error
			switch key {
			case "luid":
				luid, err = scalar(v)
			case "name":
				o.Name, err = scalar(v)
				if err == nil && !validName.MatchString(o.Name) {
					err = lineErr(v, "invalid exposure name %q: use letters, digits and underscores, not starting with a digit", o.Name)
				}
			case "label":
				o.Label, err = scalar(v)
			case "maturity":
				o.Maturity, err = parseMaturity(v)
			case "owner":
				err = parseOwner(v, &o.Owner)
			case "description":
				o.Description, err = scalar(v)
			case "depends_on":
				err = parseDependsOn(v, &o)
			}
			return err
		})
		if err != nil {
			return err
		}
		if luid == "" {
			return lineErr(item, "workbook entry without a luid: add the workbook's Tableau LUID")
		}
		if prev, dup := c.override(luid); dup {
			return lineErr(item, "workbook %s is already configured at line %d: merge the two entries", luid, prev.Line)
		}
		c.Workbooks[luid] = o
	}
	return nil
}

func parseDependsOn(n *yaml.Node, o *Override) error {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return lineErr(n, "depends_on must be a list such as [\"ref('orders')\"]")
	}
	for _, item := range n.Content {
		s, err := scalar(item)
		if err != nil {
			return err
		}
		ref, err := parseDepRef(s)
		if err != nil {
			return lineErr(item, "%v", err)
		}
		o.DependsOn = append(o.DependsOn, DependsOnEntry{Line: item.Line, Ref: ref})
	}
	return nil
}

func parseMaturity(v *yaml.Node) (string, error) {
	s, err := scalar(v)
	if err != nil {
		return "", err
	}
	if !slices.Contains(maturities, s) {
		return "", lineErr(v, "invalid maturity %q: use high, medium or low", s)
	}
	return s, nil
}

func parseOwner(n *yaml.Node, o *Owner) error {
	err := eachKey(n, []string{"name", "email"}, func(key string, v *yaml.Node) error {
		s, err := scalar(v)
		if key == "name" {
			o.Name = s
		} else {
			o.Email = s
		}
		return err
	})
	if err != nil {
		return err
	}
	if o.Name == "" && o.Email == "" {
		return lineErr(n, "owner needs a name or an email")
	}
	return nil
}

// eachKey calls fn for each key of a mapping node, rejecting keys not in
// allowed and keys given twice.
func eachKey(n *yaml.Node, allowed []string, fn func(key string, v *yaml.Node) error) error {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		return lineErr(n, "expected a mapping with keys %s", strings.Join(allowed, ", "))
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if !slices.Contains(allowed, k.Value) {
			return lineErr(k, "unknown key %q: expected one of %s", k.Value, strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			return lineErr(k, "key %q is given twice", k.Value)
		}
		seen[k.Value] = true
		if err := fn(k.Value, v); err != nil {
			return err
		}
	}
	return nil
}

func scalar(n *yaml.Node) (string, error) {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		return "", lineErr(n, "expected a single value, found a list or mapping")
	}
	return n.Value, nil
}

func stringList(n *yaml.Node) ([]string, error) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		return nil, lineErr(n, "expected a list")
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		s, err := scalar(item)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// deref follows a YAML alias (*name) to the node its anchor (&name) marks,
// so that anchors work anywhere in the curation file.
func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func lineErr(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("line %d: %s", n.Line, fmt.Sprintf(format, args...))
}

// globRegexp compiles a workbook name pattern into a case-insensitive,
// anchored regular expression.
func globRegexp(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		return nil, errors.New("empty pattern")
	}
	var b strings.Builder
	b.WriteString("(?is)^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}

// ruleKinds maps the keys of a selector in the curation file to the rule
// kinds that reports and warnings name.
var ruleKinds = map[string]string{
	"workbooks":   "workbook",
	"names":       "name pattern",
	"projects":    "project",
	"collections": "collection",
}

// selectorRule is one rule of a selector.
type selectorRule struct {
	kind  string // a value of ruleKinds
	value string
	line  int // 0 when not read from a file
	// pattern is the compiled name pattern; nil for other kinds, or when
	// the pattern does not compile.
	pattern *regexp.Regexp
}

// rules lists the selector's rules: workbooks, name patterns, projects,
// then collections, each in file order.
func (s Selector) rules() []selectorRule {
	var out []selectorRule
	add := func(key string, values []string, patternAt func(int) *regexp.Regexp) {
		kind := ruleKinds[key]
		for i, v := range values {
			r := selectorRule{kind: kind, value: v}
			if lines := s.lines[kind]; i < len(lines) {
				r.line = lines[i]
			}
			if patternAt != nil {
				r.pattern = patternAt(i)
			}
			out = append(out, r)
		}
	}
	add("workbooks", s.WorkbookLUIDs, nil)
	add("names", s.NamePatterns, func(i int) *regexp.Regexp {
		if i < len(s.patterns) {
			return s.patterns[i]
		}
		// A Selector built in code rather than parsed has no cache.
		re, err := globRegexp(s.NamePatterns[i])
		if err != nil {
			return nil
		}
		return re
	})
	add("projects", s.Projects, nil)
	add("collections", s.Collections, nil)
	return out
}

// matches reports whether the rule matches a workbook. LUIDs, projects and
// collection names compare without case. collectionNames maps lower-case
// collection LUIDs to names.
func (r selectorRule) matches(wb tableau.Workbook, collectionNames map[string]string) bool {
	switch r.kind {
	case "workbook":
		return strings.EqualFold(r.value, wb.LUID)
	case "name pattern":
		return r.pattern != nil && r.pattern.MatchString(wb.Name)
	case "project":
		return strings.EqualFold(r.value, wb.ProjectName)
	case "collection":
		for _, luid := range wb.Collections {
			if strings.EqualFold(r.value, luid) {
				return true
			}
			if name := collectionNames[strings.ToLower(luid)]; name != "" && strings.EqualFold(r.value, name) {
				return true
			}
		}
	}
	return false
}

// selects reports whether the selector matches a workbook, and which rule
// matched. collectionNames maps lower-case collection LUIDs to names.
func (s Selector) selects(wb tableau.Workbook, collectionNames map[string]string) (string, bool) {
	for _, r := range s.rules() {
		if r.matches(wb, collectionNames) {
			return r.kind + " " + r.value, true
		}
	}
	return "", false
}

// unmatchedRules warns about include and exclude rules that match no
// workbook of the snapshot. Those are usually typos, and an include rule
// with a typo silently leaves its workbooks out.
func (c *Curation) unmatchedRules(workbooks []tableau.Workbook, collectionNames map[string]string) []string {
	if c == nil {
		return nil
	}
	var warnings []string
	for _, side := range []struct {
		name     string
		selector Selector
	}{{"include", c.Include}, {"exclude", c.Exclude}} {
		rules := side.selector.rules()
		slices.SortStableFunc(rules, func(a, b selectorRule) int { return a.line - b.line })
		for _, r := range rules {
			if slices.ContainsFunc(workbooks, func(wb tableau.Workbook) bool { return r.matches(wb, collectionNames) }) {
				continue
			}
			where := ""
			if r.line > 0 {
				where = fmt.Sprintf(" (line %d)", r.line)
			}
			warnings = append(warnings, fmt.Sprintf("curation %s rule %s %q%s matches no workbook in the Tableau snapshot: check the spelling",
				side.name, r.kind, r.value, where))
		}
	}
	return warnings
}

// override returns the override for a workbook. LUIDs compare without
// case, because people paste them from URLs and logs in either case.
func (c *Curation) override(luid string) (Override, bool) {
	if c == nil {
		return Override{}, false
	}
	if o, ok := c.Workbooks[luid]; ok {
		return o, true
	}
	for key, o := range c.Workbooks {
		if strings.EqualFold(key, luid) {
			return o, true
		}
	}
	return Override{}, false
}

// isEmpty reports whether the selector has no rules.
func (s Selector) isEmpty() bool {
	return len(s.WorkbookLUIDs) == 0 && len(s.NamePatterns) == 0 && len(s.Projects) == 0 && len(s.Collections) == 0
}

// excludedBy returns why curation leaves a workbook out, or "" when it keeps
// it. With include rules, only workbooks they match are kept; exclude rules
// then remove workbooks.
func (c *Curation) excludedBy(wb tableau.Workbook, collectionNames map[string]string) string {
	if c == nil {
		return ""
	}
	if !c.Include.isEmpty() {
		if _, ok := c.Include.selects(wb, collectionNames); !ok {
			return "not matched by any include rule"
		}
	}
	if rule, ok := c.Exclude.selects(wb, collectionNames); ok {
		return "excluded by " + rule
	}
	return ""
}
