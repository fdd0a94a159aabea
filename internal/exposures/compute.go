package exposures

import (
	"slices"
	"strings"
	"time"

	"github.com/autoexposures/autoexposures/internal/lineage"
)

// Generate computes the lineage of every workbook of the snapshot against
// the manifest and builds the exposures file and the run report. With run
// results, the report also lists the extracts that run made stale.
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
		out.Report.setStale(lineage.FindStale(in.Manifest, in.Snapshot, res, in.RunResults), out.Exposures)
	}
	return out, nil
}

// setStale copies a staleness report into the run report, with the names
// of the exposures each stale extract serves.
func (r *Report) setStale(s lineage.StaleReport, exposures []Exposure) {
	nameByLUID := make(map[string]string, len(exposures))
	for _, e := range exposures {
		nameByLUID[strings.ToLower(e.WorkbookLUID)] = e.Name
	}
	section := &StaleSection{Command: s.Command, Note: s.CommandNote, Extracts: []StaleExtract{}, Ignored: []IgnoredResult{}}
	for _, e := range s.Extracts {
		x := StaleExtract{
			LUID:          e.LUID,
			Published:     e.Published,
			Name:          e.Name,
			DatasourceID:  e.DatasourceID,
			RebuiltAt:     e.RebuiltAt.UTC().Format(time.RFC3339Nano),
			Exposures:     nonNil(e.Exposures),
			ExposureNames: []string{},
			Models:        nonNil(e.Models),
		}
		for _, luid := range e.Exposures {
			if name, ok := nameByLUID[strings.ToLower(luid)]; ok {
				x.ExposureNames = append(x.ExposureNames, name)
			}
		}
		slices.Sort(x.ExposureNames)
		if e.LastRefresh != nil {
			x.LastRefresh = e.LastRefresh.UTC().Format(time.RFC3339Nano)
		}
		section.Extracts = append(section.Extracts, x)
	}
	for _, i := range s.Ignored {
		section.Ignored = append(section.Ignored, IgnoredResult{UniqueID: i.UniqueID, Status: i.Status, Exposures: nonNil(i.Exposures)})
	}
	r.Stale = section
	if s.CommandNote != "" {
		r.Warnings = append(r.Warnings, s.CommandNote)
	}
}
