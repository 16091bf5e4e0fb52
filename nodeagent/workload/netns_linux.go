// SPDX-License-Identifier: Apache-2.0

// Listening inside a network namespace (the in-pod listener pattern of
// Istio ambient's ztunnel) and reading a namespace's cookie, on Linux.

package workload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"

	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// ListenInNetns opens a listener inside the network namespace at netnsPath
// (/proc/PID/ns/net, /var/run/netns/NAME). The socket is made on a locked
// OS thread switched into the namespace and stays there; the thread is
// switched back before it is unlocked, or, if that fails, discarded by the
// runtime. network is "tcp", "tcp4", "tcp6" or "unix" (an abstract "@name"
// is per namespace, a path is not); a TCP address must have an IP literal
// or no host. The caller closes the listener; it keeps the namespace alive.
func ListenInNetns(ctx context.Context, netnsPath, network, addr string) (net.Listener, error) {
	ns, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return nil, fmt.Errorf("workload: listen in %s: open netns: %w", netnsPath, err)
	}
	defer ns.Close()
	ln, err := listenIn(ctx, ns, network, addr)
	if err != nil {
		return nil, fmt.Errorf("workload: listen in %s: %w", netnsPath, err)
	}
	return ln, nil
}

// Listen opens a listener where the workload's processes can reach it: in
// the host's namespace when NetnsPath is "", else in the pod's, after
// checking that NetnsPath still names the namespace the scan found
// (ErrNetnsChanged if not). Otherwise as ListenInNetns.
func (w Workload) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	if w.NetnsPath == "" {
		if err := checkListenAddr(network, addr); err != nil {
			return nil, fmt.Errorf("workload: listen for %s: %w", w, err)
		}
		var lc net.ListenConfig
		ln, err := lc.Listen(ctx, network, addr)
		if err != nil {
			return nil, fmt.Errorf("workload: listen for %s: %w", w, err)
		}
		return ln, nil
	}
	ns, err := w.openNetns()
	if err != nil {
		return nil, fmt.Errorf("workload: listen for %s: %w", w, err)
	}
	defer ns.Close()
	ln, err := listenIn(ctx, ns, network, addr)
	if err != nil {
		return nil, fmt.Errorf("workload: listen for %s: %w", w, err)
	}
	return ln, nil
}

func listenIn(ctx context.Context, ns netns.NsHandle, network, addr string) (net.Listener, error) {
	if err := checkListenAddr(network, addr); err != nil {
		return nil, err
	}
	var ln net.Listener
	var lerr error
	err := inNetns(ns, func() {
		var lc net.ListenConfig
		ln, lerr = lc.Listen(ctx, network, addr)
	})
	if err != nil {
		if ln != nil {
			ln.Close()
		}
		return nil, err
	}
	return ln, lerr
}

// NetnsCookieOf returns the cookie of the network namespace at netnsPath:
// the SO_NETNS_COOKIE of a socket made there (Linux 5.14+), the value BPF
// programs get from bpf_get_netns_cookie for that namespace's sockets. It
// tells which pod a listener or a redirected connection belongs to.
func NetnsCookieOf(netnsPath string) (uint64, error) {
	ns, err := netns.GetFromPath(netnsPath)
	if err != nil {
		return 0, fmt.Errorf("workload: netns cookie of %s: %w", netnsPath, err)
	}
	defer ns.Close()
	var cookie uint64
	var cerr error
	err = inNetns(ns, func() {
		fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			cerr = fmt.Errorf("socket: %w", err)
			return
		}
		defer unix.Close(fd)
		if cookie, err = unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE); err != nil {
			cerr = fmt.Errorf("SO_NETNS_COOKIE: %w", err)
		}
	})
	if err = errors.Join(err, cerr); err != nil {
		return 0, fmt.Errorf("workload: netns cookie of %s: %w", netnsPath, err)
	}
	return cookie, nil
}

// inNetns runs fn on a new goroutine whose OS thread is locked and switched
// into ns, and waits for it. The thread is switched back before it is
// unlocked; if that fails the goroutine exits still locked, so the runtime
// ends the thread instead of reusing it in the wrong namespace. Goroutines
// fn starts run on other threads, outside ns.
func inNetns(ns netns.NsHandle, fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("get own netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread() // setns failed: the thread did not move
			errc <- fmt.Errorf("enter netns: %w", err)
			return
		}
		fn()
		if err := netns.Set(orig); err != nil {
			errc <- fmt.Errorf("restore netns (thread discarded): %w", err)
			return // still locked: the thread ends with this goroutine
		}
		runtime.UnlockOSThread()
		errc <- nil
	}()
	return <-errc
}

// Dial connects to addr from inside the workload's network namespace (the
// host's when NetnsPath is ""), so that the connection leaves with the
// pod's own address, as the pod's would have. The socket is made on a
// locked OS thread switched into the namespace; addr must be an IP literal
// and port. Like Listen, it refuses a namespace that changed since the
// scan (ErrNetnsChanged).
func (w Workload) Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if err := checkListenAddr(network, addr); err != nil || network == "unix" {
		return nil, fmt.Errorf("workload: dial %s from %s: %w", addr, w, errors.Join(err, errors.New("want a tcp ip:port")))
	}
	var d net.Dialer
	if w.NetnsPath == "" {
		return d.DialContext(ctx, network, addr)
	}
	ns, err := w.openNetns()
	if err != nil {
		return nil, fmt.Errorf("workload: dial from %s: %w", w, err)
	}
	defer ns.Close()
	var c net.Conn
	var derr error
	if err := inNetns(ns, func() { c, derr = d.DialContext(ctx, network, addr) }); err != nil {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("workload: dial from %s: %w", w, err)
	}
	if derr != nil {
		return nil, fmt.Errorf("workload: dial %s from %s: %w", addr, w, derr)
	}
	return c, nil
}

// openNetns opens the pod's network namespace, checking that NetnsPath
// still names the one the scan found.
func (w Workload) openNetns() (netns.NsHandle, error) {
	ns, err := netns.GetFromPath(w.NetnsPath)
	if err != nil {
		return ns, fmt.Errorf("open netns: %w: %w", ErrNetnsChanged, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		ns.Close()
		return ns, fmt.Errorf("stat netns: %w", err)
	}
	if st.Ino != w.NetnsInode {
		ns.Close()
		return ns, fmt.Errorf("%s is namespace %d, want %d: %w", w.NetnsPath, st.Ino, w.NetnsInode, ErrNetnsChanged)
	}
	return ns, nil
}
