package main

import (
	"flag"
	"strings"

	"github.com/autoexposures/autoexposures/internal/tableau"
)

// selectionFlags are the flags that choose which workbooks a sync reads.
type selectionFlags struct {
	collections, projects, workbooks listFlag
}

func (f *selectionFlags) register(fs *flag.FlagSet) {
	fs.Var(&f.collections, "collections", "comma-separated Tableau collection names or LUIDs to sync")
	fs.Var(&f.projects, "projects", "comma-separated Tableau project names to sync")
	fs.Var(&f.workbooks, "workbooks", "comma-separated workbook LUIDs to sync")
}

// given reports whether any selection flag was set, even to an empty list.
func (f *selectionFlags) given() bool {
	return f.collections.set || f.projects.set || f.workbooks.set
}

func (f *selectionFlags) selection() tableau.Selection {
	return tableau.Selection{
		Collections:   f.collections.values,
		Projects:      f.projects.values,
		WorkbookLUIDs: f.workbooks.values,
	}
}

// describeSelection renders a selection for people: "collections Sales,
// Finance; projects Marketing", or the worker's default when empty.
func describeSelection(sel tableau.Selection) string {
	if sel.IsEmpty() {
		return "the worker's default (AUTOEXPOSURES_COLLECTIONS, AUTOEXPOSURES_PROJECTS, AUTOEXPOSURES_WORKBOOK_LUIDS; all empty means every workbook)"
	}
	var parts []string
	if len(sel.Collections) > 0 {
		parts = append(parts, "collections "+strings.Join(sel.Collections, ", "))
	}
	if len(sel.Projects) > 0 {
		parts = append(parts, "projects "+strings.Join(sel.Projects, ", "))
	}
	if len(sel.WorkbookLUIDs) > 0 {
		parts = append(parts, "workbooks "+strings.Join(sel.WorkbookLUIDs, ", "))
	}
	return strings.Join(parts, "; ")
}
