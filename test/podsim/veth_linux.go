// SPDX-License-Identifier: Apache-2.0

// The pod's veth pair: picking a free /30 of the documentation ranges under a
// lock that all test processes share, and making the pair.

package podsim

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// vethPools are the documentation ranges of RFC 5737, tried in order:
// TEST-NET-1, then TEST-NET-2 and TEST-NET-3 for hosts that already use
// TEST-NET-1 themselves (this project's dev VMs have eth0 in 192.0.2.0/24).
// A /30 is taken only where no address or route of the host overlaps it, so
// a pod never shadows a route the host uses.
var vethPools = []netip.Prefix{
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
}

// vethLock serializes /30 allocation across every process on the machine;
// flock locks of separate opens also exclude each other within a process.
const vethLock = "/run/interlock-podsim.lock"

// podIfName is the pod side of the veth, as in a Kubernetes pod.
const podIfName = "eth0"

// lockFile takes an exclusive flock on path, polling so ctx can stop it.
// The returned func releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock: %w", err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) && !errors.Is(err, unix.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// freeSlash30 picks at random a /30 of the first of vethPools that has one
// that no address or route of the host namespace overlaps.
func freeSlash30() (netip.Prefix, error) {
	var used []netip.Prefix
	addrs, err := netlink.AddrList(nil, netlink.FAMILY_V4)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("list addresses: %w", err)
	}
	for _, a := range addrs {
		if p, ok := prefixOf(a.IPNet); ok {
			used = append(used, p)
		}
	}
	routes, err := netlink.RouteListFiltered(netlink.FAMILY_V4, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("list routes: %w", err)
	}
	for _, r := range routes {
		if p, ok := prefixOf(r.Dst); ok && p.Bits() > 0 {
			used = append(used, p)
		}
	}
	for _, pool := range vethPools {
		if p, ok := pickSlash30(pool, used, rand.IntN); ok {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("no free /30 left in %v", vethPools)
}

// pickSlash30 returns a /30 of the /24 pool that overlaps none of used,
// chosen with intn among the free ones.
func pickSlash30(pool netip.Prefix, used []netip.Prefix, intn func(int) int) (netip.Prefix, bool) {
	var free []netip.Prefix
	base := pool.Masked().Addr().As4()
	for i := 0; i < 256; i += 4 {
		b := base
		b[3] = byte(i)
		p := netip.PrefixFrom(netip.AddrFrom4(b), 30)
		taken := false
		for _, u := range used {
			if u.Overlaps(p) {
				taken = true
				break
			}
		}
		if !taken {
			free = append(free, p)
		}
	}
	if len(free) == 0 {
		return netip.Prefix{}, false
	}
	return free[intn(len(free))], true
}

func prefixOf(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones).Masked(), true
}

// addVeth makes the veth pair between the host and the pod namespace ns
// (reached through h): host side .1, pod side .2 of a free /30, both up.
// It records the host side's name in w as soon as the pair exists.
func (w *Workload) addVeth(ctx context.Context, ns netns.NsHandle, h *netlink.Handle) error {
	unlock, err := lockFile(ctx, vethLock)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := freeSlash30()
	if err != nil {
		return err
	}
	hostAddr := p.Addr().Next()
	podAddr := hostAddr.Next()

	var host netlink.Link
	for range 10 {
		name := fmt.Sprintf("il-%08x", rand.Uint32())
		veth := &netlink.Veth{
			LinkAttrs:     netlink.LinkAttrs{Name: name},
			PeerName:      podIfName,
			PeerNamespace: netlink.NsFd(ns),
		}
		err = netlink.LinkAdd(veth)
		if errors.Is(err, unix.EEXIST) {
			continue
		}
		if err != nil {
			return fmt.Errorf("add veth: %w", err)
		}
		w.vethName = name
		host = veth
		break
	}
	if host == nil {
		return fmt.Errorf("add veth: %w", err)
	}
	if err := netlink.AddrAdd(host, addrOf(hostAddr)); err != nil {
		return fmt.Errorf("address host veth: %w", err)
	}
	if err := netlink.LinkSetUp(host); err != nil {
		return fmt.Errorf("host veth up: %w", err)
	}
	pod, err := h.LinkByName(podIfName)
	if err != nil {
		return fmt.Errorf("find pod veth: %w", err)
	}
	if err := h.AddrAdd(pod, addrOf(podAddr)); err != nil {
		return fmt.Errorf("address pod veth: %w", err)
	}
	if err := h.LinkSetUp(pod); err != nil {
		return fmt.Errorf("pod veth up: %w", err)
	}
	w.hostAddr, w.podAddr = hostAddr, podAddr
	return nil
}

func addrOf(a netip.Addr) *netlink.Addr {
	return &netlink.Addr{IPNet: &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(30, 32)}}
}

// deleteVeth removes the host side, which takes the pod side with it.
func deleteVeth(name string) error {
	link, err := netlink.LinkByName(name)
	if errors.As(err, new(netlink.LinkNotFoundError)) || errors.Is(err, unix.ENODEV) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("find veth: %w", err)
	}
	if err := netlink.LinkDel(link); err != nil {
		return fmt.Errorf("delete veth: %w", err)
	}
	return nil
}
