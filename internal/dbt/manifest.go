package dbt

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strconv"
)

// ReadManifestFile reads a dbt manifest.json, plain or gzip-compressed
// (detected from the content, not the file name).
func ReadManifestFile(path string) (*Manifest, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening manifest: %w", err)
	}
	defer f.Close()

	return ReadManifest(f, path)
}

// ReadManifest reads a dbt manifest of schema v4 to v12 from r, plain or
// gzip-compressed. name identifies the input in errors. It streams the
// input and keeps only what lineage needs, so memory stays a small
// fraction of the file size.
//
// Nodes and sources are returned in file order. dbt writes the disabled
// section after nodes and sources, so disabled ones come last. Each unique
// ID is in Nodes (or Sources) once: an enabled node wins over disabled
// copies of the same unique ID, and otherwise the first disabled copy
// does. The other copies go to DisabledVariants and DisabledSourceVariants.
// Errors about the content match ErrInvalidArtifact and are *ArtifactError
// values.
func ReadManifest(r io.Reader, name string) (*Manifest, error) {
	plain, err := decompress(r, name, expectedManifest)
	if err != nil {
		return nil, err
	}
	mr := &manifestReader{
		s:      newScanner(plain),
		name:   name,
		m:      &Manifest{},
		intern: map[string]string{},
	}
	if err := mr.read(); err != nil {
		return nil, artifactError(err, name, expectedManifest, mr.seen)
	}
	mr.inferProjectName()
	if mr.disabledCount > 0 {
		mr.m.Nodes, mr.m.DisabledVariants = splitVariants(mr.m.Nodes, func(n *Node) (string, bool) { return n.UniqueID, n.Enabled })
		mr.m.Sources, mr.m.DisabledSourceVariants = splitVariants(mr.m.Sources, func(s *Source) (string, bool) { return s.UniqueID, s.Enabled })
	}
	return mr.m, nil
}

// splitVariants keeps one element per unique ID in list, the enabled one if
// any and else the first, in their order, and returns the others apart.
// Only disabled elements can share a unique ID with another, because the
// nodes and sources sections are objects keyed by it, so only their IDs
// are tracked: a manifest has few of them.
func splitVariants[T any](list []T, key func(*T) (string, bool)) (kept, variants []T) {
	// winner maps the unique ID of each disabled element to the index of
	// the element kept for that ID.
	winner := map[string]int{}
	for i := range list {
		if id, enabled := key(&list[i]); !enabled {
			if _, seen := winner[id]; !seen {
				winner[id] = i
			}
		}
	}
	if len(winner) == 0 {
		return list, nil
	}
	repeated := false
	for i := range list {
		id, enabled := key(&list[i])
		j, tracked := winner[id]
		switch {
		case !tracked || j == i:
		case enabled:
			winner[id] = i
			repeated = true
		default:
			repeated = true
		}
	}
	if !repeated {
		return list, nil
	}

	kept = make([]T, 0, len(list))
	for i := range list {
		id, _ := key(&list[i])
		if j, tracked := winner[id]; !tracked || j == i {
			kept = append(kept, list[i])
		} else {
			variants = append(variants, list[i])
		}
	}
	return kept, variants
}

type manifestReader struct {
	s    *scanner
	name string
	m    *Manifest

	// seen describes the file once its metadata is read, for errors.
	seen        string
	hasMetadata bool
	schemaURL   string
	projectID   string
	topKeys     map[string]bool

	intern  map[string]string
	scratch nodeScratch
	// disabledCount counts the nodes and sources read from the disabled
	// section. Only those can repeat a unique ID.
	disabledCount int
}

