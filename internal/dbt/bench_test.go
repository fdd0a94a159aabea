package dbt_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/testsuite/manifestgen"
)

// BenchmarkReadManifest reads each real fixture from memory and reports,
// besides ns/op, the ratio to encoding/json decoding the same bytes into
// map[string]any (what Python's json.load does), measured in the same run.
func BenchmarkReadManifest(b *testing.B) {
	for _, file := range supportedFixtures {
		data := readFixture(b, file)
		b.Run(file, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			start := time.Now()
			for b.Loop() {
				if _, err := dbt.ReadManifest(bytes.NewReader(data), file); err != nil {
					b.Fatal(err)
				}
			}
			ours := time.Since(start) / time.Duration(b.N)

			b.StopTimer()
			const baselineRuns = 5
			baselineStart := time.Now()
			for range baselineRuns {
				var v map[string]any
				if err := json.Unmarshal(data, &v); err != nil {
					b.Fatal(err)
				}
			}
			baseline := time.Since(baselineStart) / baselineRuns
			b.ReportMetric(float64(ours)/float64(baseline), "x-encoding/json")
		})
	}
}

func BenchmarkReadRunResults(b *testing.B) {
	data := readFixture(b, runResultsFixture)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := dbt.ReadRunResults(bytes.NewReader(data), runResultsFixture); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadGeneratedManifest reads a 6,000-model manifest from
// testsuite/manifestgen (a tenth of the ingest target, about 28 MB) and
// reports the ratio to encoding/json as BenchmarkReadManifest does.
func BenchmarkReadGeneratedManifest(b *testing.B) {
	var buf bytes.Buffer
	if _, err := manifestgen.Write(&buf, manifestgen.Params{Seed: 1, Models: 6_000, Sources: 1_000}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		if _, err := dbt.ReadManifest(bytes.NewReader(data), "generated.json"); err != nil {
			b.Fatal(err)
		}
	}
	ours := time.Since(start) / time.Duration(b.N)

	b.StopTimer()
	baselineStart := time.Now()
	var v map[string]any
	if err := json.Unmarshal(data, &v); err != nil {
		b.Fatal(err)
	}
	baseline := time.Since(baselineStart)
	b.ReportMetric(float64(ours)/float64(baseline), "x-encoding/json")
}
