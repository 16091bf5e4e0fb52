// SPDX-License-Identifier: Apache-2.0

// Tests that Close leaves nothing behind, is idempotent, and that workloads
// with the same name coexist.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/test/testenv"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func TestClose(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
	}{
		{"pod", Options{Veth: true, Hosts: map[string]string{"db": "127.0.0.14"}}},
		{"vm", Options{HostNetwork: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := Start(t, tt.opts)
			var cmds []*exec.Cmd
			for _, args := range [][]string{
				{"sleep", "60"},
				{"sh", "-c", "sleep 60 & sleep 60 & wait"}, // children the test never sees
			} {
				cmd := exec.Command(args[0], args[1:]...)
				if err := w.Start(cmd); err != nil {
					t.Fatal(err)
				}
				cmds = append(cmds, cmd)
			}
			pids := waitPids(t, w, 4)

			if err := w.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			for _, cmd := range cmds {
				if err := cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
					t.Errorf("%v: %v, want killed", cmd.Args, err)
				}
			}
			for _, pid := range pids {
				waitGone(t, pid)
			}
			gone := map[string]string{
				"cgroup":     w.CgroupPath(),
				"hosts file": w.HostsFile(),
				"files dir":  filepath.Dir(w.HostsFile()),
			}
			if p := w.NetnsPath(); p != "" {
				gone["netns"] = p
			}
			for what, path := range gone {
				if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s %s still there: %v", what, path, err)
				}
			}
			if w.vethName != "" {
				if _, err := netlink.LinkByName(w.vethName); err == nil {
					t.Errorf("veth %s still there", w.vethName)
				}
			}
			if err := w.Close(); err != nil {
				t.Errorf("second Close: %v", err)
			}
			if err := w.Start(exec.Command("true")); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Start after Close: %v, want net.ErrClosed", err)
			}
			if err := w.Do(func() error { return nil }); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Do after Close: %v, want net.ErrClosed", err)
			}
			if _, err := w.Pids(); !errors.Is(err, net.ErrClosed) {
				t.Errorf("Pids after Close: %v, want net.ErrClosed", err)
			}
		})
	}
}

// waitGone waits until pid no longer exists (init reaps orphans).
func waitGone(t testing.TB, pid int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := unix.Kill(pid, 0)
		if errors.Is(err, unix.ESRCH) {
			return
		}
		if stat, rerr := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat"); rerr == nil && strings.Contains(string(stat), ") Z ") {
			return // killed, waiting for its parent to reap it
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d still alive after Close: %v", pid, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestNewCleansUpOnError makes New fail after it built everything (its ctx
// is already done) and checks that nothing with its name is left.
func TestNewCleansUpOnError(t *testing.T) {
	testenv.RequireRoot(t, "podsim makes network namespaces and cgroups")
	label := fmt.Sprintf("fail%06d", rand.IntN(1e6))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	w, err := New(ctx, Options{Name: label, Veth: true})
	if !errors.Is(err, context.Canceled) {
		if w != nil {
			w.Close()
		}
		t.Fatalf("New with a done ctx: %v, want context.Canceled", err)
	}
	root, err := cgroups.Mount()
	if err != nil {
		t.Fatal(err)
	}
	for _, pattern := range []string{
		filepath.Join(root, cgroupParent, label+"-*"),
		filepath.Join(netnsDir, "il-"+label+"-*"),
	} {
		if left, _ := filepath.Glob(pattern); len(left) > 0 {
			t.Errorf("left behind: %v", left)
		}
	}
}

func TestSameName(t *testing.T) {
	t.Parallel()
	a := Start(t, Options{Name: "twin", Veth: true})
	b := Start(t, Options{Name: "twin", Veth: true})
	for _, f := range []func(*Workload) string{
		(*Workload).Name, (*Workload).CgroupPath, (*Workload).NetnsPath, (*Workload).HostsFile,
		func(w *Workload) string { return w.PodAddr().String() },
	} {
		if f(a) == f(b) {
			t.Errorf("both twins have %s", f(a))
		}
	}
	if !strings.HasPrefix(a.Name(), "twin-") || !strings.HasPrefix(b.Name(), "twin-") {
		t.Errorf("names %s, %s: want twin-...", a.Name(), b.Name())
	}
	for _, w := range []*Workload{a, b} {
		mustOutput(t, w, exec.Command("true"))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// b is untouched by a's Close.
	if out := mustOutput(t, b, helperCmd(t, "links", "")); out != "eth0\nlo\n" && out != "lo\neth0\n" {
		t.Errorf("links in b after a closed: %q", out)
	}
}
