//go:build devserver

package workflows_test

import (
	"fmt"
	"time"

	"github.com/autoexposures/autoexposures/internal/tableau"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

// jaffleSite returns a small site whose workbooks read the tables of the
// bundled jaffle_shop manifest: two with extracts refreshed long before the
// bundled run, one live, and one that reads a table dbt does not build.
func jaffleSite() *tableausim.Site {
	old := time.Date(2020, 1, 1, 6, 0, 0, 0, time.UTC)
	table := func(schema, name string) tableau.Table {
		return tableau.Table{
			Name: name, Schema: schema, Database: "jaffle_shop", ConnectionType: "duckdb",
			FullName: fmt.Sprintf("[jaffle_shop].[%s].[%s]", schema, name),
		}
	}
	collection := "c1000000-0000-4000-8000-000000000001"
	wb := func(n int, name string, ds ...tableau.EmbeddedDatasource) tableau.Workbook {
		luid := fmt.Sprintf("a1000000-0000-4000-8000-00000000000%d", n)
		return tableau.Workbook{
			LUID: luid, Name: name, ProjectName: "Jaffle",
			Owner:               tableau.Owner{Name: "Ada Lovelace", Email: "ada@example.com", Username: "ada"},
			WebURL:              "https://sim.tableau.test/#/site/jaffle/workbooks/" + luid,
			UpdatedAt:           old,
			EmbeddedDatasources: ds,
		}
	}
	orders := wb(1, "Orders overview", tableau.EmbeddedDatasource{
		ID: "e1000000-0000-4000-8000-000000000001", Name: "orders (extract)",
		HasExtracts: true, ExtractLastRefreshTime: &old,
		UpstreamTables: []tableau.Table{table("main", "orders"), table("main", "customers")},
	})
	customers := wb(2, "Customer 360")
	customers.PublishedDatasourceLUIDs = []string{"d1000000-0000-4000-8000-000000000001"}
	supplies := wb(3, "Supplies (live)", tableau.EmbeddedDatasource{
		ID: "e1000000-0000-4000-8000-000000000003", Name: "supplies",
		UpstreamTables: []tableau.Table{table("main", "supplies")},
	})
	scratch := wb(4, "Scratch", tableau.EmbeddedDatasource{
		ID: "e1000000-0000-4000-8000-000000000004", Name: "events",
		UpstreamTables: []tableau.Table{table("raw", "events")},
	})

	return &tableausim.Site{
		Snapshot: tableau.Snapshot{
			FormatVersion: tableau.SnapshotFormatVersion,
			ServerURL:     "https://sim.tableau.test",
			Site:          "jaffle",
			SiteLUID:      "f1000000-0000-4000-8000-000000000001",
			Collections: []tableau.Collection{{
				LUID: collection, Name: "Jaffle dashboards",
				WorkbookLUIDs: []string{orders.LUID, customers.LUID, supplies.LUID},
			}},
			Workbooks: []tableau.Workbook{orders, customers, supplies, scratch},
			PublishedDatasources: []tableau.PublishedDatasource{{
				LUID: "d1000000-0000-4000-8000-000000000001", ID: "d2000000-0000-4000-8000-000000000001",
				Name: "Customers (published)", ProjectName: "Jaffle",
				HasExtracts: true, ExtractLastRefreshTime: &old,
				UpstreamTables: []tableau.Table{table("main", "customers")},
			}},
		},
		Simulator: tableausim.Settings{
			Tokens:  []tableausim.Token{{Name: testTokenName, Secret: testTokenSecret}},
			JobRuns: tableausim.Duration(2 * time.Second),
		},
	}
}

// largeSite returns a site of n workbooks, each with one embedded data
// source of five upstream tables.
func largeSite(n int) *tableausim.Site {
	site := &tableausim.Site{
		Snapshot: tableau.Snapshot{
			FormatVersion: tableau.SnapshotFormatVersion,
			ServerURL:     "https://sim.tableau.test",
			Site:          "large",
			SiteLUID:      "f2000000-0000-4000-8000-000000000001",
		},
		Simulator: tableausim.Settings{Tokens: []tableausim.Token{{Name: testTokenName, Secret: testTokenSecret}}},
	}
	for i := range n {
		wb := tableau.Workbook{
			LUID:        fmt.Sprintf("a2000000-0000-4000-8000-%012d", i),
			Name:        fmt.Sprintf("Workbook %05d", i),
			ProjectName: fmt.Sprintf("Project %02d", i%20),
			Owner:       tableau.Owner{Name: "Owner", Username: "owner"},
		}
		ds := tableau.EmbeddedDatasource{ID: fmt.Sprintf("e2000000-0000-4000-8000-%012d", i), Name: "data"}
		for k := range 5 {
			ds.UpstreamTables = append(ds.UpstreamTables, tableau.Table{
				ID:   fmt.Sprintf("t2000000-0000-4%03d-8000-%012d", k, i),
				Name: fmt.Sprintf("table_%d", (i*5+k)%2000), Schema: "analytics", Database: "warehouse",
			})
		}
		wb.EmbeddedDatasources = []tableau.EmbeddedDatasource{ds}
		site.Workbooks = append(site.Workbooks, wb)
	}
	return site
}
