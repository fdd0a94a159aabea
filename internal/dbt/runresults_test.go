package dbt_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

const runResultsFixture = "artifacts-parser_jaffle_shop_run_results_v6_dbt1.12.json"

// referenceRunResults decodes run results with encoding/json.
func referenceRunResults(t *testing.T, data []byte) []dbt.RunResult {
	t.Helper()
	var ref struct {
		Results []struct {
			UniqueID string `json:"unique_id"`
			Status   string `json:"status"`
			Timing   []struct {
				Name        string    `json:"name"`
				CompletedAt time.Time `json:"completed_at"`
			} `json:"timing"`
		} `json:"results"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	var out []dbt.RunResult
	for _, r := range ref.Results {
		res := dbt.RunResult{UniqueID: r.UniqueID, Status: r.Status}
		for _, tm := range r.Timing {
			if tm.Name == "execute" {
				res.CompletedAt = tm.CompletedAt
			}
		}
		out = append(out, res)
	}
	return out
}

func TestReadRunResultsFixture(t *testing.T) {
	data := readFixture(t, runResultsFixture)
	const v6 = "https://schemas.getdbt.com/dbt/run-results/v6.json"
	for _, version := range []int{4, 5, 6} {
		input := bytes.Replace(data, []byte(v6), []byte(strings.Replace(v6, "v6", "v"+string(rune('0'+version)), 1)), 1)
		for _, gz := range []bool{false, true} {
			encoded := input
			if gz {
				encoded = gzipBytes(t, input)
			}
			rr, err := dbt.ReadRunResults(iotest.HalfReader(bytes.NewReader(encoded)), "run_results.json")
			if err != nil {
				t.Fatalf("v%d gzip %v: %v", version, gz, err)
			}
			want := &dbt.RunResults{
				SchemaVersion: version,
				InvocationID:  "24ad943b-c71e-497c-be0b-d037a3c525ad",
				GeneratedAt:   mustTime(t, "2026-08-10T07:03:39.914971Z"),
				Command:       "generate",
				Results:       referenceRunResults(t, data),
			}
			if diff := cmp.Diff(want, rr); diff != "" {
				t.Errorf("v%d gzip %v (-want +got):\n%s", version, gz, diff)
			}
		}
	}

	rr, err := dbt.ReadRunResultsFile(fixture(runResultsFixture))
	if err != nil {
		t.Fatal(err)
	}
	first := dbt.RunResult{
		UniqueID:    "model.jaffle_shop.metricflow_time_spine",
		Status:      "success",
		CompletedAt: mustTime(t, "2026-08-10T07:03:39.697175Z"),
	}
	if diff := cmp.Diff(first, rr.Results[0]); diff != "" {
		t.Errorf("first result (-want +got):\n%s", diff)
	}
	if len(rr.Results) != 46 {
		t.Errorf("%d results, want 46", len(rr.Results))
	}
}

func TestReadRunResultsStatuses(t *testing.T) {
	input := `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v5.json", "generated_at": "2024-01-02T03:04:05"},
	"results": [
		{"unique_id": "model.p.skipped", "status": "skipped", "timing": []},
		{"unique_id": "model.p.error", "status": "error", "timing": [{"name": "compile", "completed_at": "2024-01-02T03:00:00Z"}]},
		{"unique_id": "model.p.ok", "status": "success", "timing": [{"name": "execute", "started_at": null, "completed_at": "2024-01-02T03:01:00.5+02:00"}], "message": "OK"},
		{"unique_id": "model.p.null_timing", "status": "success", "timing": null}
	], "elapsed_time": 1.5}`
	rr, err := dbt.ReadRunResults(strings.NewReader(input), "run_results.json")
	if err != nil {
		t.Fatal(err)
	}
	want := &dbt.RunResults{
		SchemaVersion: 5,
		GeneratedAt:   time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC),
		Results: []dbt.RunResult{
			{UniqueID: "model.p.skipped", Status: "skipped"},
			{UniqueID: "model.p.error", Status: "error"},
			{UniqueID: "model.p.ok", Status: "success", CompletedAt: time.Date(2024, 1, 2, 3, 1, 0, 5e8, time.FixedZone("", 2*3600))},
			{UniqueID: "model.p.null_timing", Status: "success"},
		},
	}
	if diff := cmp.Diff(want, rr); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestReadRunResultsCommand checks that args.which, the command that wrote
// the file, is kept, whatever its place among the other arguments.
func TestReadRunResultsCommand(t *testing.T) {
	const head = `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json"}, "results": []`
	tests := []struct {
		name string
		args string
		want string
	}{
		{"no args", ``, ""},
		{"null args", `, "args": null`, ""},
		{"null which", `, "args": {"which": null}`, ""},
		{"build", `, "args": {"vars": {"which": "nested"}, "which": "build", "select": ["a"]}`, "build"},
		{"docs generate", `, "args": {"which": "generate", "invocation_command": "dbt docs generate"}`, "generate"},
		{"run-operation", `, "args": {"which": "run-operation", "macro": "grant"}`, "run-operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rr, err := dbt.ReadRunResults(strings.NewReader(head+tt.args+"}"), "run_results.json")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, rr.Command); diff != "" {
				t.Errorf("Command (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadRunResultsErrors(t *testing.T) {
	data := readFixture(t, runResultsFixture)
	const v6 = "https://schemas.getdbt.com/dbt/run-results/v6.json"
	tests := []struct {
		name  string
		input []byte
		want  []string
	}{
		{"empty", nil, []string{"an empty file", "dbt run_results.json of schema v4 to v6"}},
		{"manifest", readFixture(t, "dbt-metabase_manifest-v12.json"), []string{"a dbt manifest.json (schema v12, dbt 1.8.6)", "pass the run_results.json"}},
		{"v3", bytes.Replace(data, []byte(v6), []byte("https://schemas.getdbt.com/dbt/run-results/v3.json"), 1), []string{"schema v3", "older than supported"}},
		{"v7", bytes.Replace(data, []byte(v6), []byte("https://schemas.getdbt.com/dbt/run-results/v7.json"), 1), []string{"schema v7", "newer than supported"}},
		{"truncated", data[:len(data)/2], []string{"truncated JSON", "in results["}},
		{"truncated gzip", gzipBytes(t, data)[:1000], []string{"truncated or corrupt gzip"}},
		{"no metadata", []byte(`{"results": []}`), []string{"without metadata.dbt_schema_version"}},
		{"results not a list", []byte(`{"metadata": {"dbt_schema_version": "` + v6 + `"}, "results": {}}`), []string{"results is an object", "a list was expected"}},
		{"args a list", []byte(`{"metadata": {"dbt_schema_version": "` + v6 + `"}, "args": [], "results": []}`), []string{"args is an array", "an object or null was expected"}},
		{"which a number", []byte(`{"metadata": {"dbt_schema_version": "` + v6 + `"}, "args": {"which": 3}, "results": []}`), []string{"args.which is a number"}},
		{"status a number", []byte(`{"metadata": {"dbt_schema_version": "` + v6 + `"}, "results": [{"status": 1}]}`), []string{"results[0].status is a number"}},
		{"bad completed_at", []byte(`{"metadata": {"dbt_schema_version": "` + v6 + `"}, "results": [{"timing": [{"name": "execute", "completed_at": "noon"}]}]}`),
			[]string{`results[0].timing[].completed_at is "noon"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dbt.ReadRunResults(bytes.NewReader(tt.input), "target/run_results.json")
			if !errors.Is(err, dbt.ErrInvalidArtifact) {
				t.Fatalf("got %v, want an error matching ErrInvalidArtifact", err)
			}
			for _, want := range append([]string{"target/run_results.json"}, tt.want...) {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message does not contain %q:\n%s", want, err)
				}
			}
		})
	}
}
