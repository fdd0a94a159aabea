package dbt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

const (
	// readChunk is the size of each read from the underlying reader.
	readChunk = 64 << 10

	// maxDepth bounds the nesting of arrays and objects, so that a hostile
	// file cannot exhaust memory with brackets. The fixtures nest at most 8
	// levels, and Python 3.11's json module fails between 1,000 and 5,000
	// levels too (its recursion limit).
	maxDepth = 1000

	// maxKeptValue bounds a single string or number that the reader keeps
	// (names, URLs, meta values). Skipped values, such as SQL, have no limit.
	maxKeptValue = 16 << 20
)

// scanError is a syntax or type error found by the scanner, at a byte offset
// of the (decompressed) stream.
type scanError struct {
	offset    int64
	msg       string
	truncated bool   // the input ended inside a value
	readErr   error  // the reader failed; msg describes it
	path      string // JSON path of the value, such as nodes["model.a.b"].alias
	want, got string // for a value of the wrong type
	limit     bool   // valid JSON beyond maxDepth or maxKeptValue
}

func (e *scanError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.offset) }

func (e *scanError) Unwrap() error { return e.readErr }

// scanner is a streaming JSON tokenizer that reads only the values it is
// asked for and skips the others without allocating. It keeps one buffer
// of about readChunk bytes, grown only to hold a kept value that spans a
// read boundary.
//
// Slices returned by readString and readScalar point into the buffer or the
// scratch space and stay valid only until the next call on the scanner.
type scanner struct {
	r    io.Reader
	buf  []byte
	pos  int   // next unread byte
	end  int   // end of valid data in buf
	base int64 // stream offset of buf[0]
	eof  bool
	rerr error

	scratch []byte // unescaped string
	key     []byte // the current object key
	stack   []byte // open brackets while skipping
	depth   int    // nesting of the values being parsed (not skipped)
}

func newScanner(r io.Reader) *scanner {
	return &scanner{r: r, buf: make([]byte, readChunk)}
}

// offset returns the stream offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

func (s *scanner) errorf(format string, args ...any) error {
	return &scanError{offset: s.offset(), msg: fmt.Sprintf(format, args...)}
}

// limitError is the error for valid JSON that exceeds one of the limits.
func (s *scanner) limitError(format string, args ...any) error {
	return &scanError{offset: s.offset(), msg: fmt.Sprintf(format, args...), limit: true}
}

// endError is the error for input that ends where a value must go on.
func (s *scanner) endError() error {
	if s.rerr != nil {
		return &scanError{offset: s.base + int64(s.end), msg: "read failed: " + s.rerr.Error(), readErr: s.rerr, truncated: true}
	}
	return &scanError{offset: s.base + int64(s.end), msg: "unexpected end of input", truncated: true}
}

// more reads more input, keeping buf[pos:end]. It returns false at the end
// of the input or after a read error, which is kept in rerr.
func (s *scanner) more() bool {
	if s.eof {
		return false
	}
	if s.pos > 0 {
		n := copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.end = n
		s.pos = 0
	}
	if len(s.buf)-s.end < readChunk/2 {
		grown := make([]byte, 2*len(s.buf))
		copy(grown, s.buf[:s.end])
		s.buf = grown
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.eof = true
			if err != io.EOF {
				s.rerr = err
			}
			return n > 0
		}
		if n > 0 {
			return true
		}
	}
}

// peek skips white space and returns the next byte without consuming it.
func (s *scanner) peek() (byte, error) {
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if c == ' ' || c == '\n' || c == '\r' || c == '\t' {
				s.pos++
				continue
			}
			return c, nil
		}
		if !s.more() {
			return 0, s.endError()
		}
	}
}

// atEnd reports whether only white space remains.
func (s *scanner) atEnd() (bool, error) {
	_, err := s.peek()
	if err == nil {
		return false, nil
	}
	var se *scanError
	if errors.As(err, &se) && se.readErr == nil {
		return true, nil
	}
	return false, err
}

// expect consumes the byte c after white space.
func (s *scanner) expect(c byte) error {
	got, err := s.peek()
	if err != nil {
		return err
	}
	if got != c {
		return s.errorf("expected %q, found %s", c, describeByte(got))
	}
	s.pos++
	return nil
}