func (mr *manifestReader) read() error {
	s := mr.s
	if err := s.checkStart(mr.name, expectedManifest); err != nil {
		return err
	}

	mr.topKeys = map[string]bool{}
	err := s.object(func(key []byte) error {
		// Nested objects reuse the key buffer, so keep the section name.
		section := string(key)
		var err error
		switch section {
		case "metadata":
			err = mr.metadata()
		case "nodes":
			err = mr.nodes(false)
		case "sources":
			err = mr.nodes(false)
		case "disabled":
			err = mr.disabled()
		case "exposures":
			err = mr.exposures()
		default:
			if len(mr.topKeys) < 64 {
				mr.topKeys[section] = true
			}
			err = s.skipValue()
		}
		if err != nil {
			return withPath(err, section)
		}
		return nil
	})
	if err != nil {
		return err
	}
	end, err := s.atEnd()
	if err != nil {
		return err
	}
	if !end {
		return s.errorf("data after the end of the JSON object")
	}
	if !mr.hasMetadata || mr.schemaURL == "" {
		found := "a JSON object without metadata.dbt_schema_version, so not a dbt artifact"
		if mr.topKeys["semantic_models"] && mr.topKeys["project_configuration"] {
			found = "a dbt semantic_manifest.json"
		}
		return &ArtifactError{Name: mr.name, Found: found, Expected: expectedManifest, Offset: -1}
	}
	return nil
}

func (mr *manifestReader) metadata() error {
	s := mr.s
	mr.hasMetadata = true
	var generatedAt []byte
	err := s.object(func(key []byte) error {
		var dst *string
		switch string(key) {
		case "dbt_schema_version":
			dst = &mr.schemaURL
		case "dbt_version":
			dst = &mr.m.DbtVersion
		case "invocation_id":
			dst = &mr.m.InvocationID
		case "adapter_type":
			dst = &mr.m.AdapterType
		case "project_name":
			dst = &mr.m.ProjectName
		case "project_id":
			dst = &mr.projectID
		case "generated_at":
			b, _, err := s.stringOrNull("generated_at")
			generatedAt = append(generatedAt, b...)
			return err
		default:
			return s.skipValue()
		}
		b, _, err := s.stringOrNull(string(key))
		*dst = string(b)
		return err
	})
	if err != nil {
		return err
	}

	v, err := checkSchema(mr.name, mr.schemaURL, mr.m.DbtVersion, kindManifest, MinManifestVersion, MaxManifestVersion, expectedManifest)
	if err != nil {
		return err
	}
	mr.m.SchemaVersion = v.version
	mr.seen = v.describe(mr.m.DbtVersion)

	if len(generatedAt) > 0 {
		t, ok := parseTime(generatedAt)
		if !ok {
			return &ArtifactError{
				Name:     mr.name,
				Found:    fmt.Sprintf("%s whose metadata.generated_at is %q", mr.seen, generatedAt),
				Expected: "an RFC 3339 time such as 2024-11-02T04:30:04.614989Z",
				Offset:   -1,
			}
		}
		mr.m.GeneratedAt = t
	}
	return nil
}

// nodes reads the nodes or sources section: an object from unique ID to
// node.
func (mr *manifestReader) nodes(disabled bool) error {
	return mr.s.object(func(key []byte) error {
		id := string(key)
		if err := mr.node(id, disabled); err != nil {
			return withPath(err, "["+strconv.Quote(id)+"]")
		}
		return nil
	})
}

// disabled reads the disabled section: an object from unique ID to a list
// of nodes (one per configuration that disables it). Manifests before v4
// used a plain list, which is accepted too.
func (mr *manifestReader) disabled() error {
	s := mr.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		_, err := s.isNull()
		return err
	case '[':
		return s.array(func() error { return mr.node("", true) })
	case '{':
	default:
		return s.typeError("", "an object", c)
	}
	return s.object(func(key []byte) error {
		id := string(key)
		c, err := s.peek()
		if err != nil {
			return err
		}
		path := "[" + strconv.Quote(id) + "]"
		if c != '[' {
			return withPath(s.typeError("", "a list of nodes", c), path)
		}
		err = s.array(func() error { return mr.node(id, true) })
		return withPath(err, path)
	})
}

// Field slots of nodeScratch.
const (
	fieldName = iota
	fieldAlias
	fieldRelationName
	fieldIdentifier
	fieldVersion
	fieldUniqueID
	fieldCount
)

