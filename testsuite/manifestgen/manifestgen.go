// Package manifestgen writes large synthetic dbt manifests (schema v12,
// dbt 1.8), deterministically from a seed, for benchmarks and load tests.
//
// A generated manifest looks like one a big Snowflake project writes. Model
// nodes carry raw and compiled SQL, documented columns and the full config.
// Tests, macros, parent_map and child_map are there too, as in real
// projects. The defaults (seed 1, 60,000 models, 10,000 sources) give a file
// of 277.6 MB, about 4.6 KB per model.
//
// # Relations
//
// Relations follow the same patterns as the Tableau sites of
// testsuite/sitegen, so that a generated site matches a generated manifest:
//
//	model n:  database ANALYTICS, schema MARTS_<n mod Schemas>, alias model_<n>
//	source n: database ANALYTICS, schema RAW, identifier src_<n>
//
// with n from 0 to Models-1 (or Sources-1). Model n is named model_<n> in
// dbt too, in the project's package. Every 100th model (n mod 100 = 99) is
// ephemeral and every 1,000th (n mod 1000 = 999) is disabled and written to
// the manifest's disabled section: ModelState returns which, and neither has a
// relation to match.
package manifestgen

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Database is the database of every generated relation.
const Database = "ANALYTICS"

// Params sizes a generated manifest. Zero values get the defaults named on
// each field.
type Params struct {
	// Seed makes the output reproducible: the same Params give the same
	// bytes.
	Seed uint64
	// Models is the number of models, 60,000 by default.
	Models int
	// Sources is the number of source tables, 10,000 by default.
	Sources int
	// Schemas is the number of MARTS_<n> schemas, 10 by default as in
	// testsuite/sitegen.
	Schemas int
	// Columns is the number of documented columns per model, 3 by default.
	Columns int
	// Macros is the number of macros, 1,000 by default.
	Macros int
	// Exposures is the number of hand-written exposures, 20 by default.
	Exposures int
	// Project is the dbt project name, "warehouse" by default.
	Project string
}

func (p Params) withDefaults() Params {
	if p.Models <= 0 {
		p.Models = 60_000
	}
	if p.Sources <= 0 {
		p.Sources = 10_000
	}
	if p.Schemas <= 0 {
		p.Schemas = 10
	}
	if p.Columns <= 0 {
		p.Columns = 3
	}
	if p.Macros <= 0 {
		p.Macros = 1_000
	}
	if p.Exposures <= 0 {
		p.Exposures = 20
	}
	if p.Project == "" {
		p.Project = "warehouse"
	}
	return p
}

// ModelRelation returns the relation of generated model n for a manifest
// with the given number of schemas: database, schema and table name.
func ModelRelation(schemas, n int) (database, schema, table string) {
	return Database, fmt.Sprintf("MARTS_%d", n%schemas), fmt.Sprintf("model_%d", n)
}

// SourceRelation returns the relation of generated source n.
func SourceRelation(n int) (database, schema, table string) {
	return Database, "RAW", fmt.Sprintf("src_%d", n)
}

// ModelState returns generated model n's materialization and whether it is
// enabled.
func ModelState(n int) (materialized string, enabled bool) {
	switch {
	case n%1000 == 999:
		return "table", false
	case n%100 == 99:
		return "ephemeral", true
	case n%3 == 0:
		return "view", true
	case n%3 == 1:
		return "incremental", true
	}
	return "table", true
}

// SourceName returns the dbt source (the group in sources.yml) that source
// table n belongs to: raw_<n / 100>.
func SourceName(n int) string { return fmt.Sprintf("raw_%d", n/100) }

// baseTime anchors generated timestamps, so that they do not depend on the
// day the generator runs.
var baseTime = time.Date(2026, 1, 1, 6, 0, 0, 0, time.UTC)

// WriteFile writes a manifest to path through a temporary file in the same
// directory, renamed into place when complete.
func WriteFile(path string, p Params) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".manifest-*.json")
	if err != nil {
		return 0, fmt.Errorf("creating manifest: %w", err)
	}
	defer os.Remove(tmp.Name())

	n, err := Write(tmp, p)
	if err != nil {
		tmp.Close()
		return n, err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return n, fmt.Errorf("writing manifest: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return n, fmt.Errorf("writing manifest: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("renaming manifest: %w", err)
	}
	return n, nil
}

// Write writes a manifest to w and returns the number of bytes written.
func Write(w io.Writer, p Params) (int64, error) {
	p = p.withDefaults()
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 1<<20)
	g := &generator{
		p:   p,
		rng: rand.New(rand.NewPCG(p.Seed, p.Seed^0x9e3779b97f4a7c15)),
		out: bw,
	}
	g.planDependencies()
	g.write()
	if g.err == nil {
		g.err = bw.Flush()
	}
	if g.err != nil {
		return cw.n, fmt.Errorf("writing manifest: %w", g.err)
	}
	return cw.n, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

