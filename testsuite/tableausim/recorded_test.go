package tableausim_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// notServed are fields of Tableau's schema that appear in the recorded
// responses but that the simulator does not serve: sheets, fields and
// columns carry no lineage that autoexposures reads.
var notServed = map[string]bool{
	"sheets": true, "downstreamSheets": true, "fields": true, "columns": true,
	"columnsConnection": true, "datasources": true,
}

// selectionTree is the union of the keys of a recorded JSON value.
type selectionTree map[string]selectionTree

func (s selectionTree) add(v any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if notServed[k] {
				continue
			}
			if l, ok := x.([]any); ok && len(l) == 0 {
				// An empty list shows no sub-fields to select.
				continue
			}
			child := s[k]
			if child == nil {
				child = selectionTree{}
				s[k] = child
			}
			child.add(x)
		}
	case []any:
		for _, x := range v {
			s.add(x)
		}
	}
}

func (s selectionTree) query() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k)
		if len(s[k]) > 0 {
			b.WriteString(" { " + s[k].query() + " }")
		}
		b.WriteString(" ")
	}
	return strings.TrimSpace(b.String())
}

// TestRecordedFieldNamesValidate rebuilds the query behind each recorded
// Metadata API response in testdata/tableau/metadata from the response's
// keys and runs it on the simulator: every type, field and connection name
// that Tableau returned and the simulator serves must validate and execute.
func TestRecordedFieldNamesValidate(t *testing.T) {
	files, err := filepath.Glob("../../testdata/tableau/metadata/datahub_*Connection_all.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded responses found: %v", err)
	}
	h := startFixture(t, nil)
	token := h.signIn(tokenName, tokenSecret)

	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var recorded map[string]any
			if err := json.Unmarshal(raw, &recorded); err != nil {
				t.Fatal(err)
			}
			tree := selectionTree{}
			tree.add(recorded["data"])
			query := "{ " + tree.query() + " }"

			status, body := h.graphql(token, query, nil)
			if status != 200 || body["errors"] != nil {
				t.Errorf("query %s\nstatus %d errors %v", query, status, body["errors"])
			}
		})
	}
}
