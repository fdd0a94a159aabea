package exposures

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// EnrichManifest writes a copy of the manifest at manifestPath to outPath
// with the generated exposures added to "exposures", "parent_map" and
// "child_map", so that `dbt docs serve` shows them without a dbt run.
// Exposures an earlier run generated (recognized by their meta marker) are
// replaced. Every other top-level field is streamed through byte for byte,
// so memory stays small for large manifests. The input may be gzip
// compressed; the output is plain JSON, written atomically.
func EnrichManifest(manifestPath, outPath string, out *Output) error {
	if out == nil || out.manifest == nil {
		return errors.New("enriching manifest: no generated exposures given")
	}
	in, err := os.Open(manifestPath)
	if err != nil {
		return fmt.Errorf("enriching manifest: %w", err)
	}
	defer in.Close()

	r, err := maybeGunzip(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return fmt.Errorf("enriching manifest %s: %w", manifestPath, err)
	}

	tmp, err := os.CreateTemp(filepath.Dir(outPath), "."+filepath.Base(outPath)+".tmp-*")
	if err != nil {
		return fmt.Errorf("enriching manifest: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()

	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = rewriteManifest(r, w, out); err != nil {
		return fmt.Errorf("enriching manifest %s: %w", manifestPath, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	if err = os.Rename(tmp.Name(), outPath); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	if err = syncDir(filepath.Dir(outPath)); err != nil {
		return fmt.Errorf("enriching manifest: writing %s: %w", outPath, err)
	}
	return nil
}

func maybeGunzip(r *bufio.Reader) (*bufio.Reader, error) {
	magic, err := r.Peek(2)
	if err != nil || magic[0] != 0x1f || magic[1] != 0x8b {
		return r, nil
	}
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading gzip stream: %w", err)
	}
	return bufio.NewReaderSize(gz, 1<<20), nil
}

// rewriteManifest copies the manifest object from r to w, replacing the
// three maps that hold exposures and their edges.
func rewriteManifest(r *bufio.Reader, w *bufio.Writer, out *Output) error {
	if err := expectByte(r, '{'); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	w.WriteByte('{')

	edits := newManifestEdits(out)
	seen := map[string]bool{}
	first := true
	for {
		c, err := nextNonSpace(r)
		if err != nil {
			return err
		}
		if c == '}' {
			break
		}
		if !first {
			if c != ',' {
				return fmt.Errorf("invalid JSON: expected ',' or '}' between fields, found %q", c)
			}
			if c, err = nextNonSpace(r); err != nil {
				return err
			}
		}
		if c != '"' {
			return fmt.Errorf("invalid JSON: expected a field name, found %q", c)
		}
		r.UnreadByte()
		var rawKey bytes.Buffer
		if err := copyValue(r, &rawKey); err != nil {
			return err
		}
		var key string
		if err := json.Unmarshal(rawKey.Bytes(), &key); err != nil {
			return fmt.Errorf("invalid JSON field name: %w", err)
		}
		if err := expectByte(r, ':'); err != nil {
			return err
		}

		if !first {
			w.WriteByte(',')
		}
		first = false
		w.Write(rawKey.Bytes())
		w.WriteByte(':')

		edit, ok := edits[key]
		if !ok {
			if err := copyValue(r, w); err != nil {
				return fmt.Errorf("field %s: %w", key, err)
			}
			continue
		}
		seen[key] = true
		var raw bytes.Buffer
		if err := copyValue(r, &raw); err != nil {
			return fmt.Errorf("field %s: %w", key, err)
		}
		replaced, err := edit(raw.Bytes())
		if err != nil {
			return fmt.Errorf("field %s: %w", key, err)
		}
		w.Write(replaced)
	}

	// A manifest without one of the maps gets it.
	for _, key := range []string{"exposures", "parent_map", "child_map"} {
		if seen[key] {
			continue
		}
		replaced, err := edits[key](nil)
		if err != nil {
			return fmt.Errorf("field %s: %w", key, err)
		}
		if !first {
			w.WriteByte(',')
		}
		first = false
		fmt.Fprintf(w, "%q:", key)
		w.Write(replaced)
	}
	w.WriteByte('}')
	w.WriteByte('\n')

	if c, err := nextNonSpace(r); err == nil {
		return fmt.Errorf("invalid JSON: unexpected %q after the manifest object", c)
	} else if !errors.Is(err, io.ErrUnexpectedEOF) {
		return err
	}
	return nil
}

// newManifestEdits returns, per top-level field, the function that rewrites
// it. The exposures edit runs first in every dbt manifest (dbt writes
// exposures before parent_map and child_map), and it records which
// generated exposures it removed so that the map edits drop them too.
func newManifestEdits(out *Output) map[string]func([]byte) ([]byte, error) {
	m := out.manifest
	nodes := make(map[string]any, len(out.Exposures))
	for _, e := range out.Exposures {
		nodes[exposureID(m.ProjectName, e.Name)] = manifestExposure(out, e)
	}
	removed := map[string]bool{}
	for _, e := range m.Exposures {
		if isGenerated(e.Meta) {
			removed[e.UniqueID] = true
		}
	}

	return map[string]func([]byte) ([]byte, error){
		"exposures": func(raw []byte) ([]byte, error) {
			existing := map[string]json.RawMessage{}
			if err := decodeMap(raw, &existing); err != nil {
				return nil, err
			}
			for id, body := range existing {
				var e struct {
					Meta   map[string]any `json:"meta"`
					Config struct {
						Meta map[string]any `json:"meta"`
					} `json:"config"`
				}
				if json.Unmarshal(body, &e) == nil && (isGenerated(e.Meta) || isGenerated(e.Config.Meta)) {
					removed[id] = true
				}
			}
			merged := make(map[string]any, len(existing)+len(nodes))
			for id, body := range existing {
				if !removed[id] {
					merged[id] = body
				}
			}
			for id, n := range nodes {
				merged[id] = n
			}
			return marshalJSON(merged)
		},
		"parent_map": func(raw []byte) ([]byte, error) {
			edges := map[string][]string{}
			if err := decodeMap(raw, &edges); err != nil {
				return nil, err
			}
			for id := range removed {
				delete(edges, id)
			}
			for _, e := range out.Exposures {
				edges[exposureID(m.ProjectName, e.Name)] = nonNil(e.NodeIDs)
			}
			return marshalJSON(edges)
		},
		"child_map": func(raw []byte) ([]byte, error) {
			edges := map[string][]string{}
			if err := decodeMap(raw, &edges); err != nil {
				return nil, err
			}
			for id := range removed {
				delete(edges, id)
			}
			for parent, children := range edges {
				edges[parent] = slices.DeleteFunc(children, func(c string) bool { return removed[c] })
			}
			for _, e := range out.Exposures {
				id := exposureID(m.ProjectName, e.Name)
				edges[id] = []string{}
				for _, parent := range e.NodeIDs {
					children := append(edges[parent], id)
					slices.Sort(children)
					edges[parent] = slices.Compact(children)
				}
			}
			return marshalJSON(edges)
		},
	}
}

// marshalJSON encodes without escaping <, > and &, as dbt writes them.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func decodeMap(raw []byte, v any) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	return json.Unmarshal(raw, v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func exposureID(project, name string) string {
	return "exposure." + project + "." + name
}

// manifestExposure builds the manifest node of an exposure in the shape
// of dbt's manifest v12 schema. Manifests before v10 list refs as lists of
// strings, later ones as objects.
func manifestExposure(out *Output, e Exposure) map[string]any {
	m := out.manifest
	filePath := filepath.ToSlash(out.filePath)
	// dbt's path is relative to the resource directory (models/ by default)
	// and its fqn is the project, the directories under it and the name.
	relPath := filePath
	if _, rest, ok := strings.Cut(filePath, "/"); ok {
		relPath = rest
	}
	fqn := []string{m.ProjectName}
	if dir := path.Dir(relPath); dir != "." {
		fqn = append(fqn, strings.Split(dir, "/")...)
	}
	fqn = append(fqn, e.Name)

	meta := map[string]any{metaKey: manifestMeta(e)}
	tags := slices.Clone(Tags)

	var refs []any
	var sources [][]string
	for _, r := range e.refs {
		if r.Source {
			sources = append(sources, []string{r.SourceName, r.Name})
			continue
		}
		if m.SchemaVersion > 0 && m.SchemaVersion < 10 {
			if r.Package != "" {
				refs = append(refs, []string{r.Package, r.Name})
			} else {
				refs = append(refs, []string{r.Name})
			}
			continue
		}
		var pkg, version any
		if r.Package != "" {
			pkg = r.Package
		}
		if r.Version != "" {
			if n, err := strconv.Atoi(r.Version); err == nil {
				version = n
			} else {
				version = r.Version
			}
		}
		refs = append(refs, map[string]any{"name": r.Name, "package": pkg, "version": version})
	}

	owner := map[string]any{"name": nil, "email": nil}
	if e.Owner.Name != "" {
		owner["name"] = neutralizeJinja(e.Owner.Name)
	}
	if e.Owner.Email != "" {
		owner["email"] = neutralizeJinja(e.Owner.Email)
	}
	var url any
	if e.URL != "" {
		url = neutralizeJinja(e.URL)
	}

	var createdAt float64
	if !m.GeneratedAt.IsZero() {
		createdAt = float64(m.GeneratedAt.UnixMicro()) / 1e6
	}

	return map[string]any{
		"name":               e.Name,
		"resource_type":      "exposure",
		"package_name":       m.ProjectName,
		"path":               relPath,
		"original_file_path": filePath,
		"unique_id":          exposureID(m.ProjectName, e.Name),
		"fqn":                fqn,
		"type":               "dashboard",
		"owner":              owner,
		"description":        neutralizeJinja(e.Description),
		"label":              neutralizeJinja(e.Label),
		"maturity":           e.Maturity,
		"meta":               meta,
		"tags":               tags,
		"config":             map[string]any{"enabled": true, "meta": meta, "tags": tags},
		"unrendered_config":  map[string]any{},
		"url":                url,
		"depends_on":         map[string]any{"macros": []string{}, "nodes": nonNil(e.NodeIDs)},
		"refs":               nonNilAny(refs),
		"sources":            nonNilPairs(sources),
		"metrics":            [][]string{},
		"created_at":         createdAt,
	}
}

func manifestMeta(e Exposure) map[string]any {
	meta := map[string]any{"generated": true, "workbook_luid": e.WorkbookLUID}
	if e.Project != "" {
		meta["project"] = neutralizeJinja(e.Project)
	}
	if len(e.Collections) > 0 {
		names := make([]string, len(e.Collections))
		for i, c := range e.Collections {
			names[i] = neutralizeJinja(c)
		}
		meta["collections"] = names
	}
	return meta
}

func nonNilAny(s []any) []any {
	if s == nil {
		return []any{}
	}
	return s
}

func nonNilPairs(s [][]string) [][]string {
	if s == nil {
		return [][]string{}
	}
	return s
}

// nextNonSpace returns the next byte that is not JSON white space;
// io.ErrUnexpectedEOF at the end of input.
func nextNonSpace(r *bufio.Reader) (byte, error) {
	for {
		c, err := r.ReadByte()
		if err == io.EOF {
			return 0, io.ErrUnexpectedEOF
		}
		if err != nil {
			return 0, err
		}
		switch c {
		case ' ', '\t', '\n', '\r':
			continue
		}
		return c, nil
	}
}

func expectByte(r *bufio.Reader, want byte) error {
	c, err := nextNonSpace(r)
	if err != nil {
		return fmt.Errorf("invalid JSON: expected %q: %w", want, err)
	}
	if c != want {
		return fmt.Errorf("invalid JSON: expected %q, found %q", want, c)
	}
	return nil
}

// copyValue copies one JSON value from r to w without decoding it. It checks
// only what it needs to find the value's end: balanced brackets outside
// strings, and string escapes.
func copyValue(r *bufio.Reader, w byteWriter) error {
	c, err := nextNonSpace(r)
	if err != nil {
		return err
	}
	switch c {
	case '"':
		w.WriteByte(c)
		return copyStringRest(r, w)
	case '{', '[':
		w.WriteByte(c)
		return copyContainerRest(r, w, closing(c))
	default:
		// A number, true, false or null runs to the next delimiter.
		w.WriteByte(c)
		for {
			c, err := r.ReadByte()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				return r.UnreadByte()
			}
			w.WriteByte(c)
		}
	}
}

func copyStringRest(r *bufio.Reader, w byteWriter) error {
	for {
		c, err := r.ReadByte()
		if err != nil {
			return fmt.Errorf("invalid JSON: unterminated string: %w", io.ErrUnexpectedEOF)
		}
		if err := w.WriteByte(c); err != nil {
			return err
		}
		switch c {
		case '\\':
			c, err := r.ReadByte()
			if err != nil {
				return fmt.Errorf("invalid JSON: unterminated string: %w", io.ErrUnexpectedEOF)
			}
			if err := w.WriteByte(c); err != nil {
				return err
			}
		case '"':
			return nil
		}
	}
}

// byteWriter is the writer interface that bufio.Writer and bytes.Buffer share.
type byteWriter interface {
	io.Writer
	io.ByteWriter
}

// copyContainerRest copies the rest of an object or array whose opening
// bracket was read. It scans whole buffered chunks and writes each at once,
// because a byte-by-byte copy dominated the time on large manifests.
func copyContainerRest(r *bufio.Reader, w byteWriter, close byte) error {
	stack := []byte{close}
	inString, escaped := false, false
	for len(stack) > 0 {
		if r.Buffered() == 0 {
			if _, err := r.Peek(1); err != nil {
				return fmt.Errorf("invalid JSON: truncated: %w", io.ErrUnexpectedEOF)
			}
		}
		chunk, _ := r.Peek(r.Buffered())
		i := 0
		for ; i < len(chunk) && len(stack) > 0; i++ {
			c := chunk[i]
			if inString {
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				stack = append(stack, closing(c))
			case '}', ']':
				if stack[len(stack)-1] != c {
					return fmt.Errorf("invalid JSON: unexpected %q", c)
				}
				stack = stack[:len(stack)-1]
			}
		}
		if _, err := w.Write(chunk[:i]); err != nil {
			return err
		}
		if _, err := r.Discard(i); err != nil {
			return err
		}
	}
	return nil
}

func closing(open byte) byte {
	if open == '{' {
		return '}'
	}
	return ']'
}