// kind names the JSON type that starts with byte c, for error messages.
func kind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	if c == '-' || (c >= '0' && c <= '9') {
		return "a number"
	}
	return describeByte(c)
}

func describeByte(c byte) string {
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("%q", c)
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// object parses an object member by member. fn gets each key, valid only
// until fn reads a nested object, and must consume the member's value.
func (s *scanner) object(fn func(key []byte) error) error {
	if err := s.expect('{'); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == '}' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '"' {
			return s.errorf("expected an object key, found %s", describeByte(c))
		}
		key, err := s.readString()
		if err != nil {
			return err
		}
		// Reading on may move the buffer, so the key is copied first.
		s.key = append(s.key[:0], key...)
		key = s.key
		if err := s.expect(':'); err != nil {
			return err
		}
		if err := fn(key); err != nil {
			return err
		}
		c, err = s.peek()
		if err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case '}':
			s.depth--
			return nil
		default:
			s.pos--
			return s.errorf("expected ',' or '}' after an object member, found %s", describeByte(c))
		}
	}
}

// array parses an array element by element. fn must consume each element.
func (s *scanner) array(fn func() error) error {
	if err := s.expect('['); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c == ']' {
		s.pos++
		s.depth--
		return nil
	}
	for {
		if err := fn(); err != nil {
			return err
		}
		c, err := s.peek()
		if err != nil {
			return err
		}
		s.pos++
		switch c {
		case ',':
		case ']':
			s.depth--
			return nil
		default:
			s.pos--
			return s.errorf("expected ',' or ']' after an array element, found %s", describeByte(c))
		}
	}
}

func (s *scanner) enter() error {
	s.depth++
	if s.depth > maxDepth {
		return s.limitError("values nested deeper than %d levels", maxDepth)
	}
	return nil
}

// isNull consumes a null if one comes next.
func (s *scanner) isNull() (bool, error) {
	c, err := s.peek()
	if err != nil || c != 'n' {
		return false, err
	}
	lit, err := s.readScalar()
	if err != nil {
		return false, err
	}
	if string(lit) != "null" {
		return false, s.errorf("invalid literal %q", lit)
	}
	return true, nil
}

// readString reads a string and returns its unescaped bytes.
func (s *scanner) readString() ([]byte, error) {
	if err := s.expect('"'); err != nil {
		return nil, err
	}
	j := 0
	for {
		if s.pos+j >= s.end {
			if j > maxKeptValue {
				return nil, s.limitError("string longer than %d bytes", maxKeptValue)
			}
			if !s.more() {
				return nil, s.endError()
			}
			continue
		}
		c := s.buf[s.pos+j]
		switch {
		case c == '"':
			if j > maxKeptValue {
				return nil, s.limitError("string longer than %d bytes", maxKeptValue)
			}
			out := s.buf[s.pos : s.pos+j]
			s.pos += j + 1
			return out, nil
		case c == '\\':
			s.scratch = append(s.scratch[:0], s.buf[s.pos:s.pos+j]...)
			s.pos += j
			return s.readEscaped()
		case c < 0x20:
			s.pos += j
			return nil, s.errorf("control character 0x%02x in a string", c)
		}
		j++
	}
}

// ensure makes at least n bytes available from pos.
func (s *scanner) ensure(n int) bool {
	for s.end-s.pos < n {
		if !s.more() {
			return false
		}
	}
	return true
}

// readEscaped continues readString from the first backslash, unescaping
// into scratch.
func (s *scanner) readEscaped() ([]byte, error) {
	for {
		if !s.ensure(1) {
			return nil, s.endError()
		}
		if len(s.scratch) > maxKeptValue {
			return nil, s.limitError("string longer than %d bytes", maxKeptValue)
		}
		c := s.buf[s.pos]
		switch {
		case c == '"':
			if len(s.scratch) > maxKeptValue {
				return nil, s.limitError("string longer than %d bytes", maxKeptValue)
			}
			s.pos++
			return s.scratch, nil
		case c < 0x20:
			return nil, s.errorf("control character 0x%02x in a string", c)
		case c != '\\':
			s.scratch = append(s.scratch, c)
			s.pos++
			continue
		}
		if !s.ensure(2) {
			return nil, s.endError()
		}
		e := s.buf[s.pos+1]
		switch e {
		case '"', '\\', '/':
			s.scratch = append(s.scratch, e)
		case 'b':
			s.scratch = append(s.scratch, '\b')
		case 'f':
			s.scratch = append(s.scratch, '\f')
		case 'n':
			s.scratch = append(s.scratch, '\n')
		case 'r':
			s.scratch = append(s.scratch, '\r')
		case 't':
			s.scratch = append(s.scratch, '\t')
		case 'u':
			r, n, err := s.readUnicodeEscape()
			if err != nil {
				return nil, err
			}
			s.scratch = utf8.AppendRune(s.scratch, r)
			s.pos += n
			continue
		default:
			return nil, s.errorf("invalid escape \\%s in a string", describeByte(e))
		}
		s.pos += 2
	}
}

