// SPDX-License-Identifier: Apache-2.0

// pods_test.go tests what sets pods apart: two pods using the same client
// address and port at once, tasks in a pod's descendant cgroups, and the
// interception set (ports and prefixes).

package bpf

import (
	"net/netip"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/interlockhq/interlock/internal/cgroups"
	"github.com/interlockhq/interlock/test/podsim"
	"golang.org/x/sys/unix"
)

// TestSameClientTupleTwoPods: both pods dial from 127.0.0.1:40000, to
// different destinations, at the same time; the netns cookie keeps them apart.
func TestSameClientTupleTwoPods(t *testing.T) {
	o := newObjects(t, Config{})
	type pod struct {
		w     *podsim.Workload
		dst   string
		got   <-chan accepted
		child *child
	}
	pods := []*pod{{dst: "127.0.0.9:443"}, {dst: "127.0.0.10:5432"}}
	for i, p := range pods {
		p.w = podsim.Start(t, podsim.Options{Name: "bpf-same"})
		proxy := listen(t, p.w, "127.0.0.1:0")
		if err := o.Attach(p.w.CgroupPath(), Workload{ID: uint32(i), ProxyPort4: listenerPort(proxy), Ready: true}); err != nil {
			t.Fatal(err)
		}
		p.got = acceptAndLookup(t, o, proxy)
	}
	for _, p := range pods {
		p.child = startChild(t, p.w, "dial", dialReq{Dst: p.dst, Bind: "127.0.0.1:40000", Wait: true})
	}
	// Both clients stay connected until both proxies have resolved them.
	var as []accepted
	for _, p := range pods {
		as = append(as, <-p.got)
	}
	for i, p := range pods {
		a := as[i]
		if a.err != nil {
			t.Fatalf("pod %d proxy: %v", i, a.err)
		}
		if a.remote.String() != "127.0.0.1:40000" {
			t.Errorf("pod %d: client %s, want 127.0.0.1:40000", i, a.remote)
		}
		if a.orig.Dst.String() != p.dst || a.orig.CgroupID != p.w.CgroupID() || a.orig.WorkloadID != uint32(i) {
			t.Errorf("pod %d: Lookup = %+v, want dst %s cgroup %d", i, a.orig, p.dst, p.w.CgroupID())
		}
		if res := p.child.wait(t, 30*time.Second); res.Err != "" || res.Peer != p.dst {
			t.Errorf("pod %d child: %+v", i, res)
		}
	}
}

// TestDescendantCgroup: a task in a cgroup below the workload's (a pod's
// container) is intercepted and attributed to both.
func TestDescendantCgroup(t *testing.T) {
	o := newObjects(t, Config{})
	w := podsim.Start(t, podsim.Options{Name: "bpf-nested", HostNetwork: true})
	proxy := listen(t, nil, "127.0.0.1:0")
	if err := o.Attach(w.CgroupPath(), Workload{ID: 3, ProxyPort4: listenerPort(proxy), Ready: true}); err != nil {
		t.Fatal(err)
	}
	leaf := filepath.Join(w.CgroupPath(), "pod", "container")
	if err := os.MkdirAll(leaf, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.Remove(leaf)
		os.Remove(filepath.Dir(leaf))
	})
	leafID, err := cgroups.ID(leaf)
	if err != nil {
		t.Fatal(err)
	}
	fd, err := unix.Open(leaf, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)

	dst := netip.AddrPortFrom(randomLoopback(), 443)
	orig := listenCount(t, nil, dst.String())
	got := acceptAndLookup(t, o, proxy)
	c := startChildAttr(t, &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd}, "dial", dialReq{Dst: dst.String(), Wait: true})
	res := c.wait(t, 30*time.Second)
	if res.Err != "" || res.Peer != dst.String() {
		t.Fatalf("dial: %+v", res)
	}
	a := <-got
	if a.err != nil {
		t.Fatal(a.err)
	}
	if a.orig.CgroupID != leafID || a.orig.WorkloadCgroupID != w.CgroupID() || a.orig.WorkloadID != 3 {
		t.Errorf("Lookup = %+v, want cgroup %d in workload %d", a.orig, leafID, w.CgroupID())
	}
	if n := orig.n.Load(); n != 0 {
		t.Errorf("original destination got %d connections", n)
	}
}

// TestInterceptionSet: only configured ports, and prefixes whose longest
// match intercepts, are redirected.
func TestInterceptionSet(t *testing.T) {
	o := newObjects(t, Config{
		Ports:     []uint16{443, 8443},
		Intercept: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")},
		Skip:      []netip.Prefix{netip.MustParsePrefix("127.0.0.10/32")},
	})
	w := podsim.Start(t, podsim.Options{Name: "bpf-set"})
	proxy := listenCount(t, w, "127.0.0.1:0")
	if err := o.Attach(w.CgroupPath(), Workload{ProxyPort4: listenerPort(proxy.ln), Ready: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dst        string
		family     int
		redirected bool
	}{
		{"127.0.0.9:443", 0, true},
		{"127.0.0.9:8443", 0, true},
		{"127.0.0.9:5432", 0, false}, // port not in the set
		{"127.0.0.10:443", 0, false}, // skipped prefix
		{"[::ffff:127.0.0.10]:443", unix.AF_INET6, false},
		{"[::ffff:127.0.0.11]:8443", unix.AF_INET6, true},
		{"[::1]:443", 0, false}, // not in 127.0.0.0/8
	}
	for _, tt := range tests {
		t.Run(tt.dst, func(t *testing.T) {
			ap := netip.MustParseAddrPort(tt.dst)
			orig := listenCount(t, w, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String())
			before := proxy.n.Load()
			res, _ := dial(t, w, dialReq{Dst: tt.dst, Family: tt.family})
			if res.Err != "" || res.Peer != tt.dst {
				t.Fatalf("dial: %+v", res)
			}
			want, wantProxy := int64(1), int64(0)
			if tt.redirected {
				want, wantProxy = 0, 1
			}
			deadline := time.Now().Add(2 * time.Second)
			for orig.n.Load()+proxy.n.Load()-before < 1 && time.Now().Before(deadline) {
				time.Sleep(2 * time.Millisecond)
			}
			if got, gotProxy := orig.n.Load(), proxy.n.Load()-before; got != want || gotProxy != wantProxy {
				t.Errorf("destination got %d, proxy %d; want %d, %d", got, gotProxy, want, wantProxy)
			}
		})
	}
}
