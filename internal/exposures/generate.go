package exposures

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

// DefaultMaturity is the maturity of a generated exposure when neither the
// input nor the curation file sets one.
const DefaultMaturity = "medium"

// DefaultFilePath is the assumed path of the exposures file in the dbt
// project when Input.FilePath is empty. It only shows in the enriched
// manifest's path fields.
const DefaultFilePath = "models/autoexposures.yml"

// Generator names the program in the header of the YAML file and in the
// meta of each exposure.
const Generator = "autoexposures"

// Tags are the tags of every generated exposure.
var Tags = []string{"autoexposures", "tableau"}

// Input is the set of inputs that Generate builds exposures from.
type Input struct {
	Manifest *dbt.Manifest
	Snapshot *tableau.Snapshot
	// Curation may be nil: every workbook, no overrides.
	Curation *Curation
	// Previous is the YAML file written last time, for the added, changed
	// and removed lists of the report. It may be nil.
	Previous []byte
	// RunResults, when set, adds the extracts made stale by that dbt run to
	// the report.
	RunResults *dbt.RunResults
	// DefaultMaturity overrides DefaultMaturity; the curation file's
	// defaults override both.
	DefaultMaturity string
	// FilePath is the exposures file's path inside the dbt project, for the
	// enriched manifest. Empty means DefaultFilePath.
	FilePath string
}

// Output is the result of Generate.
type Output struct {
	// YAML is the exposures file content.
	YAML   []byte
	Report Report
	// Lineage is the lineage the exposures were built from.
	Lineage *lineage.Result
	// Exposures are the generated exposures, sorted by name.
	Exposures []Exposure

	manifest *dbt.Manifest
	filePath string
}

// Exposure is one generated exposure.
type Exposure struct {
	Name        string
	Label       string
	Maturity    string
	URL         string
	Description string
	Owner       Owner
	// DependsOn holds the rendered depends_on entries, sorted.
	DependsOn []string
	// NodeIDs holds the unique IDs of what it depends on, sorted.
	NodeIDs []string

	WorkbookLUID string
	Project      string
	// Collections holds the names of the collections that hold the
	// workbook, sorted.
	Collections []string

	refs []depRef
}

