package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDemoRejectsBusyStateDir(t *testing.T) {
	stateDir := t.TempDir()
	// The first demo is another process holding the lock, as a second
	// terminal would: flock(1) runs sleep while it holds the lock file.
	flock, err := exec.LookPath("flock")
	if err != nil {
		t.Skip("flock(1) is not installed")
	}
	lockPath := filepath.Join(stateDir, demoLockName)
	holder := exec.Command(flock, "--exclusive", lockPath, "sh", "-c", fmt.Sprintf("echo $$ > %s; exec sleep 60", lockPath))
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = holder.Process.Kill()
		_ = holder.Wait()
	})
	waitForPID(t, lockPath)
	pid, _ := os.ReadFile(lockPath)

	code, _, stderr := runStarter(t, "demo", "--state-dir", stateDir, "--out-dir", t.TempDir())

	if code != exitFailure {
		t.Errorf("exit code = %d, want %d\nstderr:\n%s", code, exitFailure, stderr)
	}
	want := fmt.Sprintf("another demo (PID %s) is using state directory %s", strings.TrimSpace(string(pid)), stateDir)
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr does not contain %q:\n%s", want, stderr)
	}
	if _, err := os.Stat(filepath.Join(stateDir, "temporal")); !os.IsNotExist(err) {
		t.Errorf("the second demo touched the state directory: stat temporal = %v", err)
	}
}

func TestDemoLockReleases(t *testing.T) {
	stateDir := t.TempDir()
	release, err := lockDemoState(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	release()
	release, err = lockDemoState(stateDir)
	if err != nil {
		t.Fatalf("locking again after release: %v", err)
	}
	release()
}

// waitForPID waits until the lock holder has written its PID.
func waitForPID(t *testing.T, path string) {
	t.Helper()
	for range 500 {
		if data, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(data))) > 0 {
			return
		}
		if err := exec.Command("sleep", "0.01").Run(); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("%s never received a PID", path)
}
