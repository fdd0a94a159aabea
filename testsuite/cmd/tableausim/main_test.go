package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCheckLoopback(t *testing.T) {
	cases := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8765", true},
		{"127.0.0.1:0", true},
		{"[::1]:8765", true},
		{"localhost:8765", true},
		{"0.0.0.0:8765", false},
		{"192.168.1.10:8765", false},
		{":8765", false},
		{"127.0.0.1", false},
	}
	for _, tc := range cases {
		err := checkLoopback(tc.addr)
		if (err == nil) != tc.ok {
			t.Errorf("checkLoopback(%q) = %v, want ok %v", tc.addr, err, tc.ok)
		}
	}
}

func TestLoadSiteChoosesFileOrGenerator(t *testing.T) {
	site, err := loadSite("../../sites/demo.json", 0, 1)
	if err != nil {
		t.Fatalf("loading demo.json: %v", err)
	}
	if site.Site != "jaffle" {
		t.Errorf("demo site name = %q, want jaffle", site.Site)
	}
	site, err = loadSite("", 25, 3)
	if err != nil {
		t.Fatalf("generating: %v", err)
	}
	if len(site.Workbooks) != 25 {
		t.Errorf("generated %d workbooks, want 25", len(site.Workbooks))
	}
	if _, err := loadSite("../../sites/missing.json", 0, 1); err == nil {
		t.Errorf("a missing site file loaded")
	}
}

func TestWriteSiteRoundTrips(t *testing.T) {
	site, err := loadSite("", 40, 9)
	if err != nil {
		t.Fatal(err)
	}
	path := t.TempDir() + "/site.json"
	if err := writeSite(path, site); err != nil {
		t.Fatalf("writeSite: %v", err)
	}
	back, err := loadSite(path, 0, 0)
	if err != nil {
		t.Fatalf("reading the written site: %v", err)
	}
	if diff := cmp.Diff(site, back); diff != "" {
		t.Errorf("site after a round trip (-written +read):\n%s", diff)
	}
	if err := writeSite(t.TempDir()+"/missing-dir/site.json", site); err == nil {
		t.Errorf("writeSite into a missing directory succeeded")
	}
}
