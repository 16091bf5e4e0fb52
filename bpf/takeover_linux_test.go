// SPDX-License-Identifier: Apache-2.0

// takeover_test.go tests the agent restart path: interception survives the
// loader's process, a new Load takes the pins over, and Unpin plus Detach
// leave nothing behind.

package bpf

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/interlockhq/interlock/test/podsim"
	"golang.org/x/sys/unix"
)

// attachedPrograms counts the programs attached to cgroup for each of our
// attach types.
func attachedPrograms(t *testing.T, cgroup string) int {
	t.Helper()
	f, err := os.Open(cgroup)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for _, a := range attachments {
		r, err := link.QueryPrograms(link.QueryOptions{Target: int(f.Fd()), Attach: a.attach})
		if err != nil {
			t.Fatal(err)
		}
		n += len(r.Programs)
	}
	return n
}

func TestTakeOver(t *testing.T) {
	requireBPF(t)
	pinDir := testPinDir()
	o1, err := Load(Config{PinDir: pinDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndUnpin(t, o1) })
	w := podsim.Start(t, podsim.Options{Name: "bpf-takeover"})
	proxy := listen(t, w, "127.0.0.1:0")
	if err := o1.Attach(w.CgroupPath(), Workload{ID: 1, ProxyPort4: listenerPort(proxy), Ready: true}); err != nil {
		t.Fatal(err)
	}
	// Attach is idempotent.
	if err := o1.Attach(w.CgroupPath(), Workload{ID: 1, ProxyPort4: listenerPort(proxy), Ready: true}); err != nil {
		t.Fatal(err)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != len(attachments) {
		t.Fatalf("%d programs attached, want %d", n, len(attachments))
	}
	orig := listenCount(t, w, "127.0.0.9:443")

	// The agent exits without detaching: interception stays in force.
	if err := o1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := o1.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != len(attachments) {
		t.Fatalf("after Close: %d programs attached, want %d", n, len(attachments))
	}
	proxyGot := acceptAndLookup(t, o1, proxy) // o1 is closed: Lookup fails, accept works
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443", Wait: true}); res.Err != "" || res.Peer != "127.0.0.9:443" {
		t.Fatalf("dial with no agent: %+v", res)
	}
	if a := <-proxyGot; a.err == nil {
		t.Errorf("Lookup on closed objects succeeded: %+v", a)
	}
	// With the proxy gone too, the workload fails closed.
	proxyPort := listenerPort(proxy)
	proxy.Close()
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443"}); unix.Errno(res.Errno) != unix.EPERM {
		t.Fatalf("dial with no agent and no proxy: %+v, want EPERM", res)
	}

	// A restarted agent takes the pins over; its proxy listens again.
	o2, err := Load(Config{PinDir: pinDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndUnpin(t, o2) })
	proxy2 := listen(t, w, "127.0.0.1:"+strconv.Itoa(int(proxyPort)))
	got := acceptAndLookup(t, o2, proxy2)
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443", Wait: true}); res.Err != "" {
		t.Fatalf("dial after takeover: %+v", res)
	}
	if a := <-got; a.err != nil || a.orig.Dst.String() != "127.0.0.9:443" || a.orig.WorkloadID != 1 {
		t.Fatalf("Lookup after takeover: %+v", a)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != len(attachments) {
		t.Fatalf("after takeover: %d programs attached, want %d (old ones replaced, not added)", n, len(attachments))
	}
	if n := orig.n.Load(); n != 0 {
		t.Errorf("original destination got %d connections", n)
	}

	// Detach on exit: nothing stays.
	if err := o2.Unpin(); err != nil {
		t.Fatal(err)
	}
	if err := o2.Detach(w.CgroupPath()); err != nil {
		t.Fatal(err)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != 0 {
		t.Errorf("after Unpin+Detach: %d programs attached", n)
	}
	if _, err := os.Stat(pinDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pin dir still there: %v", err)
	}
	if err := o2.Close(); err != nil {
		t.Fatal(err)
	}
	if res, _ := dial(t, w, dialReq{Dst: "127.0.0.9:443"}); res.Err != "" || res.Peer != "127.0.0.9:443" {
		t.Errorf("dial after detach: %+v", res)
	}
	time.Sleep(20 * time.Millisecond)
	if n := orig.n.Load(); n != 1 {
		t.Errorf("after detach the destination got %d connections, want 1", n)
	}
	if _, err := ebpf.LoadPinnedMap(pinDir+"/sock_orig", nil); err == nil {
		t.Error("sock_orig still pinned")
	}
}

// TestUnpinThenClose is the detach-on-exit path without Detach: Close after
// Unpin detaches every link.
func TestUnpinThenClose(t *testing.T) {
	o := newObjects(t, Config{})
	w := podsim.Start(t, podsim.Options{Name: "bpf-unpin", HostNetwork: true})
	if err := o.Attach(w.CgroupPath(), Workload{}); err != nil {
		t.Fatal(err)
	}
	if err := o.Unpin(); err != nil {
		t.Fatal(err)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != len(attachments) {
		t.Fatalf("after Unpin, before Close: %d attached, want %d", n, len(attachments))
	}
	if err := o.Close(); err != nil {
		t.Fatal(err)
	}
	if n := attachedPrograms(t, w.CgroupPath()); n != 0 {
		t.Errorf("after Unpin+Close: %d programs attached", n)
	}
}

// TestTakeOverDeletedCgroup: links whose cgroup went away while no agent
// ran are cleaned up by the next Load.
func TestTakeOverDeletedCgroup(t *testing.T) {
	requireBPF(t)
	pinDir := testPinDir()
	o1, err := Load(Config{PinDir: pinDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndUnpin(t, o1) })
	w := podsim.Start(t, podsim.Options{Name: "bpf-gone", HostNetwork: true})
	if err := o1.Attach(w.CgroupPath(), Workload{}); err != nil {
		t.Fatal(err)
	}
	id := w.CgroupID()
	if err := o1.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// The kernel releases a removed cgroup's links asynchronously.
	deadline := time.Now().Add(10 * time.Second)
	for !linkDefunct(t, pinDir, id) {
		if time.Now().After(deadline) {
			t.Fatal("links of the removed cgroup never became defunct")
		}
		time.Sleep(10 * time.Millisecond)
	}
	o2, err := Load(Config{PinDir: pinDir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAndUnpin(t, o2) })
	if _, err := os.Stat(o2.linkDir(id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("links of the deleted cgroup still pinned: %v", err)
	}
	sizes, err := o2.MapSizes()
	if err != nil {
		t.Fatal(err)
	}
	if sizes.Workloads != 0 {
		t.Errorf("workloads = %d, want 0", sizes.Workloads)
	}
}

// linkDefunct reports whether the pinned connect4 link of cgroup id has lost
// its cgroup.
func linkDefunct(t *testing.T, pinDir string, id uint64) bool {
	t.Helper()
	l, err := link.LoadPinnedLink(filepath.Join(pinDir, linksDir, strconv.FormatUint(id, 10), "connect4"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	info, err := l.Info()
	if err != nil {
		t.Fatal(err)
	}
	return info.Cgroup().CgroupId == 0
}