// nodeScratch collects one node's fields. The strings that are unique to a
// node go to one byte arena, which becomes a single string allocation. The
// strings repeated across nodes (database, schema, package) are interned.
type nodeScratch struct {
	arena        []byte
	spans        [fieldCount][2]int
	depends      [][2]int
	resourceType string
	packageName  string
	database     string
	schema       string
	materialized string
	sourceName   string
	enabled      bool
	quoting      Quoting
}

func (ns *nodeScratch) reset() {
	ns.arena = ns.arena[:0]
	ns.spans = [fieldCount][2]int{}
	ns.depends = ns.depends[:0]
	ns.resourceType, ns.packageName, ns.database, ns.schema, ns.materialized, ns.sourceName = "", "", "", "", "", ""
	ns.enabled = true
	ns.quoting = Quoting{}
}

func (ns *nodeScratch) put(field int, b []byte) {
	start := len(ns.arena)
	ns.arena = append(ns.arena, b...)
	ns.spans[field] = [2]int{start, len(ns.arena)}
}

// node reads one node of any resource type and keeps the models, seeds,
// snapshots and sources. id is its key in the section, or empty for the
// old list form of the disabled section.
func (mr *manifestReader) node(id string, disabled bool) error {
	s := mr.s
	ns := &mr.scratch
	ns.reset()
	err := s.object(func(key []byte) error {
		switch string(key) {
		case "resource_type":
			return mr.internedString("resource_type", &ns.resourceType)
		case "name":
			return mr.arenaString("name", fieldName)
		case "alias":
			return mr.arenaString("alias", fieldAlias)
		case "relation_name":
			return mr.arenaString("relation_name", fieldRelationName)
		case "identifier":
			return mr.arenaString("identifier", fieldIdentifier)
		case "unique_id":
			if id != "" {
				return s.skipValue()
			}
			return mr.arenaString("unique_id", fieldUniqueID)
		case "version":
			return mr.version()
		case "package_name":
			return mr.internedString("package_name", &ns.packageName)
		case "database":
			return mr.internedString("database", &ns.database)
		case "schema":
			return mr.internedString("schema", &ns.schema)
		case "source_name":
			return mr.internedString("source_name", &ns.sourceName)
		case "quoting":
			return mr.quoting("quoting", &ns.quoting)
		case "config":
			return mr.nodeConfig()
		case "depends_on":
			return mr.dependsOn("depends_on", func(b []byte) {
				start := len(ns.arena)
				ns.arena = append(ns.arena, b...)
				ns.depends = append(ns.depends, [2]int{start, len(ns.arena)})
			})
		}
		return s.skipValue()
	})
	if err != nil {
		return err
	}
	if disabled {
		ns.enabled = false
		mr.disabledCount++
	}

	switch ns.resourceType {
	case ResourceModel, ResourceSeed, ResourceSnapshot, ResourceSource:
	default:
		return nil
	}
	text := string(ns.arena)
	field := func(f int) string { return text[ns.spans[f][0]:ns.spans[f][1]] }
	if id == "" {
		id = field(fieldUniqueID)
	}

	if ns.resourceType == ResourceSource {
		mr.m.Sources = append(mr.m.Sources, Source{
			UniqueID:     id,
			SourceName:   ns.sourceName,
			Name:         field(fieldName),
			PackageName:  ns.packageName,
			Database:     ns.database,
			Schema:       ns.schema,
			Identifier:   field(fieldIdentifier),
			RelationName: field(fieldRelationName),
			Enabled:      ns.enabled,
			Quoting:      ns.quoting,
		})
		return nil
	}

	var depends []string
	if len(ns.depends) > 0 {
		depends = make([]string, len(ns.depends))
		for i, span := range ns.depends {
			depends[i] = text[span[0]:span[1]]
		}
	}
	mr.m.Nodes = append(mr.m.Nodes, Node{
		UniqueID:     id,
		ResourceType: ns.resourceType,
		Name:         field(fieldName),
		PackageName:  ns.packageName,
		Database:     ns.database,
		Schema:       ns.schema,
		Alias:        field(fieldAlias),
		RelationName: field(fieldRelationName),
		Materialized: ns.materialized,
		Enabled:      ns.enabled,
		Version:      field(fieldVersion),
		Quoting:      ns.quoting,
		DependsOn:    depends,
	})
	return nil
}

