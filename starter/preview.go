package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	iofs "io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/autoexposures/autoexposures/internal/dbt"
	"github.com/autoexposures/autoexposures/internal/exposures"
	"github.com/autoexposures/autoexposures/internal/tableau"
)

const previewUsage = `preview --manifest PATH --snapshot PATH [--curation PATH] [--out PATH] [--report PATH] [--enriched-manifest PATH] [--file-path PATH] [--run-results PATH] [--force]

Computes the exposures from a dbt manifest and a Tableau snapshot without
Temporal and without network access, and prints the YAML (or writes --out).
The output paths are checked first, every output is written to a temporary
file, and the temporary files are renamed into place only when all of them
are written, so a failed run changes no output. An unchanged --out is left
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
	snapshotPath := fs.String("snapshot", "", "Tableau site snapshot in its JSON form, plain or gzip-compressed (required)")
	curationPath := fs.String("curation", "", "curation file (YAML) that selects workbooks and overrides exposures")
	outPath := fs.String("out", "", "write the exposures YAML here (.yml or .yaml) instead of stdout; its old content is the base of the added/changed/removed report")
	reportPath := fs.String("report", "", "write the JSON run report here")
	enrichedPath := fs.String("enriched-manifest", "", "write a copy of the manifest with the exposures added, for dbt docs serve")
	runResultsPath := fs.String("run-results", "", "dbt run_results.json; adds the extracts that run made stale to the report")
	filePath := fs.String("file-path", exposures.DefaultFilePath, "path of the exposures file inside the dbt project, shown in the enriched manifest")
	maturity := fs.String("maturity", exposures.DefaultMaturity, "maturity of generated exposures (high, medium or low) unless the curation file sets one")
	force := fs.Bool("force", false, "replace an existing --out file that autoexposures did not write")

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
	paths := previewPaths{
		manifest: *manifestPath, snapshot: *snapshotPath, curation: *curationPath, runResults: *runResultsPath,
		out: *outPath, report: *reportPath, enriched: *enrichedPath,
	}
	if msg := paths.checkFlags(); msg != "" {
		return previewUsageError(fs, "%s", msg)
	}
	if err := ctx.Err(); err != nil {
		fmt.Fprintf(stderr, "starter preview: %v\n", err)
		return exitFailure
	}
	if err := paths.checkFiles(*force); err != nil {
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

	outState, err := writePreviewOutputs(paths, in.Previous, out)
	if err != nil {
		fmt.Fprintf(stderr, "starter preview: %v\n", err)
		return exitFailure
	}
	if *outPath == "" {
		if _, err := stdout.Write(out.YAML); err != nil {
			fmt.Fprintf(stderr, "starter preview: writing the exposures: %v\n", err)
			return exitFailure
		}
	} else {
		fmt.Fprintf(stderr, "%s: %s\n", *outPath, outState)
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

// previewPaths are the input and output paths of a preview run.
type previewPaths struct {
	manifest, snapshot, curation, runResults string
	out, report, enriched                    string
}

// checkFlags returns what is wrong with the output flags on their own, or
// "". It rejects an --out that is not YAML and two flags that name the same
// file where one would overwrite the other. --enriched-manifest may name
// the --manifest file, because the copy is complete before it replaces it.
func (p previewPaths) checkFlags() string {
	if p.out != "" {
		ext := strings.ToLower(filepath.Ext(p.out))
		if ext != ".yml" && ext != ".yaml" {
			return fmt.Sprintf("--out %q does not end in .yml or .yaml: dbt reads property files only with those extensions", p.out)
		}
	}
	type named struct{ flag, path string }
	outputs := []named{{"--out", p.out}, {"--report", p.report}, {"--enriched-manifest", p.enriched}}
	inputs := []named{{"--manifest", p.manifest}, {"--snapshot", p.snapshot}, {"--curation", p.curation}, {"--run-results", p.runResults}}
	for i, o := range outputs {
		if o.path == "" {
			continue
		}
		for _, other := range append(slices.Clone(outputs[i+1:]), inputs...) {
			if other.path == "" || (o.flag == "--enriched-manifest" && other.flag == "--manifest") {
				continue
			}
			if samePath(o.path, other.path) {
				return fmt.Sprintf("%s and %s name the same file %s: give %s another path", o.flag, other.flag, o.path, o.flag)
			}
		}
	}
	return ""
}

// checkFiles checks the outputs against the file system before anything is
// computed. Each directory must exist, no output may be a directory, and an
// existing --out must have been written by autoexposures unless force is
// set.
func (p previewPaths) checkFiles(force bool) error {
	for _, o := range []struct{ flag, path string }{{"--out", p.out}, {"--report", p.report}, {"--enriched-manifest", p.enriched}} {
		if o.path == "" {
			continue
		}
		dir := filepath.Dir(o.path)
		info, err := os.Stat(dir)
		if err != nil {
			return fmt.Errorf("%s %s: directory %s not found: create it first", o.flag, o.path, dir)
		}
		if !info.IsDir() {
			return fmt.Errorf("%s %s: %s is not a directory", o.flag, o.path, dir)
		}
		info, err = os.Stat(o.path)
		if errors.Is(err, iofs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", o.flag, o.path, err)
		}
		if !info.Mode().IsRegular() {
			return fmt.Errorf("%s %s is a directory or another special file: give the path of a file", o.flag, o.path)
		}
		if o.flag != "--out" || force {
			continue
		}
		data, err := os.ReadFile(o.path)
		if err != nil {
			return fmt.Errorf("reading the previous exposures file: %w", err)
		}
		if len(data) > 0 && !exposures.IsGeneratedFile(data) {
			return fmt.Errorf("--out %s was not written by autoexposures (it lacks the generated header), so replacing it could lose hand-written YAML: choose another path, or give --force to replace it", o.path)
		}
	}
	return nil
}

// samePath reports whether two paths name the same file: the same path once
// made absolute, or the same existing file through a link.
func samePath(a, b string) bool {
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	if errA == nil && errB == nil && absA == absB {
		return true
	}
	infoA, errA := os.Stat(a)
	infoB, errB := os.Stat(b)
	return errA == nil && errB == nil && os.SameFile(infoA, infoB)
}

// writePreviewOutputs writes the report, the enriched manifest and --out
// all or nothing: each goes to a temporary file next to its target, and
// the temporary files are renamed only when all are written. It returns
// whether --out was "written" or "unchanged".
//
// NOTE: the renames are separate system calls, so a rename that fails
// after another succeeded leaves the earlier outputs replaced.
func writePreviewOutputs(p previewPaths, previous []byte, out *exposures.Output) (string, error) {
	var staged stagedFiles
	defer staged.discard()

	if p.report != "" {
		data, err := json.MarshalIndent(out.Report, "", "  ")
		if err != nil {
			return "", fmt.Errorf("encoding the report: %w", err)
		}
		if err := staged.add(p.report, append(data, '\n'), nil); err != nil {
			return "", fmt.Errorf("writing the report: %w", err)
		}
	}
	if p.enriched != "" {
		write := func(tmp string) error { return exposures.EnrichManifest(p.manifest, tmp, out) }
		if err := staged.add(p.enriched, nil, write); err != nil {
			return "", err
		}
	}
	outState := "unchanged"
	if p.out != "" && (previous == nil || !bytes.Equal(previous, out.YAML)) {
		outState = "written"
		if err := staged.add(p.out, out.YAML, nil); err != nil {
			return "", fmt.Errorf("writing the exposures: %w", err)
		}
	}
	if err := staged.commit(); err != nil {
		return "", err
	}
	return outState, nil
}

// stagedFiles are temporary files waiting to be renamed to their targets.
type stagedFiles struct {
	tmp, target []string
}

// add creates a temporary file next to target and fills it with data, or
// with write when data is nil. The temporary file keeps the mode of an
// existing target.
func (s *stagedFiles) add(target string, data []byte, write func(tmp string) error) (err error) {
	dir := filepath.Dir(target)
	f, err := os.CreateTemp(dir, "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	s.tmp = append(s.tmp, f.Name())
	s.target = append(s.target, target)

	perm := iofs.FileMode(0o644)
	if info, err := os.Stat(target); err == nil {
		perm = info.Mode().Perm()
	}
	if write == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
	}
	if closeErr := f.Close(); err == nil {
		err = closeErr
	}
	if err == nil && write != nil {
		err = write(f.Name())
	}
	if err == nil {
		err = os.Chmod(f.Name(), perm)
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", target, err)
	}
	return nil
}

// commit renames every temporary file to its target and syncs the
// directories. A temporary file that was not renamed is removed by discard.
func (s *stagedFiles) commit() error {
	dirs := map[string]bool{}
	for i := range s.tmp {
		if err := os.Rename(s.tmp[i], s.target[i]); err != nil {
			return fmt.Errorf("writing %s: %w", s.target[i], err)
		}
		s.tmp[i] = ""
		dirs[filepath.Dir(s.target[i])] = true
	}
	for dir := range dirs {
		if d, err := os.Open(dir); err == nil {
			// Some file systems cannot sync a directory, and the files
			// are in place either way.
			_ = d.Sync()
			_ = d.Close()
		}
	}
	return nil
}

// discard removes the temporary files that were not renamed.
func (s *stagedFiles) discard() {
	for _, tmp := range s.tmp {
		if tmp != "" {
			_ = os.Remove(tmp)
		}
	}
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
		if err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return in, fmt.Errorf("reading the previous exposures file: %w", err)
		}
	}
	return in, nil
}

// readSnapshotFile reads a Tableau snapshot in its JSON form, plain or
// gzip-compressed, with or without a UTF-8 byte order mark. A simulator
// site file is accepted too: its extra "simulator" object is ignored.
func readSnapshotFile(path string) (*tableau.Snapshot, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot: %w", err)
	}
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err == nil {
			data, err = io.ReadAll(zr)
		}
		if err != nil {
			return nil, fmt.Errorf("reading Tableau snapshot %s: it starts like a gzip file but is not valid gzip (%v): give the plain JSON or compress it again", path, err)
		}
	}
	data = bytes.TrimPrefix(data, []byte("\ufeff"))

	const fix = "give the file that the Tableau client or the simulator writes"
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot %s: %s: %s", path, describeJSONError(data, err), fix)
	}
	if _, ok := fields["workbooks"]; !ok {
		return nil, fmt.Errorf("reading Tableau snapshot %s: no \"workbooks\" field, so it is not a snapshot: %s", path, fix)
	}

	var snap tableau.Snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return nil, fmt.Errorf("reading Tableau snapshot %s: %s: %s", path, describeJSONError(data, err), fix)
	}
	switch _, ok := fields["formatVersion"]; {
	case !ok:
		return nil, fmt.Errorf("reading Tableau snapshot %s: no formatVersion field, where a snapshot has \"formatVersion\": %d at the top level: %s",
			path, tableau.SnapshotFormatVersion, fix)
	case snap.FormatVersion < 1:
		return nil, fmt.Errorf("reading Tableau snapshot %s: formatVersion %d is invalid, where a snapshot has formatVersion %d: %s",
			path, snap.FormatVersion, tableau.SnapshotFormatVersion, fix)
	case snap.FormatVersion > tableau.SnapshotFormatVersion:
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

// describeJSONError turns an encoding/json error into a message with the
// line and column, and for a value of the wrong type the field path, in
// words rather than Go types.
func describeJSONError(data []byte, err error) string {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntaxErr):
		line, col := lineColumn(data, syntaxErr.Offset)
		return fmt.Sprintf("not valid JSON at line %d, column %d (%s)", line, col, syntaxErr.Error())
	case errors.As(err, &typeErr):
		line, _ := lineColumn(data, typeErr.Offset)
		field := typeErr.Field
		if field == "" {
			field = "the top level"
		} else {
			field = "field " + field
		}
		return fmt.Sprintf("line %d: %s holds %s where %s is expected", line, field, jsonValueWords(typeErr.Value), jsonKindWords(typeErr.Type.Kind()))
	}
	return "not valid JSON (" + strings.TrimPrefix(err.Error(), "json: ") + ")"
}

// lineColumn converts the byte count that encoding/json reports (the
// bytes read up to and including the offending one) into a 1-based line
// and column.
func lineColumn(data []byte, offset int64) (line, col int) {
	end := int(min(max(offset-1, 0), int64(len(data))))
	before := data[:end]
	line = bytes.Count(before, []byte("\n")) + 1
	col = end - bytes.LastIndexByte(before, '\n')
	return line, col
}

func jsonValueWords(v string) string {
	switch v {
	case "number", "string", "object":
		return "a " + v
	case "array":
		return "a list"
	case "bool":
		return "true or false"
	}
	return v
}

func jsonKindWords(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "a number"
	}
	return k.String()
}