// build turns a lineage result into exposures. It does not modify the
// manifest, the snapshot or the result.
func build(in Input, res *lineage.Result) (*Output, error) {
	if in.Manifest == nil {
		return nil, errors.New("generating exposures: no manifest given")
	}
	if in.Snapshot == nil {
		return nil, errors.New("generating exposures: no Tableau snapshot given")
	}
	if res == nil {
		res = &lineage.Result{}
	}
	m, snap := in.Manifest, in.Snapshot
	idx := newManifestIndex(m)

	// Collection and workbook LUIDs compare without case, so the maps
	// below are keyed by lower-case LUIDs.
	collectionNames := make(map[string]string, len(snap.Collections))
	for _, c := range snap.Collections {
		collectionNames[strings.ToLower(c.LUID)] = c.Name
	}
	lineageByLUID := make(map[string]lineage.WorkbookLineage, len(res.Workbooks))
	for _, wl := range res.Workbooks {
		lineageByLUID[wl.WorkbookLUID] = wl
	}

	// A workbook's collections are listed on the workbook, on the
	// collection, or both; the union counts.
	collectionsOf := make(map[string][]string)
	for _, c := range snap.Collections {
		for _, luid := range c.WorkbookLUIDs {
			key := strings.ToLower(luid)
			collectionsOf[key] = append(collectionsOf[key], c.LUID)
		}
	}
	workbooks := slices.Clone(snap.Workbooks)
	for i := range workbooks {
		wb := &workbooks[i]
		all := append(slices.Clone(wb.Collections), collectionsOf[strings.ToLower(wb.LUID)]...)
		slices.SortFunc(all, func(a, b string) int {
			return cmp.Or(cmp.Compare(strings.ToLower(a), strings.ToLower(b)), cmp.Compare(a, b))
		})
		wb.Collections = slices.CompactFunc(all, strings.EqualFold)
	}
	slices.SortFunc(workbooks, func(a, b tableau.Workbook) int { return cmp.Compare(a.LUID, b.LUID) })

	report := newReport()
	maturity := cmp.Or(curationDefaults(in.Curation).Maturity, in.DefaultMaturity, DefaultMaturity)
	if !slices.Contains(maturities, maturity) {
		return nil, fmt.Errorf("generating exposures: invalid default maturity %q: use high, medium or low", maturity)
	}

	// Decide which workbooks get an exposure.
	type candidate struct {
		wb       tableau.Workbook
		override Override
		refs     []depRef
		nodeIDs  []string
	}
	var candidates []candidate
	for i, wb := range workbooks {
		if i > 0 && wb.LUID == workbooks[i-1].LUID {
			return nil, fmt.Errorf("generating exposures: workbook %s appears twice in the snapshot", wb.LUID)
		}
		if reason := in.Curation.excludedBy(wb, collectionNames); reason != "" {
			report.skip(wb, SkipCurated, reason)
			continue
		}
		if id, ok := idx.handWritten(wb); ok {
			report.skip(wb, SkipHandWritten, "the manifest has "+id+" for this workbook")
			continue
		}

		override, _ := in.Curation.override(wb.LUID)
		refs, nodeIDs, warnings, err := idx.dependencies(wb.LUID, lineageByLUID[wb.LUID].DependsOn, override, in.Curation)
		if err != nil {
			return nil, err
		}
		report.Warnings = append(report.Warnings, warnings...)
		if len(refs) == 0 {
			detail := "no upstream table matched a dbt model, seed, snapshot or source"
			if len(warnings) > 0 {
				detail = "its upstream tables match only sources that depends_on cannot name: see the warnings"
			}
			report.skip(wb, SkipNoDependencies, detail)
			continue
		}
		candidates = append(candidates, candidate{wb: wb, override: override, refs: refs, nodeIDs: nodeIDs})
	}

	reqs := make([]nameRequest, len(candidates))
	for i, c := range candidates {
		reqs[i] = nameRequest{WorkbookLUID: c.wb.LUID, WorkbookName: c.wb.Name, FixedName: c.override.Name, FixedNameLine: c.override.Line}
	}
	names, err := assignNames(reqs, idx.reservedNames)
	if err != nil {
		return nil, fmt.Errorf("generating exposures: %w", err)
	}

	exposures := make([]Exposure, 0, len(candidates))
	for _, c := range candidates {
		exposures = append(exposures, newExposure(c.wb, names[c.wb.LUID], c.override, in.Curation, maturity, collectionNames, c.refs, c.nodeIDs))
	}
	slices.SortFunc(exposures, func(a, b Exposure) int { return cmp.Compare(a.Name, b.Name) })

	configForm := metaUnderConfig(m.DbtVersion)
	data, err := renderFile(exposures, configForm)
	if err != nil {
		return nil, fmt.Errorf("generating exposures: %w", err)
	}

	report.fill(exposures, res, in.Previous, configForm)
	report.Warnings = append(report.Warnings, in.Curation.unmatchedRules(workbooks, collectionNames)...)
	report.Warnings = append(report.Warnings, unusedOverrides(in.Curation, workbooks)...)
	switch {
	case len(workbooks) == 0:
		report.Warnings = append(report.Warnings, "no exposures: the Tableau snapshot has no workbooks")
	case len(exposures) == 0:
		report.Warnings = append(report.Warnings, "no exposures: every workbook of the Tableau snapshot was skipped (see skipped in the report)")
	}

	return &Output{
		YAML:      data,
		Report:    *report,
		Lineage:   res,
		Exposures: exposures,
		manifest:  m,
		filePath:  cmp.Or(in.FilePath, DefaultFilePath),
	}, nil
}

// unusedOverrides warns about curation entries for workbooks that are not in
// the snapshot, which usually means a mistyped or outdated LUID.
func unusedOverrides(c *Curation, workbooks []tableau.Workbook) []string {
	if c == nil || len(c.Workbooks) == 0 {
		return nil
	}
	present := make(map[string]bool, len(workbooks))
	for _, wb := range workbooks {
		present[strings.ToLower(wb.LUID)] = true
	}
	var unused []Override
	var luids []string
	for luid, o := range c.Workbooks {
		if !present[strings.ToLower(luid)] {
			unused = append(unused, o)
			luids = append(luids, luid)
		}
	}
	order := make([]int, len(unused))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(unused[a].Line, unused[b].Line), cmp.Compare(luids[a], luids[b]))
	})
	warnings := make([]string, 0, len(order))
	for _, i := range order {
		warnings = append(warnings, fmt.Sprintf("curation entry at line %d names workbook %s, which is not in the Tableau snapshot: check the LUID", unused[i].Line, luids[i]))
	}
	return warnings
}

func curationDefaults(c *Curation) Defaults {
	if c == nil {
		return Defaults{}
	}
	return c.Defaults
}

