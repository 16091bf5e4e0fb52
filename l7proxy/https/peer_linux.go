// SPDX-License-Identifier: Apache-2.0

// peerClosed: whether a kept-alive connection's server has closed it (or
// sent something unasked), checked without blocking before the connection
// is used again.

package https

import (
	"errors"
	"net"

	"golang.org/x/sys/unix"
)

// peerClosed peeks at c's socket: end of stream, an error, or bytes the
// server sent while the connection was idle (a TLS close_notify, an
// unsolicited response) all mean it must not carry another request.
func peerClosed(c *net.TCPConn) bool {
	rc, err := c.SyscallConn()
	if err != nil {
		return true
	}
	closed := true
	err = rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = !errors.Is(err, unix.EAGAIN) || n > 0
		return true // never wait
	})
	return closed || err != nil
}
