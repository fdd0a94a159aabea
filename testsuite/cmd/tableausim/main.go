// Command tableausim serves a simulated Tableau site from a site file, for
// demos and for trying the client by hand:
//
//	go run ./testsuite/cmd/tableausim --site testsuite/sites/demo.json --addr 127.0.0.1:8765
//
// or a generated site of a given size:
//
//	go run ./testsuite/cmd/tableausim --generate 10000 --seed 1 --addr 127.0.0.1:8765
//
// With --write FILE it writes the site file instead of serving it, which
// turns a generated site into a file to read or edit:
//
//	go run ./testsuite/cmd/tableausim --generate 100 --seed 7 --write /tmp/site.json
//
// It serves until interrupted. The site file format and the generated
// sites are described in docs/simulator.md.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/autoexposures/autoexposures/testsuite/sitegen"
	"github.com/autoexposures/autoexposures/testsuite/tableausim"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tableausim:", err)
		os.Exit(1)
	}
}

func run() error {
	sitePath := flag.String("site", "", "path of the site file to serve")
	generate := flag.Int("generate", 0, "serve a generated site with this many workbooks instead of a site file")
	seed := flag.Uint64("seed", 1, "seed of the generated site")
	addr := flag.String("addr", "127.0.0.1:8765", "address to listen on; must be a loopback address")
	latency := flag.Duration("latency", 0, "delay added to every request, such as 40ms")
	write := flag.String("write", "", "write the site file to this path and exit instead of serving")
	flag.Parse()

	if (*sitePath == "") == (*generate == 0) {
		return fmt.Errorf("give either --site with the path of a site file such as testsuite/sites/demo.json, or --generate with a number of workbooks")
	}
	site, err := loadSite(*sitePath, *generate, *seed)
	if err != nil {
		return err
	}
	if *write != "" {
		return writeSite(*write, site)
	}
	if err := checkLoopback(*addr); err != nil {
		return err
	}

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	srv := tableausim.New(site, tableausim.WithLogger(logger), tableausim.WithLatency(*latency))
	if err := srv.StartAt(*addr); err != nil {
		return err
	}
	logger.Info("serving site", "site_file", *sitePath, "site", site.Site,
		"site_luid", srv.SiteLUID(), "workbooks", len(site.Workbooks), "url", srv.URL())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	srv.Close()
	return nil
}

func loadSite(path string, workbooks int, seed uint64) (*tableausim.Site, error) {
	if path != "" {
		return tableausim.LoadSite(path)
	}
	if workbooks < 0 {
		return nil, fmt.Errorf("invalid --generate %d: give a positive number of workbooks", workbooks)
	}
	return sitegen.Generate(sitegen.Params{Seed: seed, Workbooks: workbooks}), nil
}

// writeSite writes the site as indented JSON through a temporary file in
// the same directory, so that a failed write leaves no partial file.
func writeSite(path string, site *tableausim.Site) error {
	data, err := json.MarshalIndent(site, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding the site: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tableausim-site-*.json")
	if err != nil {
		return fmt.Errorf("writing site file %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing site file %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing site file %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing site file %s: %w", path, err)
	}
	return nil
}

// checkLoopback rejects listening addresses outside the loopback range, so
// that the simulator never serves a fake Tableau site to the network.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("invalid --addr %q, expected host:port such as 127.0.0.1:8765: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("invalid --addr %q: the simulator listens only on loopback addresses such as 127.0.0.1", addr)
	}
	return nil
}
