package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// uncleanWarning is what certd logs when it had to check every page of
// the store at start.
const uncleanWarning = "store was not closed cleanly"

// After SIGTERM certd leaves the marker of a clean close and the next
// start skips the full check of the store; after kill -9 there is no
// marker and the next start checks every page, and says so.
func TestUncleanShutdownFullCheck(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the server binary")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	addr := freePort(t)
	marker := filepath.Join(dir, dbFile+".clean")
	stop := func(cmd interface {
		Signal(os.Signal) error
		Wait() (*os.ProcessState, error)
	}, sig syscall.Signal) {
		t.Helper()
		if err := cmd.Signal(sig); err != nil {
			t.Fatal(err)
		}
		_, _ = cmd.Wait()
	}
	stderr := func(b any) string { return b.(*bytes.Buffer).String() }

	first := startProcess(t, bin, dir, addr)
	stop(first.Process, syscall.SIGTERM)
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("no clean-close marker after SIGTERM: %v\n%s", err, stderr(first.Stderr))
	}

	clean := startProcess(t, bin, dir, addr)
	stop(clean.Process, syscall.SIGKILL)
	if out := stderr(clean.Stderr); strings.Contains(out, uncleanWarning) {
		t.Errorf("start after a clean shutdown ran the full check:\n%s", out)
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("marker present after kill -9 (%v): the next start would skip the check", err)
	}

	unclean := startProcess(t, bin, dir, addr)
	stop(unclean.Process, syscall.SIGTERM)
	if out := stderr(unclean.Stderr); !strings.Contains(out, uncleanWarning) {
		t.Errorf("start after kill -9 did not report the full check:\n%s", out)
	}
}