// readUnicodeEscape decodes \uXXXX at pos, joining a UTF-16 surrogate pair
// when one follows. It returns the rune and the bytes it spans. A lone
// surrogate becomes U+FFFD, as encoding/json does.
func (s *scanner) readUnicodeEscape() (rune, int, error) {
	if !s.ensure(6) {
		return 0, 0, s.endError()
	}
	r1, ok := hex4(s.buf[s.pos+2 : s.pos+6])
	if !ok {
		return 0, 0, s.errorf("invalid \\u escape %q", s.buf[s.pos:s.pos+6])
	}
	if !utf16.IsSurrogate(r1) {
		return r1, 6, nil
	}
	if s.ensure(12) && s.buf[s.pos+6] == '\\' && s.buf[s.pos+7] == 'u' {
		if r2, ok := hex4(s.buf[s.pos+8 : s.pos+12]); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 12, nil
			}
		}
	}
	return utf8.RuneError, 6, nil
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skipString consumes a string without keeping or unescaping it. It finds
// the closing quote with bytes.IndexByte, which is what makes skipping SQL
// bodies fast, and decides whether a quote is escaped from the parity of
// the backslashes before it.
func (s *scanner) skipString() error {
	if err := s.expect('"'); err != nil {
		return err
	}
	from := s.pos // where to search next
	low := s.pos  // first byte of the string still in the buffer
	for {
		k := bytes.IndexByte(s.buf[from:s.end], '"')
		if k < 0 {
			// Keep a trailing run of backslashes, whose parity decides
			// whether a quote at the start of the next read is escaped.
			t := s.end
			for t > low && s.buf[t-1] == '\\' {
				t--
			}
			s.pos = t
			kept := s.end - t
			if !s.more() {
				return s.endError()
			}
			low = s.pos
			from = s.pos + kept
			continue
		}
		q := from + k
		n := 0
		for p := q - 1; p >= low && s.buf[p] == '\\'; p-- {
			n++
		}
		if n%2 == 0 {
			s.pos = q + 1
			return nil
		}
		from = q + 1
	}
}

// scalarByte marks the bytes that may appear in a number or literal.
var scalarByte = func() (t [256]bool) {
	for _, c := range []byte("0123456789+-.eEtruefalsn") {
		t[c] = true
	}
	return t
}()

// readScalar reads a number, true, false or null and returns its text,
// checked against the JSON grammar.
func (s *scanner) readScalar() ([]byte, error) {
	if _, err := s.peek(); err != nil {
		return nil, err
	}
	j := 0
	for {
		if s.pos+j >= s.end {
			if j > 1024 {
				return nil, s.limitError("number longer than 1024 bytes")
			}
			if !s.more() {
				break
			}
			continue
		}
		if !scalarByte[s.buf[s.pos+j]] {
			break
		}
		j++
	}
	if j == 0 {
		return nil, s.errorf("expected a value, found %s", describeByte(s.buf[s.pos]))
	}
	lit := s.buf[s.pos : s.pos+j]
	switch string(lit) {
	case "true", "false", "null":
	default:
		if !isNumber(lit) {
			return nil, s.errorf("invalid value %q", lit)
		}
	}
	s.pos += j
	return lit, nil
}

// isNumber reports whether b is a JSON number.
func isNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return false
		}
	}
	return i == len(b)
}

