package exposures

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/lineage"
	"github.com/autoexposures/autoexposures/testsuite/manifestgen"
	"github.com/autoexposures/autoexposures/testsuite/sitegen"
	"go.yaml.in/yaml/v3"
)

// BenchmarkLargeProject measures the exposure step on a generated manifest
// of about 250 MB (60,000 models, 10,000 sources) and a generated site of
// 20,000 workbooks with 5 tables each. Each figure is printed next to a
// baseline measured in the same iteration:
//
//   - Generate against lineage.Compute alone, so generate/compute shows what
//     naming, curation and YAML rendering add to matching;
//   - EnrichManifest against copying the manifest file, so enrich/copy shows
//     what the streaming rewrite costs over moving the bytes.
//
// Run it alone: go test ./internal/exposures -run '^$' -bench LargeProject -benchtime 3x
func BenchmarkLargeProject(b *testing.B) {
	if testing.Short() {
		b.Skip("writes a 250 MB manifest")
	}
	dir := b.TempDir()
	manifestPath := filepath.Join(dir, "manifest.json")
	size, err := manifestgen.WriteFile(manifestPath, manifestgen.Params{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	m, err := dbt.ReadManifestFile(manifestPath)
	if err != nil {
		b.Fatal(err)
	}
	site := sitegen.Generate(sitegen.Params{Seed: 1, Workbooks: 20000})
	snap := &site.Snapshot
	b.Logf("manifest %d MB, %d nodes, %d sources; site %d workbooks", size>>20, len(m.Nodes), len(m.Sources), len(snap.Workbooks))

	var computeTime, generateTime, copyTime, enrichTime time.Duration
	var enrichAlloc uint64
	var exposureCount int
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		lineage.Compute(m, snap, lineage.Options{})
		computeTime += time.Since(start)

		start = time.Now()
		out, err := Generate(Input{Manifest: m, Snapshot: snap})
		if err != nil {
			b.Fatal(err)
		}
		generateTime += time.Since(start)
		exposureCount = len(out.Exposures)

		start = time.Now()
		if err := copyFile(manifestPath, filepath.Join(dir, "copy.json")); err != nil {
			b.Fatal(err)
		}
		copyTime += time.Since(start)

		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start = time.Now()
		if err := EnrichManifest(manifestPath, filepath.Join(dir, "enriched.json"), out); err != nil {
			b.Fatal(err)
		}
		enrichTime += time.Since(start)
		runtime.ReadMemStats(&after)
		enrichAlloc += after.TotalAlloc - before.TotalAlloc
	}
	b.StopTimer()

	n := float64(b.N)
	b.ReportMetric(float64(exposureCount), "exposures")
	b.ReportMetric(computeTime.Seconds()*1000/n, "compute_ms")
	b.ReportMetric(generateTime.Seconds()*1000/n, "generate_ms")
	b.ReportMetric(generateTime.Seconds()/computeTime.Seconds(), "generate/compute")
	b.ReportMetric(copyTime.Seconds()*1000/n, "copy_ms")
	b.ReportMetric(enrichTime.Seconds()*1000/n, "enrich_ms")
	b.ReportMetric(enrichTime.Seconds()/copyTime.Seconds(), "enrich/copy")
	b.ReportMetric(float64(enrichAlloc)/n/(1<<20), "enrich_alloc_MB")
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkRenderFile compares renderFile, which encodes exposures one by
// one, with encoding them as one YAML document, the baseline.
func BenchmarkRenderFile(b *testing.B) {
	for _, n := range []int{2000, 20000} {
		exposures := syntheticExposures(n)
		b.Run(fmt.Sprintf("one_document/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := renderOneDocument(exposures); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("per_exposure/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := renderFile(exposures, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func syntheticExposures(n int) []Exposure {
	out := make([]Exposure, n)
	for i := range out {
		out[i] = Exposure{
			Name: fmt.Sprintf("workbook_%d", i), Label: fmt.Sprintf("Workbook %d", i), Maturity: "medium",
			URL:          fmt.Sprintf("https://tableau.example.com/#/site/acme/workbooks/%d", i),
			Description:  "Tableau workbook in project Sales.\n\nDashboards:\n- Overview\n- Detail",
			Owner:        Owner{Name: "Ana", Email: "ana@example.com"},
			DependsOn:    []string{"ref('customers')", "ref('orders')", "source('raw', 'payments')"},
			WorkbookLUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i), Project: "Sales", Collections: []string{"Executive"},
		}
	}
	return out
}

// renderOneDocument encodes the exposures as a single YAML document.
func renderOneDocument(exposures []Exposure) ([]byte, error) {
	list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	for _, e := range exposures {
		list.Content = append(list.Content, exposureNode(e, true))
	}
	root := mapping("version", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: "2"}, "exposures", list)
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	err := enc.Close()
	return buf.Bytes(), err
}

// TestRenderFileMatchesOneDocument checks that encoding exposures one by one
// and indenting them gives the bytes of encoding them as one document.
func TestRenderFileMatchesOneDocument(t *testing.T) {
	exposures := syntheticExposures(3)
	exposures[1].Description = "  leading spaces\n\nand a \"quote\": here\n"
	exposures[2].Label = "📊 long label: " + strings.Repeat("word ", 80)
	got, err := renderFile(exposures, true)
	if err != nil {
		t.Fatal(err)
	}
	want, err := renderOneDocument(exposures)
	if err != nil {
		t.Fatal(err)
	}
	got = bytes.TrimPrefix(got, []byte(fileHeader))
	if !bytes.Equal(want, got) {
		t.Errorf("per-exposure rendering differs from one document (-want +got):\n%s", lineDiff(string(want), string(got)))
	}
}
