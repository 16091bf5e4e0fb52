// SPDX-License-Identifier: Apache-2.0

// VM workloads from config: by cgroup path (absolute, relative, as
// /proc/PID/cgroup prints it), by systemd unit, appearing later, and the
// refusal to intercept the node agent's own cgroup.

package workload

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
)

// syncBuffer is a bytes.Buffer safe for concurrent writes, for a log.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func TestScanVMs(t *testing.T) {
	mount := cgroupMountFor(t)
	rel := "interlock-vmsim-" + randHex(4)
	base := filepath.Join(mount, rel)
	mkdirCgroup(t, base)
	for _, d := range []string{"abs", "rel", "slash"} {
		mkdirCgroup(t, filepath.Join(base, d))
	}
	own, err := cgroups.OfProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	unit := "agent-" + randHex(4) // means agent-….service
	vms := []VM{
		{Name: "abs", Cgroup: filepath.Join(base, "abs")},
		{Name: "rel", Cgroup: rel + "/rel"},
		{Name: "slash", Cgroup: "/" + rel + "/slash"}, // as systemctl and /proc/PID/cgroup print it
		{Name: "later", Cgroup: rel + "/later"},
		{Name: "unit", Unit: unit},
		{Name: "self", Cgroup: own},
	}
	var logs syncBuffer
	s, err := NewScanner(Config{VMs: vms, Logger: slogTo(&logs)})
	if err != nil {
		t.Fatal(err)
	}
	scan := func() map[string]Workload {
		t.Helper()
		ws, err := s.Scan(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[string]Workload)
		for _, w := range ws {
			if w.Kind != KindVM || w.NetnsPath != "" || w.NetnsInode != 0 || w.PodUID != "" {
				t.Errorf("VM workload %+v", w)
			}
			m[w.Name] = w
		}
		return m
	}

	got := scan()
	for _, name := range []string{"abs", "rel", "slash"} {
		w, ok := got[name]
		if !ok {
			t.Errorf("vm %s not found", name)
			continue
		}
		wantCgroup(t, w, filepath.Join(base, name))
	}
	for _, name := range []string{"later", "unit", "self"} {
		if w, ok := got[name]; ok {
			t.Errorf("vm %s found before it exists (or although it holds this process): %+v", name, w)
		}
	}
	if !strings.Contains(logs.String(), "holds the node agent itself") {
		t.Errorf("no log refusing this process's own cgroup; log:\n%s", logs.String())
	}

	// The cgroup and the unit appear: the next scan has them.
	mkdirCgroup(t, filepath.Join(base, "later"))
	unitDir := startUnit(t, s, base, unit+".service")
	got = scan()
	if w, ok := got["later"]; !ok {
		t.Error("vm later not found after its cgroup was made")
	} else {
		wantCgroup(t, w, filepath.Join(base, "later"))
	}
	if w, ok := got["unit"]; !ok {
		t.Error("vm unit not found after the unit started")
	} else {
		wantCgroup(t, w, unitDir)
		if w.Unit != unit+".service" {
			t.Errorf("Unit = %q, want %q", w.Unit, unit+".service")
		}
	}
	if n := strings.Count(logs.String(), "holds the node agent itself"); n != 1 {
		t.Errorf("the same error was logged %d times, want once", n)
	}
}

// startUnit starts a unit named unit and returns its cgroup: a transient
// unit of the real systemd when it runs (systemd-run), else a cgroup
// directory named like the unit below base, where the tree search finds it.
func startUnit(t *testing.T, s *Scanner, base, unit string) string {
	t.Helper()
	if s.systemctl == "" {
		dir := filepath.Join(base, "system.slice", unit)
		mkdirCgroup(t, filepath.Dir(dir))
		mkdirCgroup(t, dir)
		return dir
	}
	out, err := exec.Command("systemd-run", "--unit="+unit, "--collect", "--", "sleep", "300").CombinedOutput()
	if err != nil {
		t.Fatalf("systemd-run: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("systemctl", "stop", unit).CombinedOutput(); err != nil {
			t.Errorf("systemctl stop %s: %v: %s", unit, err, out)
		}
	})
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for {
		rel, err := systemdUnitCgroup(ctx, s.systemctl, unit)
		if err != nil {
			t.Fatal(err)
		}
		if rel != "" {
			return filepath.Join(s.root, rel)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("unit %s has no cgroup", unit)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