// skipValue consumes any value.
func (s *scanner) skipValue() error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case '"':
		return s.skipString()
	case '{', '[':
		return s.skipContainer()
	}
	_, err = s.readScalar()
	return err
}

// structural marks the bytes skipContainer stops at.
var structural = func() (t [256]bool) {
	for _, c := range []byte(`"{}[]`) {
		t[c] = true
	}
	return t
}()

// skipContainer consumes an object or array. It checks that brackets match
// and strings end, but not the rest of the grammar inside, so a comma or
// colon out of place in a skipped value goes unnoticed.
func (s *scanner) skipContainer() error {
	stack := s.stack[:0]
	defer func() { s.stack = stack[:0] }()
	for {
		if s.pos >= s.end && !s.more() {
			return s.endError()
		}
		buf := s.buf[s.pos:s.end]
		i := 0
		for i < len(buf) && !structural[buf[i]] {
			i++
		}
		s.pos += i
		if i == len(buf) {
			continue
		}
		switch c := buf[i]; c {
		case '"':
			if err := s.skipString(); err != nil {
				return err
			}
		case '{', '[':
			if s.depth+len(stack) >= maxDepth {
				return s.limitError("values nested deeper than %d levels", maxDepth)
			}
			stack = append(stack, c)
			s.pos++
		case '}', ']':
			open := byte('{')
			if c == ']' {
				open = '['
			}
			if len(stack) == 0 || stack[len(stack)-1] != open {
				return s.errorf("unexpected %q", c)
			}
			stack = stack[:len(stack)-1]
			s.pos++
			if len(stack) == 0 {
				return nil
			}
		}
	}
}

// readValue parses any value into the types encoding/json uses, except that
// integers that fit in an int64 stay int64 rather than becoming float64.
func (s *scanner) readValue() (any, error) {
	c, err := s.peek()
	if err != nil {
		return nil, err
	}
	switch c {
	case '"':
		b, err := s.readString()
		if err != nil {
			return nil, err
		}
		return string(b), nil
	case '{':
		m := map[string]any{}
		err := s.object(func(key []byte) error {
			k := string(key)
			v, err := s.readValue()
			m[k] = v
			return err
		})
		return m, err
	case '[':
		list := []any{}
		err := s.array(func() error {
			v, err := s.readValue()
			list = append(list, v)
			return err
		})
		return list, err
	}
	lit, err := s.readScalar()
	if err != nil {
		return nil, err
	}
	switch string(lit) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "null":
		return nil, nil
	}
	if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		return nil, s.errorf("number %s out of range", lit)
	}
	return f, nil
}

// stringOrNull reads a string or null, and field names the value in a type
// error. A null returns nil bytes and true.
func (s *scanner) stringOrNull(field string) ([]byte, bool, error) {
	c, err := s.peek()
	if err != nil {
		return nil, false, err
	}
	switch c {
	case '"':
		b, err := s.readString()
		return b, false, err
	case 'n':
		null, err := s.isNull()
		return nil, null, err
	}
	return nil, false, s.typeError(field, "a string or null", c)
}

// boolOrNull reads true, false or null.
func (s *scanner) boolOrNull(field string) (value, null bool, err error) {
	c, err := s.peek()
	if err != nil {
		return false, false, err
	}
	if c != 't' && c != 'f' && c != 'n' {
		return false, false, s.typeError(field, "true, false or null", c)
	}
	lit, err := s.readScalar()
	if err != nil {
		return false, false, err
	}
	return string(lit) == "true", string(lit) == "null", nil
}

// expectObject checks that an object comes next.
func (s *scanner) expectObject(field string) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	if c != '{' {
		return s.typeError(field, "an object or null", c)
	}
	return nil
}

// stringList reads an array of strings, or null, calling add with each.
func (s *scanner) stringList(field string, add func([]byte)) error {
	c, err := s.peek()
	if err != nil {
		return err
	}
	switch c {
	case 'n':
		_, err := s.isNull()
		return err
	case '[':
	default:
		return s.typeError(field, "a list of strings or null", c)
	}
	return s.array(func() error {
		c, err := s.peek()
		if err != nil {
			return err
		}
		if c != '"' {
			return s.typeError(field+"[]", "a string", c)
		}
		b, err := s.readString()
		if err == nil {
			add(b)
		}
		return err
	})
}
