//go:build lineage_compute

package exposures

import (
	"github.com/autoexposures/autoexposures/internal/lineage"
)

// Generate computes the lineage of every workbook of the snapshot against
// the manifest and builds the exposures file and the run report.
func Generate(in Input) (*Output, error) {
	if in.Manifest == nil || in.Snapshot == nil {
		return build(in, nil)
	}
	res := lineage.Compute(in.Manifest, in.Snapshot, lineage.Options{})
	out, err := build(in, res)
	if err != nil {
		return nil, err
	}
	if in.RunResults != nil {
		out.Report.setStale(lineage.FindStale(in.Manifest, in.Snapshot, res, in.RunResults))
	}
	return out, nil
}
