// SPDX-License-Identifier: Apache-2.0

// Tests of the cgroup helpers: the id and the kill
// fallback for kernels without cgroup.kill.

package podsim

import (
	"context"
	"encoding/binary"
	"os/exec"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"golang.org/x/sys/unix"
)

// TestCgroupID checks that the inode number is the id the kernel's cgroup
// file handle carries, which is what bpf_get_current_cgroup_id returns.
func TestCgroupID(t *testing.T) {
	w := Start(t, Options{HostNetwork: true})
	h, _, err := unix.NameToHandleAt(unix.AT_FDCWD, w.CgroupPath(), 0)
	if err != nil {
		t.Fatalf("name_to_handle_at: %v", err)
	}
	if got := binary.NativeEndian.Uint64(h.Bytes()); got != w.CgroupID() || got == 0 {
		t.Fatalf("CgroupID() = %d, file handle says %d", w.CgroupID(), got)
	}
}

// TestKillFallback empties a cgroup the way Close does where cgroup.kill is
// missing: SIGKILL to each pid, again until nothing is left, including a
// process that a shell forked.
func TestKillFallback(t *testing.T) {
	w := Start(t, Options{})
	var cmds []*exec.Cmd
	for _, args := range [][]string{{"sleep", "60"}, {"sh", "-c", "sleep 60 & wait"}} {
		cmd := exec.Command(args[0], args[1:]...)
		if err := w.Start(cmd); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	waitPids(t, w, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := cgroups.WaitEmpty(ctx, w.CgroupPath(), true); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err == nil {
			t.Errorf("%v: ended without error, want killed", cmd.Args)
		}
	}
	if pids, err := w.Pids(); err != nil || len(pids) != 0 {
		t.Fatalf("Pids() = %v, %v; want none", pids, err)
	}
}

// waitPids waits until the workload's cgroup holds n processes.
func waitPids(t testing.TB, w *Workload, n int) []int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids, err := w.Pids()
		if err != nil {
			t.Fatal(err)
		}
		if len(pids) == n {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pids() = %v, want %d processes", pids, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
