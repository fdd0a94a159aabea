package tableausim_test

import (
	"strings"
	"testing"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// TestDemoSiteHasWhatTheDemoShows checks the cases the demo site exists to
// show, so that an edit of demo.json cannot drop one unnoticed.
func TestDemoSiteHasWhatTheDemoShows(t *testing.T) {
	site, err := tableausim.LoadSite("../sites/demo.json")
	if err != nil {
		t.Fatalf("LoadSite: %v", err)
	}
	projects := map[string]bool{}
	publishedUsers := map[string]int{}
	var extracts, live, parsedSQL, unparsedSQL int
	var quoteName, colonName, accentName bool
	for _, w := range site.Workbooks {
		projects[w.ProjectName] = true
		for _, l := range w.PublishedDatasourceLUIDs {
			publishedUsers[l]++
		}
		for _, d := range w.EmbeddedDatasources {
			if d.HasExtracts {
				extracts++
			} else {
				live++
			}
			for _, q := range d.CustomSQL {
				if len(q.Tables) > 0 {
					parsedSQL++
				} else {
					unparsedSQL++
				}
			}
		}
		quoteName = quoteName || strings.ContainsAny(w.Name, `"`)
		colonName = colonName || strings.ContainsAny(w.Name, ":")
		accentName = accentName || strings.ContainsAny(w.Name+w.ProjectName, "éèëöüåé")
	}

	checks := []struct {
		name string
		ok   bool
	}{
		{"six workbooks", len(site.Workbooks) == 6},
		{"two projects", len(projects) == 2},
		{"two collections", len(site.Collections) == 2},
		{"a published data source shared by two workbooks", maxValue(publishedUsers) == 2},
		{"extract and live data sources", extracts > 0 && live > 0},
		{"custom SQL parsed and not parsed", parsedSQL == 1 && unparsedSQL == 1},
		{"a name with quotes", quoteName},
		{"a name with a colon", colonName},
		{"a name with accents", accentName},
		{"a table that matches no dbt node", hasTable(site, "main", "legacy_kpis")},
		{"a demo token", len(site.Simulator.Tokens) == 1},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("demo site lacks %s", c.name)
		}
	}
}

func maxValue(m map[string]int) int {
	best := 0
	for _, v := range m {
		best = max(best, v)
	}
	return best
}

func hasTable(site *tableausim.Site, schema, name string) bool {
	found := false
	visit := func(ts []tableau.Table) {
		for _, t := range ts {
			if t.Schema == schema && t.Name == name {
				found = true
			}
		}
	}
	for _, w := range site.Workbooks {
		for _, d := range w.EmbeddedDatasources {
			visit(d.UpstreamTables)
		}
	}
	return found
}
