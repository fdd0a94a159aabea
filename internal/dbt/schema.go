package dbt

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Schema versions this package reads. Manifest v4 is dbt 1.0; v12 is the
// version written by dbt 1.8 up to at least 1.12. Run results v4 to v6 cover
// dbt 1.0 up to at least 1.12.
const (
	MinManifestVersion   = 4
	MaxManifestVersion   = 12
	MinRunResultsVersion = 4
	MaxRunResultsVersion = 6
)

// Artifact kinds, as they appear in metadata.dbt_schema_version URLs such as
// https://schemas.getdbt.com/dbt/manifest/v12.json.
const (
	kindManifest   = "manifest"
	kindRunResults = "run-results"
)

// schemaVersion is a parsed metadata.dbt_schema_version.
type schemaVersion struct {
	kind    string // manifest, run-results, catalog, sources, ...
	version int
}

// parseSchemaVersion parses a dbt schema URL. It accepts any host so that
// a mirrored schema location still reads.
func parseSchemaVersion(url string) (schemaVersion, bool) {
	rest, ok := strings.CutSuffix(url, ".json")
	if !ok {
		return schemaVersion{}, false
	}
	slash := strings.LastIndexByte(rest, '/')
	if slash < 0 {
		return schemaVersion{}, false
	}
	file := rest[slash+1:]
	dir := rest[:slash]
	kind := dir[strings.LastIndexByte(dir, '/')+1:]
	digits, ok := strings.CutPrefix(file, "v")
	if !ok || kind == "" {
		return schemaVersion{}, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil || n < 0 {
		return schemaVersion{}, false
	}
	return schemaVersion{kind: kind, version: n}, true
}

// describe returns a description of a file with this schema, for error
// messages.
func (v schemaVersion) describe(dbtVersion string) string {
	produced := ""
	if dbtVersion != "" {
		produced = ", dbt " + dbtVersion
	}
	switch v.kind {
	case kindManifest:
		return fmt.Sprintf("a dbt manifest.json (schema v%d%s)", v.version, produced)
	case kindRunResults:
		return fmt.Sprintf("a dbt run_results.json (schema v%d%s)", v.version, produced)
	case "catalog":
		return fmt.Sprintf("a dbt catalog.json from dbt docs generate (schema v%d%s)", v.version, produced)
	case "sources":
		return fmt.Sprintf("a dbt sources.json from dbt source freshness (schema v%d%s)", v.version, produced)
	}
	return fmt.Sprintf("a dbt %s artifact (schema v%d%s)", v.kind, v.version, produced)
}

var (
	expectedManifest = fmt.Sprintf("a dbt manifest.json of schema v%d to v%d (dbt 1.0 or later)",
		MinManifestVersion, MaxManifestVersion)
	expectedRunResults = fmt.Sprintf("a dbt run_results.json of schema v%d to v%d (dbt 1.0 or later)",
		MinRunResultsVersion, MaxRunResultsVersion)
)

// checkSchema returns an ArtifactError when the file's schema is not the
// expected kind in [minVersion, maxVersion].
func checkSchema(name, url, dbtVersion, wantKind string, minVersion, maxVersion int, expected string) (schemaVersion, error) {
	v, ok := parseSchemaVersion(url)
	if !ok {
		return v, &ArtifactError{
			Name:     name,
			Found:    fmt.Sprintf("a JSON document whose metadata.dbt_schema_version %q is not a dbt schema URL", url),
			Expected: expected,
			Offset:   -1,
		}
	}
	if v.kind != wantKind {
		hint := "pass the " + map[string]string{kindManifest: "manifest.json", kindRunResults: "run_results.json"}[wantKind] +
			" from the dbt project's target directory"
		return v, &ArtifactError{Name: name, Found: v.describe(dbtVersion), Expected: expected, Hint: hint, Offset: -1}
	}
	if v.version < minVersion || v.version > maxVersion {
		found := v.describe(dbtVersion) + ", older than supported"
		hint := "regenerate it with dbt 1.0 or later (dbt parse writes the manifest)"
		if v.version > maxVersion {
			found = v.describe(dbtVersion) + ", newer than supported"
			hint = "upgrade autoexposures to a release that reads this schema"
		}
		return v, &ArtifactError{
			Name:     name,
			Found:    found,
			Expected: expected,
			Hint:     hint,
			Offset:   -1,
		}
	}
	return v, nil
}

// parseTime parses the timestamps dbt writes: RFC 3339 with a zone, or
// without one (some dbt versions), which is then taken as UTC.
func parseTime(b []byte) (time.Time, bool) {
	s := string(b)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// gzipMagic starts every gzip stream (RFC 1952).
var gzipMagic = []byte{0x1f, 0x8b}

// decompress returns a reader of the JSON text: r itself, or a gzip reader
// when r starts with the gzip magic bytes. The file name does not matter.
func decompress(r io.Reader, name, expected string) (io.Reader, error) {
	head := make([]byte, 2)
	n, err := io.ReadFull(r, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	joined := io.MultiReader(bytes.NewReader(head[:n]), r)
	if n < 2 || !bytes.Equal(head, gzipMagic) {
		return joined, nil
	}
	zr, err := gzip.NewReader(joined)
	if err != nil {
		return nil, &ArtifactError{
			Name:     name,
			Found:    fmt.Sprintf("a corrupt gzip file (%v)", err),
			Expected: expected + ", plain or gzip-compressed",
			Hint:     "copy or download the file again",
			Offset:   -1,
			Err:      err,
		}
	}
	return &gzipReader{zr}, nil
}

// gzipReader marks decompression errors as corrupt content.
type gzipReader struct{ zr *gzip.Reader }

func (g *gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = &corruptStreamError{err}
	}
	return n, err
}
