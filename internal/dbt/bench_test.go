package dbt_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
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
