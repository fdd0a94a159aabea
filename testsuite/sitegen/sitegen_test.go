package sitegen_test

import (
	"regexp"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/testsuite/sitegen"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func TestGenerateIsDeterministic(t *testing.T) {
	p := sitegen.Params{Seed: 7, Workbooks: 200, CustomSQLShare: 0.3, UnparsedSQLShare: 0.5,
		ExtractShare: 0.5, PublishedDatasources: 5, PublishedShare: 0.4, SourceShare: 0.1, UnmatchedShare: 0.1}
	a, b := sitegen.Generate(p), sitegen.Generate(p)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("two runs with one seed differ (-first +second):\n%s", diff)
	}
	p.Seed = 8
	if c := sitegen.Generate(p); cmp.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same site")
	}
}

func TestGenerateSizes(t *testing.T) {
	cases := []sitegen.Params{
		{Seed: 1, Workbooks: 0},
		{Seed: 1, Workbooks: 1},
		{Seed: 2, Workbooks: 1000},
		{Seed: 3, Workbooks: 50, TablesPerWorkbook: 12, DatasourcesPerWorkbook: 3, PublishedDatasources: 4, PublishedShare: 1},
	}
	for _, p := range cases {
		site := sitegen.Generate(p)
		if err := site.Validate(); err != nil {
			t.Errorf("%+v: generated site is invalid: %v", p, err)
		}
		if len(site.Workbooks) != p.Workbooks {
			t.Errorf("%+v: %d workbooks", p, len(site.Workbooks))
		}
		wantTables := p.TablesPerWorkbook
		if wantTables == 0 {
			wantTables = 5
		}
		for _, w := range site.Workbooks {
			n := 0
			for _, d := range w.EmbeddedDatasources {
				n += len(d.UpstreamTables)
			}
			if n != wantTables {
				t.Errorf("%+v: workbook %s reads %d tables, want %d", p, w.Name, n, wantTables)
				break
			}
			if p.PublishedShare == 1 && len(w.PublishedDatasourceLUIDs) != 1 {
				t.Errorf("%+v: workbook %s uses no published data source", p, w.Name)
				break
			}
		}
		if len(site.PublishedDatasources) != p.PublishedDatasources {
			t.Errorf("%+v: %d published data sources", p, len(site.PublishedDatasources))
		}
	}
}

var (
	modelPattern     = regexp.MustCompile(`^\[ANALYTICS\]\.\[MARTS_(\d+)\]\.\[model_(\d+)\]$`)
	sourcePattern    = regexp.MustCompile(`^\[ANALYTICS\]\.\[RAW\]\.\[src_\d+\]$`)
	unmatchedPattern = regexp.MustCompile(`^\[ANALYTICS\]\.\[SCRATCH\]\.\[adhoc_\d+\]$`)
)

func TestGeneratedTablesFollowDocumentedPatterns(t *testing.T) {
	p := sitegen.Params{Seed: 11, Workbooks: 500, SourceShare: 0.2, UnmatchedShare: 0.1, Schemas: 7}
	site := sitegen.Generate(p)
	counts := map[string]int{}
	for _, w := range site.Workbooks {
		for _, d := range w.EmbeddedDatasources {
			for _, tbl := range d.UpstreamTables {
				switch {
				case modelPattern.MatchString(tbl.FullName):
					counts["model"]++
					m := modelPattern.FindStringSubmatch(tbl.FullName)
					n, _ := strconv.Atoi(m[2])
					db, schema, name := sitegen.ModelRelation(7, n)
					if db != tbl.Database || schema != tbl.Schema || name != tbl.Name {
						t.Errorf("table %s disagrees with ModelRelation(7, %d) = %s.%s.%s", tbl.FullName, n, db, schema, name)
					}
				case sourcePattern.MatchString(tbl.FullName):
					counts["source"]++
				case unmatchedPattern.MatchString(tbl.FullName):
					counts["unmatched"]++
				default:
					t.Errorf("table %s follows no documented pattern", tbl.FullName)
				}
			}
		}
	}
	total := counts["model"] + counts["source"] + counts["unmatched"]
	for kind, share := range map[string]float64{"source": 0.2 * 0.9, "unmatched": 0.1} {
		got := float64(counts[kind]) / float64(total)
		if got < share*0.7 || got > share*1.3 {
			t.Errorf("%s tables are %.3f of all, want about %.3f", kind, got, share)
		}
	}
}

func TestGeneratedCustomSQL(t *testing.T) {
	site := sitegen.Generate(sitegen.Params{Seed: 5, Workbooks: 400, CustomSQLShare: 1, UnparsedSQLShare: 0.25})
	var parsed, unparsed int
	for _, w := range site.Workbooks {
		for _, d := range w.EmbeddedDatasources {
			for _, q := range d.CustomSQL {
				if len(q.Tables) > 0 {
					parsed++
				} else {
					unparsed++
				}
			}
		}
	}
	if parsed+unparsed != 400 {
		t.Fatalf("%d custom SQL queries, want one per workbook", parsed+unparsed)
	}
	if share := float64(unparsed) / 400; share < 0.15 || share > 0.35 {
		t.Errorf("unparsed share %.2f, want about 0.25", share)
	}
}

// TestGeneratedSiteServes reads a generated site back through the
// simulator's Metadata API.
func TestGeneratedSiteServes(t *testing.T) {
	site := sitegen.Generate(sitegen.Params{Seed: 3, Workbooks: 300, PublishedDatasources: 3, PublishedShare: 0.5, CustomSQLShare: 0.2})
	srv := tableausim.New(site)
	h := srv.Handler()
	token := signIn(t, h)
	total := queryTotal(t, h, token)
	if total != 300 {
		t.Errorf("workbooksConnection totalCount = %d, want 300", total)
	}
}
