// Command genmanifest writes a synthetic dbt manifest.json for benchmarks
// and load tests; see package testsuite/manifestgen for its contents.
//
//	go run ./testsuite/cmd/genmanifest --out /tmp/manifest.json --models 60000 --sources 10000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/autoexposures/autoexposures/testsuite/manifestgen"
)

func main() {
	var p manifestgen.Params
	out := flag.String("out", "manifest.json", "path of the manifest to write")
	flag.Uint64Var(&p.Seed, "seed", 1, "random seed; the same flags give the same bytes")
	flag.IntVar(&p.Models, "models", 60_000, "number of models")
	flag.IntVar(&p.Sources, "sources", 10_000, "number of source tables")
	flag.IntVar(&p.Schemas, "schemas", 10, "number of MARTS_<n> schemas the models are spread over")
	flag.IntVar(&p.Columns, "columns", 3, "documented columns per model")
	flag.IntVar(&p.Macros, "macros", 1_000, "number of macros")
	flag.IntVar(&p.Exposures, "exposures", 20, "number of hand-written exposures")
	flag.StringVar(&p.Project, "project", "warehouse", "dbt project name")
	flag.Parse()

	n, err := manifestgen.WriteFile(*out, p)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genmanifest:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s: %d bytes\n", *out, n)
}