func newExposure(wb tableau.Workbook, name string, o Override, c *Curation, maturity string,
	collectionNames map[string]string, refs []depRef, nodeIDs []string) Exposure {
	var collections []string
	for _, luid := range wb.Collections {
		collections = append(collections, cmp.Or(collectionNames[strings.ToLower(luid)], luid))
	}
	slices.Sort(collections)
	collections = slices.Compact(collections)

	// Dashboards are sorted here too, because the snapshot may not be
	// normalized.
	sorted := wb
	sorted.Dashboards = slices.Clone(wb.Dashboards)
	slices.SortFunc(sorted.Dashboards, func(a, b tableau.Dashboard) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})

	owner := Owner{Name: cmp.Or(wb.Owner.Name, wb.Owner.Username), Email: wb.Owner.Email}
	if owner.Name == "" && owner.Email == "" {
		owner = curationDefaults(c).Owner
	}
	if o.Owner != (Owner{}) {
		owner = o.Owner
	}
	if owner.Name == "" && owner.Email == "" {
		// dbt requires a name or an email.
		owner.Name = "unknown"
	}

	deps := make([]string, len(refs))
	for i, r := range refs {
		deps[i] = r.String()
	}

	return Exposure{
		Name:         name,
		Label:        cmp.Or(o.Label, wb.Name),
		Maturity:     cmp.Or(o.Maturity, maturity),
		URL:          wb.WebURL,
		Description:  cmp.Or(o.Description, describeWorkbook(sorted, collections)),
		Owner:        owner,
		DependsOn:    deps,
		NodeIDs:      nodeIDs,
		WorkbookLUID: wb.LUID,
		Project:      wb.ProjectName,
		Collections:  collections,
		refs:         refs,
	}
}

// manifestIndex looks up the manifest's nodes, sources and exposures.
type manifestIndex struct {
	m       *dbt.Manifest
	nodes   map[string]dbt.Node
	sources map[string]dbt.Source
	// refNodes maps "package.name" and "name" (root project, or any package
	// where the name is unique) to unique IDs; versions are handled apart.
	refNodes map[string][]string
	// sourcesByName maps sourceKey(source name, table name) to the unique
	// IDs of the sources with those names, in every package.
	sourcesByName map[string][]string
	// handWrittenByURL and handWrittenByLUID find exposures a person wrote.
	handWrittenByURL  map[string]string
	handWrittenByLUID map[string]string
	reservedNames     map[string]bool
}

func newManifestIndex(m *dbt.Manifest) *manifestIndex {
	idx := &manifestIndex{
		m:                 m,
		nodes:             make(map[string]dbt.Node, len(m.Nodes)),
		sources:           make(map[string]dbt.Source, len(m.Sources)),
		refNodes:          make(map[string][]string),
		sourcesByName:     make(map[string][]string),
		handWrittenByURL:  make(map[string]string),
		handWrittenByLUID: make(map[string]string),
		reservedNames:     make(map[string]bool),
	}
	for _, n := range m.Nodes {
		if prev, ok := idx.nodes[n.UniqueID]; ok {
			// A disabled copy of an enabled node never replaces it.
			if prev.Enabled || !n.Enabled {
				continue
			}
		} else {
			idx.refNodes[n.PackageName+"."+n.Name] = append(idx.refNodes[n.PackageName+"."+n.Name], n.UniqueID)
			idx.refNodes[n.Name] = append(idx.refNodes[n.Name], n.UniqueID)
		}
		idx.nodes[n.UniqueID] = n
	}
	for _, s := range m.Sources {
		if prev, ok := idx.sources[s.UniqueID]; ok {
			if prev.Enabled || !s.Enabled {
				continue
			}
		} else {
			key := sourceKey(s.SourceName, s.Name)
			idx.sourcesByName[key] = append(idx.sourcesByName[key], s.UniqueID)
		}
		idx.sources[s.UniqueID] = s
	}
	for _, e := range m.Exposures {
		if isGenerated(e.Meta) {
			continue
		}
		if e.PackageName == "" || e.PackageName == m.ProjectName {
			idx.reservedNames[e.Name] = true
		}
		if u := normalizeURL(e.URL); u != "" {
			idx.handWrittenByURL[u] = e.UniqueID
		}
		for _, s := range metaStrings(e.Meta) {
			idx.handWrittenByLUID[strings.ToLower(s)] = e.UniqueID
		}
	}
	return idx
}

