// Command readmanifest reads a dbt manifest with internal/dbt, indexes its
// relations as lineage does, and prints the time taken and the peak RSS of
// the process as one JSON line, for bench/manifest/run.sh.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/autoexposures/autoexposures/internal/dbt"
)

type report struct {
	File       string  `json:"file"`
	Seconds    float64 `json:"seconds"`
	PeakRSSKiB int64   `json:"peak_rss_kib"`
	Nodes      int     `json:"nodes"`
	Sources    int     `json:"sources"`
	Exposures  int     `json:"exposures"`
	Relations  int     `json:"relations"`
}

func main() {
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: readmanifest MANIFEST")
		os.Exit(2)
	}
	path := flag.Arg(0)

	start := time.Now()
	m, err := dbt.ReadManifestFile(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "readmanifest:", err)
		os.Exit(1)
	}
	relations := index(m)
	elapsed := time.Since(start)

	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		fmt.Fprintln(os.Stderr, "readmanifest: getrusage:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(report{
		File:       path,
		Seconds:    elapsed.Seconds(),
		PeakRSSKiB: usage.Maxrss, // Linux reports kilobytes
		Nodes:      len(m.Nodes),
		Sources:    len(m.Sources),
		Exposures:  len(m.Exposures),
		Relations:  len(relations),
	})
	fmt.Println(string(out))
}

// index maps each relation, as lower-case database.schema.table, to the
// unique IDs built there: the lookup lineage matching starts from.
func index(m *dbt.Manifest) map[string][]string {
	relations := make(map[string][]string, len(m.Nodes)+len(m.Sources))
	for _, n := range m.Nodes {
		if !n.HasRelation() {
			continue
		}
		key := strings.ToLower(n.Database + "." + n.Schema + "." + n.Alias)
		relations[key] = append(relations[key], n.UniqueID)
	}
	for _, s := range m.Sources {
		if !s.Enabled {
			continue
		}
		key := strings.ToLower(s.Database + "." + s.Schema + "." + s.Identifier)
		relations[key] = append(relations[key], s.UniqueID)
	}
	return relations
}