type generator struct {
	p   Params
	rng *rand.Rand
	out *bufio.Writer
	err error
	buf []byte

	// modelDeps[n] and sourceDeps[n] are the models and sources model n
	// selects from.
	modelDeps  [][]int32
	sourceDeps [][]int32
	// tests[n] is the number of tests on model n: one in ten models has
	// one or two.
	tests []uint8
	// testIDs[n] are the unique IDs of the tests on model n.
	testIDs [][]string
}

// flush writes the node built in buf.
func (g *generator) flush() {
	if g.err == nil {
		_, g.err = g.out.Write(g.buf)
	}
	g.buf = g.buf[:0]
}

// planDependencies draws the DAG. The first tenth of the models are
// staging models that read one or two sources. The others read one to
// three earlier enabled models.
func (g *generator) planDependencies() {
	p := g.p
	g.modelDeps = make([][]int32, p.Models)
	g.sourceDeps = make([][]int32, p.Models)
	g.tests = make([]uint8, p.Models)
	g.testIDs = make([][]string, p.Models)
	staging := max(p.Models/10, 1)
	for n := range p.Models {
		if g.rng.IntN(10) == 0 {
			g.tests[n] = 1 + uint8(g.rng.IntN(2))
		}
		if n < staging {
			for range 1 + g.rng.IntN(2) {
				g.sourceDeps[n] = append(g.sourceDeps[n], int32(g.rng.IntN(p.Sources)))
			}
			continue
		}
		for range 1 + g.rng.IntN(3) {
			d := g.rng.IntN(n)
			if _, enabled := ModelState(d); !enabled {
				d--
			}
			g.modelDeps[n] = append(g.modelDeps[n], int32(d))
		}
	}
}

func (g *generator) modelID(n int) string {
	return "model." + g.p.Project + ".model_" + strconv.Itoa(n)
}

func (g *generator) sourceID(n int) string {
	_, _, table := SourceRelation(n)
	return "source." + g.p.Project + "." + SourceName(n) + "." + table
}

func (g *generator) write() {
	p := g.p
	b := g.buf
	b = append(b, `{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.8.8", "generated_at": `...)
	b = appendString(b, baseTime.Format("2006-01-02T15:04:05.000000Z"))
	b = append(b, `, "invocation_id": `...)
	b = appendString(b, g.uuid())
	b = append(b, `, "env": {}, "project_name": `...)
	b = appendString(b, p.Project)
	b = append(b, `, "project_id": `...)
	b = appendString(b, g.hex(32))
	b = append(b, `, "user_id": null, "send_anonymous_usage_stats": false, "adapter_type": "snowflake"}, "nodes": {`...)
	g.buf = b
	g.flush()

	first := true
	for n := range p.Models {
		if _, enabled := ModelState(n); !enabled {
			continue
		}
		g.separator(&first)
		g.buf = appendString(g.buf, g.modelID(n))
		g.buf = append(g.buf, ": "...)
		g.model(n)
		g.flush()
		for t := range int(g.tests[n]) {
			g.separator(&first)
			g.test(n, t)
			g.flush()
		}
	}

	g.buf = append(g.buf, `}, "sources": {`...)
	for n := range p.Sources {
		if n > 0 {
			g.buf = append(g.buf, ", "...)
		}
		g.source(n)
		g.flush()
	}

	g.buf = append(g.buf, `}, "macros": {`...)
	for n := range p.Macros {
		if n > 0 {
			g.buf = append(g.buf, ", "...)
		}
		g.macro(n)
		g.flush()
	}

	g.buf = append(g.buf, `}, "docs": {"doc.dbt.__overview__": {"name": "__overview__", "resource_type": "doc", "package_name": "dbt", "path": "overview.md", "original_file_path": "docs/overview.md", "unique_id": "doc.dbt.__overview__", "block_contents": "### Welcome!\n\nWelcome to the auto-generated documentation for your dbt project!"}}, "exposures": {`...)
	for n := range p.Exposures {
		if n > 0 {
			g.buf = append(g.buf, ", "...)
		}
		g.exposure(n)
		g.flush()
	}

	g.buf = append(g.buf, `}, "metrics": {}, "groups": {}, "selectors": {}, "disabled": {`...)
	first = true
	for n := range p.Models {
		if _, enabled := ModelState(n); enabled {
			continue
		}
		g.separator(&first)
		g.buf = appendString(g.buf, g.modelID(n))
		g.buf = append(g.buf, ": ["...)
		g.model(n)
		g.buf = append(g.buf, ']')
		g.flush()
	}
	g.buf = append(g.buf, `}, "parent_map": {`...)
	g.flush()
	g.parentMap()
	g.buf = append(g.buf, `}, "child_map": {`...)
	g.flush()
	g.childMap()
	g.buf = append(g.buf, `}, "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {}}`...)
	g.flush()
}

func (g *generator) separator(first *bool) {
	if !*first {
		g.buf = append(g.buf, ", "...)
	}
	*first = false
}

func (g *generator) uuid() string {
	h := g.hex(32)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

func (g *generator) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

// createdAt returns a created_at value as dbt writes it: Unix seconds.
func (g *generator) createdAt() float64 {
	return float64(baseTime.Unix()) + g.rng.Float64()*3600
}
