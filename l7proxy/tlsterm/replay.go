// SPDX-License-Identifier: Apache-2.0

// Conn: a connection that replays the bytes Peek read before reading the
// socket again.

package tlsterm

import (
	"net"
	"net/netip"
)

// Conn is a net.Conn whose first Reads return the peeked bytes and later
// ones read the underlying connection. Writes, Close and deadlines go to
// the underlying connection. Reads must not be concurrent (crypto/tls
// makes none); everything else is as safe as the underlying connection.
type Conn struct {
	net.Conn
	// Dst is the connection's original destination. The Minter mints a
	// leaf for its address when the client sent no server name.
	Dst netip.AddrPort
	// peeked is what remains to be replayed; owned by Read.
	peeked []byte
}

// Replay returns a Conn that reads peeked and then c. It keeps peeked
// until it has been read: the caller must not change it.
func Replay(c net.Conn, peeked []byte, dst netip.AddrPort) *Conn {
	return &Conn{Conn: c, Dst: dst, peeked: peeked}
}

// Read reads the peeked bytes first, then the underlying connection; it
// never mixes both in one call.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.peeked) > 0 {
		n := copy(p, c.peeked)
		c.peeked = c.peeked[n:]
		if len(c.peeked) == 0 {
			c.peeked = nil // let the buffer go
		}
		return n, nil
	}
	return c.Conn.Read(p)
}

// NetConn returns the underlying connection, as crypto/tls's Conn does.
// Bytes not yet replayed are not in it.
func (c *Conn) NetConn() net.Conn { return c.Conn }
