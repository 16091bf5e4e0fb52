// SPDX-License-Identifier: Apache-2.0

// redirect_test.go tests the redirect itself: a process in an intercepted
// cgroup reaches the proxy instead of its destination, the proxy resolves
// the original destination and identity, and the process still sees the
// destination it dialed.

package bpf

import (
	"net"
	"net/netip"
	"os"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
	"golang.org/x/sys/unix"
)

func TestRedirect(t *testing.T) {
	tests := []struct {
		name   string
		pod    bool   // own network namespace; else host network
		dst    string // "" : a random 127.x address on the host, port 443
		family int    // socket family; 0 from dst
		// wantDst is what Lookup reports; "" means dst.
		wantDst string
		// proxy6 says the redirect goes to the IPv6 proxy listener.
		proxy6 bool
	}{
		{name: "host ipv4", dst: ""},
		{name: "pod ipv4", pod: true, dst: "127.0.0.9:443"},
		{name: "pod ipv6", pod: true, dst: "[::1]:443", proxy6: true},
		{name: "pod v4-mapped", pod: true, dst: "[::ffff:127.0.0.9]:443", family: unix.AF_INET6},
		{name: "pod postgres", pod: true, dst: "127.0.0.9:5432"},
	}
	o := newObjects(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := podsim.Start(t, podsim.Options{Name: "bpf-redirect", HostNetwork: !tt.pod})
			var ns *podsim.Workload // namespace to listen in; nil: host
			if tt.pod {
				ns = w
			}
			proxy4 := listen(t, ns, "127.0.0.1:0")
			proxy6 := listen(t, ns, "[::1]:0")
			wl := Workload{ID: 7, ProxyPort4: listenerPort(proxy4), ProxyPort6: listenerPort(proxy6), Ready: true}
			if err := o.Attach(w.CgroupPath(), wl); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := o.Detach(w.CgroupPath()); err != nil {
					t.Error(err)
				}
			})
			dst := tt.dst
			if dst == "" {
				// The host namespace is shared with parallel test
				// packages: a random loopback address, not 127.0.0.9.
				dst = netip.AddrPortFrom(randomLoopback(), 443).String()
			}
			dstAP := netip.MustParseAddrPort(dst)
			listenAddr := dstAP
			if dstAP.Addr().Is4In6() {
				listenAddr = netip.AddrPortFrom(dstAP.Addr().Unmap(), dstAP.Port())
			}
			orig := listenCount(t, ns, listenAddr.String())

			proxy := proxy4
			if tt.proxy6 {
				proxy = proxy6
			}
			got := acceptAndLookup(t, o, proxy)
			res, pid := dial(t, w, dialReq{Dst: dst, Family: tt.family, Wait: true})
			if res.Err != "" {
				t.Fatalf("dial: %+v", res)
			}
			a := <-got
			if a.err != nil {
				t.Fatalf("proxy: %v", a.err)
			}
			want := Original{
				Dst:              dstAP,
				CgroupID:         w.CgroupID(),
				WorkloadCgroupID: w.CgroupID(),
				WorkloadID:       7,
				PID:              uint32(pid),
				TID:              a.orig.TID, // any thread of the child
				UID:              uint32(os.Getuid()),
				GID:              uint32(os.Getgid()),
			}
			if a.orig != want {
				t.Errorf("Lookup(%v) =\n%+v, want\n%+v", a.remote, a.orig, want)
			}
			if a.orig.TID == 0 {
				t.Errorf("TID = 0")
			}
			if res.Peer != dst {
				t.Errorf("getpeername in the process = %s, want %s", res.Peer, dst)
			}
			wantLocal := a.remote.String()
			if tt.family == unix.AF_INET6 && a.remote.Addr().Is4() {
				wantLocal = netip.AddrPortFrom(netip.AddrFrom16(a.remote.Addr().As16()), a.remote.Port()).String()
			}
			if res.Local != wantLocal {
				t.Errorf("client local address %s, proxy saw %s", res.Local, a.remote)
			}
			// Give a stray SYN time to arrive before counting.
			time.Sleep(20 * time.Millisecond)
			if n := orig.n.Load(); n != 0 {
				t.Errorf("original destination got %d connections, want 0", n)
			}
		})
	}
	c, err := o.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if c.Redirected < uint64(len(tests)) || c.MapUpdateErrors != 0 {
		t.Errorf("counters %+v: want Redirected >= %d, no map update errors", c, len(tests))
	}
	t.Logf("counters: %+v", c)
}

// TestNotRedirectedOutside dials from the test process, which is in no
// intercepted cgroup, while a workload is intercepted.
func TestNotRedirectedOutside(t *testing.T) {
	o := newObjects(t, Config{})
	w := podsim.Start(t, podsim.Options{Name: "bpf-outside", HostNetwork: true})
	proxy := listenCount(t, nil, "127.0.0.1:0")
	if err := o.Attach(w.CgroupPath(), Workload{ProxyPort4: listenerPort(proxy.ln), Ready: true}); err != nil {
		t.Fatal(err)
	}
	dst := netip.AddrPortFrom(randomLoopback(), 443)
	orig := listenCount(t, nil, dst.String())
	c, err := net.DialTimeout("tcp", dst.String(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.RemoteAddr().String(); got != dst.String() {
		t.Errorf("remote %s, want %s", got, dst)
	}
	c.Close()
	// A child outside every workload (in the test's cgroup) neither.
	res, _ := dial(t, nil, dialReq{Dst: dst.String()})
	if res.Err != "" || res.Peer != dst.String() {
		t.Errorf("child outside: %+v", res)
	}
	deadline := time.Now().Add(5 * time.Second)
	for orig.n.Load() < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := orig.n.Load(); n != 2 {
		t.Errorf("destination got %d connections, want 2", n)
	}
	if n := proxy.n.Load(); n != 0 {
		t.Errorf("proxy got %d connections, want 0", n)
	}
	sizes, err := o.MapSizes()
	if err != nil {
		t.Fatal(err)
	}
	if sizes.SockOrig != 0 || sizes.ConnOrig != 0 {
		t.Errorf("map sizes %+v, want no connection entries", sizes)
	}
}
