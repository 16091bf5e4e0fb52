// SPDX-License-Identifier: Apache-2.0

// What listening inside a workload's network namespace needs on every OS:
// the sentinel error and the check of the address.

package workload

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// ErrNetnsChanged is returned by Workload.Listen when NetnsPath no longer
// names the namespace the scan found (the process exited, its PID may have
// been reused): rescan and use the new Workload.
var ErrNetnsChanged = errors.New("network namespace changed since the scan")

// checkListenAddr refuses what cannot be listened on safely from a thread
// inside another namespace: a host name (resolving it would start lookups
// on other threads, in the host's namespace) and networks other than TCP
// and Unix stream sockets.
func checkListenAddr(network, addr string) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return err
		}
		if host == "" {
			return nil
		}
		if _, err := netip.ParseAddr(host); err != nil {
			return fmt.Errorf("listen address %q: host must be an IP address, not a name", addr)
		}
		return nil
	case "unix":
		return nil
	default:
		return fmt.Errorf("network %q: only tcp, tcp4, tcp6 and unix", network)
	}
}