// handWritten returns the hand-written exposure for a workbook: one with the
// same URL, or with the workbook's LUID as a value in its meta.
func (idx *manifestIndex) handWritten(wb tableau.Workbook) (string, bool) {
	if u := normalizeURL(wb.WebURL); u != "" {
		if id, ok := idx.handWrittenByURL[u]; ok {
			return id, true
		}
	}
	id, ok := idx.handWrittenByLUID[strings.ToLower(wb.LUID)]
	return id, ok && wb.LUID != ""
}

// dependencies turns lineage's unique IDs and curation's extra entries into
// sorted depends_on entries and unique IDs without duplicates. A package
// source that source() cannot address from the root project is left out,
// or kept when dbt may link it, with a warning either way.
func (idx *manifestIndex) dependencies(workbookLUID string, ids []string, o Override, c *Curation) ([]depRef, []string, []string, error) {
	byText := make(map[string]depRef)
	nodeIDs := make(map[string]bool)
	var warnings []string
	for _, id := range slices.Sorted(slices.Values(ids)) {
		ref, ok := depRefFor(idx.m, id, idx.nodes, idx.sources)
		if !ok {
			continue
		}
		if ref.Source {
			target, ambiguous := idx.sourceTarget(idx.enabledSources(id))
			switch {
			case target != "" && target != id:
				warnings = append(warnings, fmt.Sprintf("workbook %s reads %s, left out of depends_on: %s means %s of the root project to dbt, and depends_on has no way to name a package's source",
					workbookLUID, id, ref, target))
				continue
			case target == "":
				others := slices.DeleteFunc(ambiguous, func(other string) bool { return other == id })
				warnings = append(warnings, fmt.Sprintf("workbook %s reads %s, written as %s, which also fits %s: dbt links whichever it parsed first",
					workbookLUID, id, ref, strings.Join(others, ", ")))
			}
		}
		byText[ref.String()] = ref
		nodeIDs[id] = true
	}
	for _, extra := range o.DependsOn {
		id, err := idx.resolve(extra.Ref)
		if err != nil {
			where := "curation"
			if c != nil && c.Path != "" {
				where = "curation file " + c.Path
			}
			return nil, nil, nil, fmt.Errorf("%s line %d: %w", where, extra.Line, err)
		}
		ref, _ := depRefFor(idx.m, id, idx.nodes, idx.sources)
		byText[ref.String()] = ref
		nodeIDs[id] = true
	}

	texts := make([]string, 0, len(byText))
	for t := range byText {
		texts = append(texts, t)
	}
	slices.Sort(texts)
	refs := make([]depRef, len(texts))
	for i, t := range texts {
		refs[i] = byText[t]
	}
	sortedIDs := make([]string, 0, len(nodeIDs))
	for id := range nodeIDs {
		sortedIDs = append(sortedIDs, id)
	}
	slices.Sort(sortedIDs)
	return refs, sortedIDs, warnings, nil
}

// resolve finds the manifest entry a curated depends_on entry names, as dbt
// would: ref('name') looks in the root project first, then in any package
// where the name is unique, and only enabled nodes count. An entry that
// names only a disabled node is an error, because dbt rejects it too.
func (idx *manifestIndex) resolve(r depRef) (string, error) {
	if r.Source {
		return idx.resolveSource(r)
	}

	// lookup splits the nodes under a refNodes key into enabled and
	// disabled ones of the requested version.
	lookup := func(key string) (enabled, disabled []string) {
		for _, id := range idx.refNodes[key] {
			n := idx.nodes[id]
			if r.Version != "" && n.Version != r.Version {
				continue
			}
			if n.Enabled {
				enabled = append(enabled, id)
			} else {
				disabled = append(disabled, id)
			}
		}
		return enabled, disabled
	}
	var matched, disabled []string
	if r.Package != "" {
		matched, disabled = lookup(r.Package + "." + r.Name)
	} else {
		matched, disabled = lookup(idx.m.ProjectName + "." + r.Name)
		if len(matched) == 0 {
			var more []string
			matched, more = lookup(r.Name)
			disabled = append(disabled, more...)
		}
	}

	// Without a version, dbt resolves a versioned model to its latest
	// version. dbt.Node does not carry latest_version, so the highest
	// version number stands for it.
	// NOTE: a project whose latest_version is not its highest version gets
	// the wrong version here; write v= in the curation file for those.
	if r.Version == "" && len(matched) > 1 {
		allVersions := true
		for _, id := range matched {
			allVersions = allVersions && idx.nodes[id].Version != ""
		}
		if allVersions {
			slices.SortFunc(matched, func(a, b string) int {
				return compareVersions(idx.nodes[a].Version, idx.nodes[b].Version)
			})
			matched = matched[len(matched)-1:]
		}
	}
	switch len(matched) {
	case 0:
		if len(disabled) > 0 {
			slices.Sort(disabled)
			return "", fmt.Errorf("%s names %s, which is disabled: enable it in dbt or remove the entry",
				r, strings.Join(slices.Compact(disabled), ", "))
		}
		return "", fmt.Errorf("%s names no model, seed or snapshot in the manifest: check the name", r)
	case 1:
		return matched[0], nil
	}
	slices.Sort(matched)
	return "", fmt.Errorf("%s is ambiguous: it fits %s, so add the package name", r, strings.Join(matched, ", "))
}

