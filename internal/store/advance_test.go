package store_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/autoexposures/autoexposures/internal/store"
)

func TestAdvanceLatest(t *testing.T) {
	base := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		currentAt   time.Time
		at          time.Time
		sameContent bool
		wantMoved   bool
	}{
		{name: "newer", currentAt: base, at: base.Add(time.Hour), wantMoved: true},
		{name: "older", currentAt: base, at: base.Add(-time.Hour), wantMoved: false},
		{name: "equal time other hash", currentAt: base, at: base, wantMoved: true},
		{name: "same blob older time", currentAt: base, at: base.Add(-time.Hour), sameContent: true, wantMoved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDir(t)
			current, err := d.Put(store.KindManifest, strings.NewReader("current"))
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := d.AdvanceLatest(store.KindManifest, current, tt.currentAt, nil); err != nil {
				t.Fatal(err)
			}
			content := "arriving"
			if tt.sameContent {
				content = "current"
			}
			arriving, err := d.Put(store.KindManifest, strings.NewReader(content))
			if err != nil {
				t.Fatal(err)
			}

			latest, moved, err := d.AdvanceLatest(store.KindManifest, arriving, tt.at, nil)
			if err != nil {
				t.Fatal(err)
			}

			want := current
			if tt.wantMoved {
				want = arriving
			}
			if moved != tt.wantMoved {
				t.Errorf("isLatest = %v, want %v", moved, tt.wantMoved)
			}
			if diff := cmp.Diff(want, latest); diff != "" {
				t.Errorf("returned latest (-want +got):\n%s", diff)
			}
			stored, _, err := d.LatestAt(store.KindManifest)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(want, stored); diff != "" {
				t.Errorf("stored latest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAdvanceLatestAsksTimeOfUntimedPointer(t *testing.T) {
	d := newDir(t)
	current, err := d.Put(store.KindManifest, strings.NewReader("set without a time"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetLatest(store.KindManifest, current); err != nil {
		t.Fatal(err)
	}
	older, err := d.Put(store.KindManifest, strings.NewReader("older"))
	if err != nil {
		t.Fatal(err)
	}
	currentAt := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)
	var requested []store.Ref
	timeOf := func(ref store.Ref) (time.Time, error) {
		requested = append(requested, ref)
		return currentAt, nil
	}

	_, moved, err := d.AdvanceLatest(store.KindManifest, older, currentAt.Add(-time.Minute), timeOf)
	if err != nil {
		t.Fatal(err)
	}

	if moved {
		t.Error("AdvanceLatest moved the pointer to an older manifest")
	}
	if diff := cmp.Diff([]store.Ref{current}, requested); diff != "" {
		t.Errorf("refs timeOf was requested about (-want +got):\n%s", diff)
	}
}

func TestAdvanceLatestMissingBlob(t *testing.T) {
	d := newDir(t)
	missing := store.Ref{Kind: store.KindManifest, Hash: sha([]byte("absent")), Size: 6}

	_, _, err := d.AdvanceLatest(store.KindManifest, missing, time.Now(), nil)

	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("error = %v, want ErrNotFound", err)
	}
}

func TestLockExcludesOthers(t *testing.T) {
	d := newDir(t)
	unlock, err := d.Lock(context.Background(), "compute")
	if err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := d.Lock(ctx, "compute"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock while held: error = %v, want DeadlineExceeded", err)
	}
	other, err := d.Lock(context.Background(), "other")
	if err != nil {
		t.Fatalf("Lock of another name: %v", err)
	}
	other()

	unlock()
	again, err := d.Lock(context.Background(), "compute")
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	again()
}

// TestLockAcrossProcesses has two processes each add 1 to a counter file
// many times under the lock, reading and rewriting it: without mutual
// exclusion increments are lost.
func TestLockAcrossProcesses(t *testing.T) {
	if os.Getenv("STORE_TEST_LOCKER") != "" {
		t.Skip("running as a locker process")
	}
	root := t.TempDir()
	const processes, increments = 2, 200
	cmds := make([]*exec.Cmd, processes)
	outputs := make([]strings.Builder, processes)
	for i := range processes {
		cmd := exec.Command(os.Args[0], "-test.run=^TestLockerProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "STORE_TEST_LOCKER="+strconv.Itoa(increments), "STORE_TEST_ROOT="+root)
		cmd.Stdout = &outputs[i]
		cmd.Stderr = &outputs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds[i] = cmd
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("locker process %d: %v\n%s", i, err, outputs[i].String())
		}
	}

	data, err := os.ReadFile(filepath.Join(root, "counter"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := strings.TrimSpace(string(data)), strconv.Itoa(processes*increments); got != want {
		t.Errorf("counter = %s, want %s", got, want)
	}
}

// TestLockerProcess is the body of one process of TestLockAcrossProcesses;
// it does nothing when run on its own.
func TestLockerProcess(t *testing.T) {
	increments := os.Getenv("STORE_TEST_LOCKER")
	if increments == "" {
		t.Skip("only runs as a locker process")
	}
	n, err := strconv.Atoi(increments)
	if err != nil {
		t.Fatal(err)
	}
	root := os.Getenv("STORE_TEST_ROOT")
	d, err := store.New(root)
	if err != nil {
		t.Fatal(err)
	}
	counter := filepath.Join(root, "counter")
	for range n {
		unlock, err := d.Lock(context.Background(), "compute")
		if err != nil {
			t.Fatal(err)
		}
		data, _ := os.ReadFile(counter)
		count, _ := strconv.Atoi(strings.TrimSpace(string(data)))
		if err := os.WriteFile(counter, []byte(strconv.Itoa(count+1)), 0o644); err != nil {
			t.Fatal(err)
		}
		unlock()
	}
}
