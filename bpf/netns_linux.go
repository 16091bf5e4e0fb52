// SPDX-License-Identifier: Apache-2.0

// netns_linux.go reads the network namespace cookie of a socket, the first
// half of a Lookup key.

package bpf

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
)

// NetnsCookie returns the SO_NETNS_COOKIE of c's socket (Linux 5.14+): the
// same value bpf_get_netns_cookie gives the sockops program for every socket
// of that namespace. Call it on the proxy's accepted connection; the
// accepted socket lives in the listener's (and so the client's) namespace.
func NetnsCookie(c syscall.Conn) (uint64, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return 0, fmt.Errorf("bpf: netns cookie: %w", err)
	}
	var cookie uint64
	var serr error
	err = rc.Control(func(fd uintptr) {
		cookie, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return 0, fmt.Errorf("bpf: netns cookie: %w", err)
	}
	return cookie, nil
}
