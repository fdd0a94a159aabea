package exposures

import (
	"strings"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// neutralizeJinja makes text safe from dbt's Jinja rendering. dbt-core's
// SchemaYamlRenderer (core/dbt/parser/schema_renderer.py) renders every
// string of a property file when it parses, except descriptions and tests,
// and descriptions are rendered later for the docs. A workbook called
// "Sales {{ region }}" would therefore fail the parse. Jinja starts a tag
// only at "{{", "{%" or "{#", so a space after each such "{" leaves nothing
// to render and keeps the text readable. Closing delimiters outside a tag
// are plain text and are kept.
func neutralizeJinja(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		b.WriteByte(s[i])
		if s[i] == '{' && i+1 < len(s) && (s[i+1] == '{' || s[i+1] == '%' || s[i+1] == '#') {
			b.WriteByte(' ')
		}
	}
	return b.String()
}

// describeWorkbook builds an exposure description in Markdown, which dbt docs
// renders: the workbook's own description, then its project, collections
// and dashboards. collectionNames are the names of the collections that hold
// it, sorted.
func describeWorkbook(wb tableau.Workbook, collectionNames []string) string {
	var b strings.Builder
	if d := strings.TrimSpace(wb.Description); d != "" {
		b.WriteString(d)
		b.WriteString("\n\n")
	}
	b.WriteString("Tableau workbook")
	if wb.ProjectName != "" {
		b.WriteString(" in project ")
		b.WriteString(wb.ProjectName)
	}
	b.WriteString(".")
	if len(collectionNames) > 0 {
		b.WriteString("\n\nCollections: ")
		b.WriteString(strings.Join(collectionNames, ", "))
		b.WriteString(".")
	}
	if len(wb.Dashboards) > 0 {
		b.WriteString("\n\nDashboards:")
		for _, d := range wb.Dashboards {
			b.WriteString("\n- ")
			b.WriteString(d.Name)
		}
	}
	return b.String()
}
