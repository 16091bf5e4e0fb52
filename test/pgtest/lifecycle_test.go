// SPDX-License-Identifier: Apache-2.0

// Servers of their own: how long they take to start, and that Close
// leaves no process and no directory behind.

package pgtest

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
)

func TestCloseRemovesEverything(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), DefaultStartTimeout)
	defer cancel()
	start := time.Now()
	srv, err := New(ctx, Options{})
	if errors.Is(err, ErrNotInstalled) {
		testenv.Skip(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("New took %v", time.Since(start).Round(time.Millisecond))
	closed := false
	defer func() {
		if !closed {
			_ = srv.Close()
		}
	}()

	pid := srv.PID()
	procs := processesIn(t, srv.Dir())
	if !containsInt(procs, pid) {
		t.Fatalf("postmaster %d not among processes in %s: %v", pid, srv.Dir(), procs)
	}
	if len(procs) < 2 {
		t.Errorf("processes in %s = %v, want the postmaster and its children", srv.Dir(), procs)
	}
	if fi, err := os.Stat(srv.LogPath()); err != nil || fi.Size() == 0 {
		t.Errorf("server log %s: %v, empty=%v", srv.LogPath(), err, err == nil && fi.Size() == 0)
	}

	start = time.Now()
	closed = true
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Close took %v", time.Since(start).Round(time.Millisecond))

	if _, err := os.Stat(srv.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s after Close: %v, want not exist", srv.Dir(), err)
	}
	for _, p := range procs {
		if err := syscall.Kill(p, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d after Close: kill 0 = %v, want ESRCH", p, err)
		}
	}
	if left := processesIn(t, srv.Dir()); len(left) > 0 {
		t.Errorf("processes in %s after Close: %v", srv.Dir(), left)
	}
	if err := srv.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
}

// TestStart checks the per-test helper: a working server during the test,
// nothing left after it.
func TestStart(t *testing.T) {
	t.Parallel()
	var srv *Server
	t.Run("use", func(t *testing.T) {
		start := time.Now()
		srv = Start(t, Options{Role: "alice", Database: "shop"})
		t.Logf("Start took %v", time.Since(start).Round(time.Millisecond))
		if !strings.Contains(srv.DSN(), "user=alice") || !strings.Contains(srv.DSN(), "dbname=shop") {
			t.Errorf("DSN %q lacks user=alice dbname=shop", srv.DSN())
		}
	})
	if srv == nil {
		return // skipped or failed
	}
	if _, err := os.Stat(srv.Dir()); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("directory %s after the test: %v, want not exist", srv.Dir(), err)
	}
	if err := syscall.Kill(srv.PID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("postmaster %d after the test: kill 0 = %v, want ESRCH", srv.PID(), err)
	}
}

// processesIn lists processes whose working directory is dir or below:
// the postmaster and all its children chdir to the data directory.
func processesIn(t *testing.T, dir string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cwd, err := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if err != nil {
			continue // gone meanwhile, or not ours to read
		}
		if cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