// resolveSource finds the source a curated source() entry names. Only
// enabled sources count, and the root project's comes first, as in dbt.
// source() has no package argument, so names that several packages other
// than the root project define are an error.
func (idx *manifestIndex) resolveSource(r depRef) (string, error) {
	var enabled, disabled []string
	for _, id := range idx.sourcesByName[sourceKey(r.SourceName, r.Name)] {
		if idx.sources[id].Enabled {
			enabled = append(enabled, id)
		} else {
			disabled = append(disabled, id)
		}
	}
	if len(enabled) == 0 {
		if len(disabled) > 0 {
			slices.Sort(disabled)
			return "", fmt.Errorf("%s names %s, which is disabled: enable it in dbt or remove the entry", r, strings.Join(disabled, ", "))
		}
		return "", fmt.Errorf("%s names no source in the manifest: check the source and table names", r)
	}
	id, ambiguous := idx.sourceTarget(enabled)
	if id == "" {
		return "", fmt.Errorf("%s fits %s, sources of packages other than the root project that depends_on cannot tell apart: remove the entry",
			r, strings.Join(ambiguous, ", "))
	}
	return id, nil
}

// sourceTarget returns the source among enabled sources with the same
// source and table names that dbt resolves source() to from the root
// project: the root project's, else the only one. With several in other
// packages and none in the root project, it returns "" and them, sorted,
// because which one dbt takes depends on its parse order.
func (idx *manifestIndex) sourceTarget(enabled []string) (string, []string) {
	for _, id := range enabled {
		if idx.sources[id].PackageName == idx.m.ProjectName {
			return id, nil
		}
	}
	if len(enabled) == 1 {
		return enabled[0], nil
	}
	sorted := slices.Clone(enabled)
	slices.Sort(sorted)
	return "", sorted
}

// enabledSources returns the enabled sources named like the source id.
func (idx *manifestIndex) enabledSources(id string) []string {
	s := idx.sources[id]
	var enabled []string
	for _, other := range idx.sourcesByName[sourceKey(s.SourceName, s.Name)] {
		if idx.sources[other].Enabled {
			enabled = append(enabled, other)
		}
	}
	return enabled
}

func sourceKey(sourceName, tableName string) string {
	return sourceName + "\x00" + tableName
}

// normalizeURL lets URLs that differ only in the case of scheme and host or
// a trailing slash compare equal.
func normalizeURL(raw string) string {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return strings.TrimRight(raw, "/")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.Fragment = strings.TrimRight(u.Fragment, "/")
	return u.String()
}

// metaKey is the key under meta where a generated exposure records that it
// is generated, and from which workbook.
const metaKey = "autoexposures"

// isGenerated reports whether an exposure's meta carries our marker, which
// means an earlier run generated it and it is not hand-written.
func isGenerated(meta map[string]any) bool {
	m, ok := meta[metaKey].(map[string]any)
	if !ok {
		return false
	}
	generated, _ := m["generated"].(bool)
	return generated
}

// metaStrings returns every string value in a meta tree.
func metaStrings(v any) []string {
	switch t := v.(type) {
	case string:
		return []string{t}
	case map[string]any:
		var out []string
		for _, x := range t {
			out = append(out, metaStrings(x)...)
		}
		return out
	case []any:
		var out []string
		for _, x := range t {
			out = append(out, metaStrings(x)...)
		}
		return out
	}
	return nil
}

// compareVersions orders model versions numerically where both are numbers,
// as text otherwise.
func compareVersions(a, b string) int {
	x, errA := strconv.ParseFloat(a, 64)
	y, errB := strconv.ParseFloat(b, 64)
	if errA == nil && errB == nil {
		return cmp.Compare(x, y)
	}
	return strings.Compare(a, b)
}
