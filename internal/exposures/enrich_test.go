package exposures

import (
	"bufio"
	"bytes"
	"strings"
	"testing"
)

// TestCopyValue copies one JSON value and stops right after it, also when
// the value spans many small buffer fills.
func TestCopyValue(t *testing.T) {
	values := []string{
		`{"a": [1, 2, {"b": "}"}], "c": "\"]"}`,
		`["\\", "\\\"", "{[", {"x": []}]`,
		`"plain \" string"`,
		`12.5e3`,
		`true`,
		`null`,
		`{"nested": ` + strings.Repeat(`{"k": [`, 50) + `"deep"` + strings.Repeat(`]}`, 50) + `}`,
		`{"unicode": "é 📊 \u00e9"}`,
	}
	for _, v := range values {
		for _, size := range []int{16, 4096} {
			r := bufio.NewReaderSize(strings.NewReader(v+` ,"next"`), size)
			var got bytes.Buffer
			if err := copyValue(r, &got); err != nil {
				t.Fatalf("copyValue(%.40q) with buffer %d: %v", v, size, err)
			}
			if got.String() != v {
				t.Errorf("copyValue with buffer %d copied %.60q, want %.60q", size, got.String(), v)
			}
			rest, _ := r.ReadString(0)
			if rest != ` ,"next"` {
				t.Errorf("copyValue(%.40q) with buffer %d left %q, want the rest after the value", v, size, rest)
			}
		}
	}
}

func TestCopyValueInvalid(t *testing.T) {
	for _, v := range []string{`{"a": [1, 2}`, `{"a": "unterminated`, `[1, 2`, `"open`} {
		r := bufio.NewReaderSize(strings.NewReader(v), 16)
		var got bytes.Buffer
		if err := copyValue(r, &got); err == nil {
			t.Errorf("copyValue(%q) returned no error", v)
		}
	}
}
