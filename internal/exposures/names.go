package exposures

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// maxBaseNameLength caps the part of a name taken from the workbook name, so
// that a very long workbook name still gives a usable exposure name. It
// leaves room for a LUID suffix.
const maxBaseNameLength = 64

// validName matches the exposure names we write, which dbt accepts: ASCII
// letters, digits and underscores, not starting with a digit.
var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// letterSpellings holds letters that Unicode decomposition leaves alone
// because they are letters of their own, not a base letter with a mark.
var letterSpellings = map[rune]string{
	'ß': "ss", 'ẞ': "SS",
	'æ': "ae", 'Æ': "AE",
	'œ': "oe", 'Œ': "OE",
	'ø': "o", 'Ø': "O",
	'ł': "l", 'Ł': "L",
	'đ': "d", 'Đ': "D",
	'ð': "d", 'Ð': "D",
	'þ': "th", 'Þ': "TH",
	'ı': "i", 'ħ': "h", 'Ħ': "H",
	'ŋ': "ng", 'Ŋ': "NG",
}

// transliterate spells text in ASCII where a Latin reading exists: NFKD
// splits "é" into "e" and a combining mark, the marks are dropped, and
// letterSpellings covers letters without a decomposition. Other characters
// are kept and later replaced by underscores.
func transliterate(s string) string {
	var b strings.Builder
	for _, r := range s {
		if spelled, ok := letterSpellings[r]; ok {
			b.WriteString(spelled)
			continue
		}
		b.WriteRune(r)
	}
	t := transform.Chain(norm.NFKD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, err := transform.String(t, b.String())
	if err != nil {
		// The transformers above do not fail on valid or invalid UTF-8;
		// keep the input rather than lose the name.
		return b.String()
	}
	return out
}

// baseName derives an exposure name from a workbook name: transliterated,
// lower-case, runs of anything but letters and digits folded into one
// underscore. A name left empty (emoji only, or a script without a Latin
// reading) becomes "workbook_" and the LUID's first characters. A name that
// starts with a digit gets a "workbook_" prefix.
func baseName(workbookName, luid string) string {
	ascii := strings.ToLower(transliterate(workbookName))

	var b strings.Builder
	pendingUnderscore := false
	for _, r := range ascii {
		isWordChar := (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9')
		if !isWordChar {
			pendingUnderscore = b.Len() > 0
			continue
		}
		if pendingUnderscore {
			b.WriteByte('_')
			pendingUnderscore = false
		}
		b.WriteRune(r)
	}
	name := b.String()

	if len(name) > maxBaseNameLength {
		name = strings.TrimRight(name[:maxBaseNameLength], "_")
	}
	if name == "" {
		return "workbook_" + luidSuffix(luid, 8)
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "workbook_" + name
	}
	return name
}

// luidSuffix returns the first n hexadecimal digits of a LUID, lower-case,
// without dashes; all of them when n is larger.
func luidSuffix(luid string, n int) string {
	var b strings.Builder
	for _, r := range strings.ToLower(luid) {
		if (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') {
			b.WriteRune(r)
		}
	}
	s := b.String()
	if len(s) > n {
		s = s[:n]
	}
	return s
}

// nameRequest is one workbook that needs an exposure name.
type nameRequest struct {
	WorkbookLUID  string
	WorkbookName  string
	FixedName     string // a name set in the curation file, used as is
	FixedNameLine int
}

// assignNames gives each workbook an exposure name, keyed by workbook LUID.
// Names fixed by curation are kept and must not clash with each other or
// with reserved names (hand-written exposures). Derived names that clash
// with each other, with a fixed name or with a reserved name all get a
// suffix from their own LUID, lengthened until every name in the group is
// distinct. The result depends only on the set of requests, not their order.
func assignNames(reqs []nameRequest, reserved map[string]bool) (map[string]string, error) {
	names := make(map[string]string, len(reqs))
	usedBy := make(map[string]string) // name -> workbook LUID, or "" for reserved
	for name := range reserved {
		usedBy[name] = ""
	}

	// Fixed names first, in LUID order so that the error is the same
	// whatever the input order.
	sorted := slices.Clone(reqs)
	slices.SortFunc(sorted, func(a, b nameRequest) int { return strings.Compare(a.WorkbookLUID, b.WorkbookLUID) })
	for _, r := range sorted {
		if r.FixedName == "" {
			continue
		}
		if other, ok := usedBy[r.FixedName]; ok {
			if other == "" {
				return nil, fmt.Errorf("curation line %d: name %q for workbook %s is already used by a hand-written exposure: choose another name",
					r.FixedNameLine, r.FixedName, r.WorkbookLUID)
			}
			return nil, fmt.Errorf("curation line %d: name %q for workbook %s is also set for workbook %s: choose another name",
				r.FixedNameLine, r.FixedName, r.WorkbookLUID, other)
		}
		usedBy[r.FixedName] = r.WorkbookLUID
		names[r.WorkbookLUID] = r.FixedName
	}

	// Group the derived names by base.
	groups := make(map[string][]string)
	for _, r := range sorted {
		if r.FixedName != "" {
			continue
		}
		base := baseName(r.WorkbookName, r.WorkbookLUID)
		groups[base] = append(groups[base], r.WorkbookLUID)
	}
	bases := make([]string, 0, len(groups))
	for base := range groups {
		bases = append(bases, base)
	}
	slices.Sort(bases)

	// Unclashed bases are settled first so that a suffixed name can be
	// checked against every plain name.
	for _, base := range bases {
		luids := groups[base]
		if _, clash := usedBy[base]; clash || len(luids) > 1 {
			continue
		}
		usedBy[base] = luids[0]
		names[luids[0]] = base
	}
	for _, base := range bases {
		luids := groups[base]
		if _, done := names[luids[0]]; done && len(luids) == 1 {
			continue
		}
		if err := assignSuffixed(base, luids, usedBy, names); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// assignSuffixed names every workbook of a clashing group base_<suffix>,
// where the suffix is the shortest prefix of 8 or more LUID digits that
// makes all names in the group distinct and unused.
func assignSuffixed(base string, luids []string, usedBy, names map[string]string) error {
	for n := 8; ; n += 4 {
		candidate := make(map[string]string, len(luids))
		ok := true
		for _, luid := range luids {
			name := base + "_" + luidSuffix(luid, n)
			if _, used := usedBy[name]; used {
				ok = false
				break
			}
			if _, dup := candidate[name]; dup {
				ok = false
				break
			}
			candidate[name] = luid
		}
		if ok {
			for name, luid := range candidate {
				usedBy[name] = luid
				names[luid] = name
			}
			return nil
		}
		if n > 64 {
			return fmt.Errorf("naming workbooks %s: no distinct name found from %q and their LUIDs: set a name for them in the curation file",
				strings.Join(luids, ", "), base)
		}
	}
}
