package dbt

import (
	"errors"
	"fmt"
)

// ErrInvalidArtifact is matched, with errors.Is, by every error about the
// content of an artifact: not JSON, truncated, another kind of dbt artifact,
// an unsupported schema version, or a field of the wrong type. Errors that
// opening or reading the file returns (fs.ErrNotExist, permission denied)
// are passed on as they are and do not match it.
var ErrInvalidArtifact = errors.New("invalid dbt artifact")

// ArtifactError describes an artifact that cannot be read: which file, what
// it looks like, and what was expected instead.
type ArtifactError struct {
	// Name is the path or name the caller gave for the file.
	Name string
	// Found describes what the file is or where it goes wrong, such as
	// "a dbt run_results.json (schema v6, dbt 1.8.6)" or "truncated JSON".
	Found string
	// Expected describes what was expected, such as
	// "a dbt manifest.json of schema v4 to v12".
	Expected string
	// Hint, when not empty, is the action that fixes the problem.
	Hint string
	// Offset is the byte offset (in the decompressed stream) where the
	// problem was found, or -1.
	Offset int64
	// Err is the underlying error, if any (a gzip or read error).
	Err error
}

func (e *ArtifactError) Error() string {
	msg := fmt.Sprintf("%s: %s, but %s was expected", e.Name, e.Found, e.Expected)
	if e.Hint != "" {
		msg += ": " + e.Hint
	}
	return msg
}

// Is makes every ArtifactError match ErrInvalidArtifact.
func (e *ArtifactError) Is(target error) bool { return target == ErrInvalidArtifact }

func (e *ArtifactError) Unwrap() error { return e.Err }

// corruptStreamError marks an error of the gzip decompressor, so that it is
// reported as a corrupt file rather than as an I/O failure.
type corruptStreamError struct{ err error }

func (e *corruptStreamError) Error() string { return e.err.Error() }

func (e *corruptStreamError) Unwrap() error { return e.err }

// typeError is the scanner error for a field of the wrong JSON type.
func (s *scanner) typeError(field string, want string, got byte) error {
	return &scanError{
		offset: s.offset(),
		msg:    fmt.Sprintf("%s is %s, not %s", field, kind(got), want),
		path:   field,
		want:   want,
		got:    kind(got),
	}
}

// withPath prefixes the JSON path of the value being read to a scanner
// error, so that the final message shows where in the file it went wrong.
func withPath(err error, prefix string) error {
	var se *scanError
	if errors.As(err, &se) {
		switch {
		case se.path == "" || se.path[0] == '[':
			se.path = prefix + se.path
		default:
			se.path = prefix + "." + se.path
		}
	}
	return err
}

// artifactError turns a scanner error into an ArtifactError for the file
// name, given what kind of file was expected (such as "a dbt manifest.json
// of schema v4 to v12") and what it was found to be so far (empty before
// the metadata was read).
func artifactError(err error, name, expected, seen string) error {
	var se *scanError
	if !errors.As(err, &se) {
		return err
	}
	where := ""
	if se.path != "" {
		where = " in " + se.path
	}
	ae := &ArtifactError{Name: name, Expected: expected, Offset: se.offset}

	var corrupt *corruptStreamError
	switch {
	case errors.As(se.readErr, &corrupt):
		ae.Found = fmt.Sprintf("a truncated or corrupt gzip stream (%v, after %d bytes of JSON)", corrupt.err, se.offset)
		ae.Hint = "copy or download the file again"
		ae.Err = corrupt.err
	case se.readErr != nil:
		// A plain read failure is an I/O error, not bad content.
		return fmt.Errorf("reading %s: %w", name, se.readErr)
	case se.truncated:
		ae.Found = fmt.Sprintf("truncated JSON (the input ends at byte %d%s)", se.offset, where)
		ae.Hint = "the file was cut short: copy or download it again"
	case se.limit:
		ae.Found = fmt.Sprintf("JSON beyond this reader's limits (%s at byte %d%s)", se.msg, se.offset, where)
	case se.want != "":
		ae.Found = fmt.Sprintf("%s whose %s is %s (at byte %d)", seenOr(seen), se.path, se.got, se.offset)
		ae.Expected = se.want
	case se.offset == 0:
		ae.Found = "not JSON (" + se.msg + ")"
	default:
		ae.Found = fmt.Sprintf("not valid JSON (%s at byte %d%s)", se.msg, se.offset, where)
	}
	return ae
}

func seenOr(seen string) string {
	if seen == "" {
		return "a JSON document"
	}
	return seen
}

// checkStart checks the first byte of an artifact: an object must follow.
// An empty file and other JSON values get an ArtifactError of their own.
func (s *scanner) checkStart(name, expected string) error {
	// A UTF-8 byte order mark, which some editors and tools add, is
	// skipped.
	if s.ensure(3) && string(s.buf[s.pos:s.pos+3]) == "\xef\xbb\xbf" {
		s.pos += 3
	}
	c, err := s.peek()
	var se *scanError
	if errors.As(err, &se) && se.truncated && se.readErr == nil {
		return &ArtifactError{Name: name, Found: "an empty file", Expected: expected, Offset: 0}
	}
	if err != nil {
		return err
	}
	switch c {
	case '{':
		return nil
	case '[', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return &ArtifactError{Name: name, Found: "JSON " + kind(c) + " at the top level", Expected: expected, Offset: s.offset()}
	}
	return s.errorf("expected a JSON object, found %s", describeByte(c))
}
