// SPDX-License-Identifier: Apache-2.0

// Tests of the veth pair: /30 allocation, reachability both ways between pod
// and host, and the pod's lack of a default route.

package podsim

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

func TestPickSlash30(t *testing.T) {
	pool := netip.MustParsePrefix("192.0.2.0/24")
	first := func(int) int { return 0 }
	for _, tt := range []struct {
		name string
		used []string
		want string // "" means none free
	}{
		{"empty", nil, "192.0.2.0/30"},
		{"first taken by an address", []string{"192.0.2.1/32"}, "192.0.2.4/30"},
		{"first two taken by a route", []string{"192.0.2.0/29"}, "192.0.2.8/30"},
		{"unrelated", []string{"10.0.0.0/8", "127.0.0.0/8"}, "192.0.2.0/30"},
		{"host uses the whole /24", []string{"192.0.2.0/24"}, ""},
		{"covering route", []string{"192.0.0.0/16"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var used []netip.Prefix
			for _, u := range tt.used {
				used = append(used, netip.MustParsePrefix(u))
			}
			got, ok := pickSlash30(pool, used, first)
			if tt.want == "" {
				if ok {
					t.Fatalf("got %v, want none free", got)
				}
				return
			}
			if !ok || got != netip.MustParsePrefix(tt.want) {
				t.Fatalf("got %v, %v; want %s", got, ok, tt.want)
			}
		})
	}
}

// serveOnce accepts one connection on ln, writes msg and closes it.
func serveOnce(t testing.TB, ln net.Listener, msg string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.Close()
		if _, err := io.WriteString(c, msg); err != nil {
			t.Errorf("write: %v", err)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
}

func TestVeth(t *testing.T) {
	t.Parallel()
	w := Start(t, Options{Name: "veth", Veth: true})
	host, pod := w.HostAddr(), w.PodAddr()
	if !host.Is4() || !pod.Is4() || host.Next() != pod {
		t.Fatalf("HostAddr %v, PodAddr %v: want consecutive IPv4 addresses", host, pod)
	}
	p := netip.PrefixFrom(host, 30).Masked()
	inPool := false
	for _, pool := range vethPools {
		inPool = inPool || pool.Contains(host)
	}
	if !inPool || p.Addr().Next() != host {
		t.Fatalf("HostAddr %v: want .1 of a /30 in %v", host, vethPools)
	}

	t.Run("host side", func(t *testing.T) {
		link, err := netlink.LinkByName(w.vethName)
		if err != nil {
			t.Fatal(err)
		}
		addrs, err := netlink.AddrList(link, netlink.FAMILY_V4)
		if err != nil || len(addrs) != 1 || !addrs[0].IP.Equal(host.AsSlice()) {
			t.Fatalf("addresses of %s: %v, %v; want %v", w.vethName, addrs, err, host)
		}
	})

	t.Run("pod to in-pod listener from Do", func(t *testing.T) {
		var ln net.Listener
		if err := w.Do(func() (err error) {
			ln, err = net.Listen("tcp", "127.0.0.1:0")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		serveOnce(t, ln, "in-pod loopback")
		out := mustOutput(t, w, helperCmd(t, "dial", ln.Addr().String()))
		if out != "in-pod loopback" {
			t.Fatalf("pod read %q", out)
		}
	})

	t.Run("host to pod address", func(t *testing.T) {
		var ln net.Listener
		if err := w.Do(func() (err error) {
			ln, err = net.Listen("tcp", netip.AddrPortFrom(pod, 0).String())
			return err
		}); err != nil {
			t.Fatal(err)
		}
		serveOnce(t, ln, "from the pod")
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if b, err := io.ReadAll(c); err != nil || string(b) != "from the pod" {
			t.Fatalf("host read %q, %v", b, err)
		}
	})

	t.Run("pod to host address", func(t *testing.T) {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(host, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		serveOnce(t, ln, "from the host")
		out := mustOutput(t, w, helperCmd(t, "dial", ln.Addr().String()))
		if out != "from the host" {
			t.Fatalf("pod read %q", out)
		}
	})

	t.Run("dial from Do", func(t *testing.T) {
		ln, err := net.Listen("tcp", netip.AddrPortFrom(host, 0).String())
		if err != nil {
			t.Fatal(err)
		}
		serveOnce(t, ln, "hello Do")
		var got []byte
		var local net.Addr
		if err := w.Do(func() error {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			local = c.LocalAddr()
			got, err = io.ReadAll(c)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if string(got) != "hello Do" || !strings.HasPrefix(local.String(), pod.String()+":") {
			t.Fatalf("read %q from %v, want %q from %v", got, local, "hello Do", pod)
		}
	})

	t.Run("no default route", func(t *testing.T) {
		ns, err := netns.GetFromPath(w.NetnsPath())
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		h, err := netlink.NewHandleAt(ns)
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
			routes, err := h.RouteListFiltered(fam, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range routes {
				if r.Dst == nil || r.Dst.IP.IsUnspecified() {
					t.Errorf("pod has a default route: %v", r)
				}
			}
		}
		// A route lookup sends nothing: it only asks the pod's table.
		if _, err := h.RouteGet(net.IPv4(198, 18, 0, 1)); !errors.Is(err, unix.ENETUNREACH) {
			t.Errorf("route to 198.18.0.1 from the pod: %v, want ENETUNREACH", err)
		}
	})
}