// nodeConfig reads a node's config: materialized, enabled and quoting.
func (mr *manifestReader) nodeConfig() error {
	s := mr.s
	ns := &mr.scratch
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject("config"); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		switch string(key) {
		case "materialized":
			return mr.internedString("config.materialized", &ns.materialized)
		case "enabled":
			enabled, null, err := s.boolOrNull("config.enabled")
			if !null {
				ns.enabled = enabled
			}
			return err
		case "quoting":
			return mr.quoting("config.quoting", &ns.quoting)
		}
		return s.skipValue()
	})
}

// version reads a model version, which dbt writes as a string or a number.
func (mr *manifestReader) version() error {
	s := mr.s
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch {
	case c == '"':
		return mr.arenaString("version", fieldVersion)
	case c == 'n':
		_, err := s.isNull()
		return err
	case kind(c) == "a number":
		lit, err := s.readScalar()
		mr.scratch.put(fieldVersion, lit)
		return err
	}
	return s.typeError("version", "a string, a number or null", c)
}

// quoting reads a quoting object: database, schema and identifier, each
// true, false or null.
func (mr *manifestReader) quoting(field string, q *Quoting) error {
	s := mr.s
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject(field); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		var dst **bool
		switch string(key) {
		case "database":
			dst = &q.Database
		case "schema":
			dst = &q.Schema
		case "identifier":
			dst = &q.Identifier
		default:
			return s.skipValue()
		}
		v, null, err := s.boolOrNull(field + "." + string(key))
		if !null && err == nil {
			*dst = &v
		}
		return err
	})
}

// dependsOn reads depends_on.nodes, calling add with each unique ID.
func (mr *manifestReader) dependsOn(field string, add func([]byte)) error {
	s := mr.s
	if null, err := s.isNull(); null || err != nil {
		return err
	}
	if err := s.expectObject(field); err != nil {
		return err
	}
	return s.object(func(key []byte) error {
		if string(key) != "nodes" {
			return s.skipValue()
		}
		return s.stringList(field+".nodes", add)
	})
}

// arenaString reads a string or null into the scratch arena.
func (mr *manifestReader) arenaString(field string, slot int) error {
	b, _, err := mr.s.stringOrNull(field)
	if err == nil {
		mr.scratch.put(slot, b)
	}
	return err
}

// internedString reads a string or null and stores one shared copy per
// distinct value.
func (mr *manifestReader) internedString(field string, dst *string) error {
	b, _, err := mr.s.stringOrNull(field)
	if err != nil {
		return err
	}
	*dst = mr.internBytes(b)
	return nil
}

func (mr *manifestReader) internBytes(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if v, ok := mr.intern[string(b)]; ok {
		return v
	}
	v := string(b)
	if len(mr.intern) < 1<<16 {
		mr.intern[v] = v
	}
	return v
}

// inferProjectName fills ProjectName when the metadata has none, as in the
// v4 and v8 fixtures. In every fixture, metadata.project_id is the MD5 of
// the project name, so the package whose name hashes to it is the project.
func (mr *manifestReader) inferProjectName() {
	m := mr.m
	if m.ProjectName != "" {
		return
	}
	counts := map[string]int{}
	for _, n := range m.Nodes {
		counts[n.PackageName]++
	}
	for _, e := range m.Exposures {
		counts[e.PackageName]++
	}
	best := ""
	for pkg, n := range counts {
		sum := md5.Sum([]byte(pkg))
		if mr.projectID != "" && hex.EncodeToString(sum[:]) == mr.projectID {
			m.ProjectName = pkg
			return
		}
		if n > counts[best] || (n == counts[best] && pkg < best) {
			best = pkg
		}
	}
	// NOTE: when no package hashes to project_id (a hand-edited file, or a
	// dbt version that computes it otherwise), the package with the most
	// nodes is taken as the project, which is a guess.
	m.ProjectName = best
}
