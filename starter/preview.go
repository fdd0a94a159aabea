package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

const previewUsage = `preview --manifest PATH --snapshot PATH [--curation PATH] [--out PATH] [--report PATH] [--enriched-manifest PATH] [--file-path PATH] [--run-results PATH]

Computes the exposures from a dbt manifest and a Tableau snapshot without
Temporal and without network access, and prints the YAML (or writes --out).
Every file is written whole or not at all; an unchanged --out is left
untouched. Exits 1 on invalid input and 2 on invalid flags.
`

// runPreview is the preview command: the exposures pipeline offline, for CI
// jobs that review exposure changes before they merge.
func runPreview(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("preview", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: starter %s\nFlags:\n", previewUsage)
		fs.PrintDefaults()
	}
	manifestPath := fs.String("manifest", "", "dbt manifest.json, plain or gzip-compressed (required)")
	snapshotPath := fs.String("snapshot", "", "Tableau site snapshot in its JSON form (required)")
	curationPath := fs.String("curation", "", "curation file (YAML) that selects workbooks and overrides exposures")
	outPath := fs.String("out", "", "write the exposures YAML here instead of stdout; its old content is the base of the added/changed/removed report")
	reportPath := fs.String("report", "", "write the JSON run report here")
	enrichedPath := fs.String("enriched-manifest", "", "write a copy of the manifest with the exposures added, for dbt docs serve")
	runResultsPath := fs.String("run-results", "", "dbt run_results.json; adds the extracts that run made stale to the report")
	filePath := fs.String("file-path", exposures.DefaultFilePath, "path of the exposures file inside the dbt project, shown in the enriched manifest")
	maturity := fs.String("maturity", exposures.DefaultMaturity, "maturity of generated exposures (high, medium or low) unless the curation file sets one")

	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 0 {
		return previewUsageError(fs, "unexpected argument %q (flags go before arguments)", fs.Arg(0))
	}
	if *manifestPath == "" {
		return previewUsageError(fs, "missing --manifest: give the path of the dbt manifest.json")
	}
	if *snapshotPath == "" {
		return previewUsageError(fs, "missing --snapshot: give the path of the Tableau snapshot JSON")
	}
	switch *maturity {
	case "high", "medium", "low":
	default:
		return previewUsageError(fs, "invalid --maturity %q: use high, medium or low", *maturity)
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "starter preview: %v\n", err)
		return exitFailure
	}

	in, err := previewInput(*manifestPath, *snapshotPath, *curationPath, *runResultsPath, *outPath)
	if err != nil {
		fmt.Fprintf(stderr, "starter preview: %v\n", err)
		return exitFailure
	}
	in.DefaultMaturity = *maturity
	in.FilePath = *filePath

	out, err := exposures.Generate(in)
	if err != nil {
		fmt.Fprintf(stderr, "starter preview: %v\n", err)
		return exitFailure
	}

	// Every output is built before the first is written, and each is
	// written atomically, so a failure leaves no half-written file.
	var reportJSON []byte
	if *reportPath != "" {
		reportJSON, err = json.MarshalIndent(out.Report, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "starter preview: encoding the report: %v\n", err)
			return exitFailure
		}
		reportJSON = append(reportJSON, '\n')
	}
	if *enrichedPath != "" {
		if err := exposures.EnrichManifest(*manifestPath, *enrichedPath, out); err != nil {
			fmt.Fprintf(stderr, "starter preview: %v\n", err)
			return exitFailure
		}
	}
	if *reportPath != "" {
		if _, err := exposures.WriteFileAtomic(*reportPath, reportJSON); err != nil {
			fmt.Fprintf(stderr, "starter preview: writing the report: %v\n", err)
			return exitFailure
		}
	}
	if *outPath == "" {
		if _, err := stdout.Write(out.YAML); err != nil {
			fmt.Fprintf(stderr, "starter preview: writing the exposures: %v\n", err)
			return exitFailure
		}
	} else {
		changed, err := exposures.WriteFileAtomic(*outPath, out.YAML)
		if err != nil {
			fmt.Fprintf(stderr, "starter preview: writing the exposures: %v\n", err)
			return exitFailure
		}
		state := "unchanged"
		if changed {
			state = "written"
		}
		fmt.Fprintf(stderr, "%s: %s\n", *outPath, state)
	}

	r := out.Report
	fmt.Fprintf(stderr, "%d exposures: %d added, %d changed, %d removed; %d workbooks skipped; %d tables matched, %d unmatched\n",
		r.Exposures, len(r.Added), len(r.Changed), len(r.Removed), len(r.Skipped), len(r.Matched), len(r.Unmatched))
	for _, w := range r.Warnings {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	return exitOK
}

func previewUsageError(fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(fs.Output(), "starter preview: %s\n", fmt.Sprintf(format, args...))
	fs.Usage()
	return exitUsage
}

// previewInput reads every input file of the preview command.
func previewInput(manifestPath, snapshotPath, curationPath, runResultsPath, outPath string) (exposures.Input, error) {
	var in exposures.Input
	var err error

	in.Manifest, err = dbt.ReadManifestFile(manifestPath)
	if err != nil {
		return in, err
	}
	in.Snapshot, err = readSnapshotFile(snapshotPath)
	if err != nil {
		return in, err
	}
	if curationPath != "" {
		in.Curation, err = exposures.LoadCuration(curationPath)
		if err != nil {
			return in, err
		}
	}
	if runResultsPath != "" {
		in.RunResults, err = dbt.ReadRunResultsFile(runResultsPath)
		if err != nil {
			return in, err
		}
	}
	if outPath != "" {
		in.Previous, err = os.ReadFile(outPath)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return in, fmt.Errorf("reading the previous exposures file: %w", err)
		}
	}
	return in, nil
}

// readSnapshotFile reads a Tableau snapshot in its JSON form. A simulator
// site file is accepted too: its extra "simulator" object is ignored.
func readSnapshotFile(path string) (*tableau.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot: %w", err)
	}

	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot %s: not valid JSON (%v): give the file that the Tableau client or the simulator writes", path, err)
	}
	if _, ok := fields["workbooks"]; !ok {
		return nil, fmt.Errorf("reading Tableau snapshot %s: no \"workbooks\" field, so it is not a snapshot: give the file that the Tableau client or the simulator writes", path)
	}

	var snap tableau.Snapshot
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&snap); err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot %s: %w", path, err)
	}
	if snap.FormatVersion > tableau.SnapshotFormatVersion {
		return nil, fmt.Errorf("reading Tableau snapshot %s: format version %d is newer than the %d this program reads: upgrade autoexposures",
			path, snap.FormatVersion, tableau.SnapshotFormatVersion)
	}
	for i, wb := range snap.Workbooks {
		if wb.LUID == "" {
			return nil, fmt.Errorf("reading Tableau snapshot %s: workbook %d (%q) has no luid", path, i, wb.Name)
		}
	}
	return &snap, nil
}
