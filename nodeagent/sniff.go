// SPDX-License-Identifier: Apache-2.0

// Sniffing: whether an intercepted connection on a port other than
// PostgreSQL's speaks PostgreSQL, told from its first eight bytes without
// consuming them (MSG_PEEK), so that whichever handler gets it reads the
// stream from its start.

package nodeagent

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/interlockhq/interlock/l7proxy"
)

// pgPort is PostgreSQL's port: connections to it go to the PostgreSQL
// handler without sniffing (it also takes direct TLS).
const pgPort = 5432

// pgCodes are the codes after the length of a PostgreSQL client's first
// packet: SSLRequest, GSSENCRequest, CancelRequest, and a StartupMessage
// of protocol 3.0.
var pgCodes = [][]byte{
	{0x04, 0xd2, 0x16, 0x2f},
	{0x04, 0xd2, 0x16, 0x30},
	{0x04, 0xd2, 0x16, 0x2e},
	{0x00, 0x03, 0x00, 0x00},
}

// errSilent: the client sent nothing to sniff within the timeout, or
// closed first.
var errSilent = errors.New("the client sent nothing to tell its protocol by")

// startsLikePostgres reports whether b, a client's first bytes, are a
// PostgreSQL startup packet's length and code. It needs eight bytes,
// except that a first byte other than 0 (a TLS record is 0x16, HTTP a
// letter; a startup packet's length is far below 2^24) says no at once.
func startsLikePostgres(b []byte) (pg, sure bool) {
	if len(b) > 0 && b[0] != 0 {
		return false, true
	}
	if len(b) < 8 {
		return false, false
	}
	for _, code := range pgCodes {
		if bytes.Equal(b[4:8], code) {
			return true, true
		}
	}
	return false, true
}

// sniffPostgres reports whether c starts like a PostgreSQL client. It
// reads nothing from c: what c.Peeked does not hold yet it peeks at in the
// socket's receive queue, waiting at most timeout for the client to send
// enough. It returns errSilent when the client sent nothing.
func sniffPostgres(c *l7proxy.Conn, timeout time.Duration) (bool, error) {
	var buf [8]byte
	have := copy(buf[:], c.Peeked)
	if pg, sure := startsLikePostgres(buf[:have]); sure {
		return pg, nil
	}
	rc, err := c.TCPConn.SyscallConn()
	if err != nil {
		return false, fmt.Errorf("sniff: %w", err)
	}
	_ = c.SetReadDeadline(time.Now().Add(timeout))
	defer c.SetReadDeadline(time.Time{})
	got := have
	// A deadline, a reset or EOF ends the wait; what was peeked by then
	// decides.
	_ = rc.Read(func(fd uintptr) bool {
		// The queue holds what follows c.Peeked; peek at it again from
		// its start each time more has arrived.
		n, _, err := unix.Recvfrom(int(fd), buf[have:], unix.MSG_PEEK)
		switch {
		case err == unix.EAGAIN || err == unix.EINTR:
			return false
		case err != nil || n == 0:
			return true
		}
		got = have + n
		_, sure := startsLikePostgres(buf[:got])
		return sure // else wait for more
	})
	if got == 0 {
		return false, errSilent
	}
	// Sure, or a few bytes and then silence: not a PostgreSQL client that
	// can be served; the other handlers decide.
	pg, _ := startsLikePostgres(buf[:got])
	return pg, nil
}
