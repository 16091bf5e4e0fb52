// SPDX-License-Identifier: Apache-2.0

// Peek: reading a connection's TLS ClientHello, bounded in size and time,
// without consuming it.

package tlsterm

import (
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// Limits of Peek.
const (
	// MaxHelloSize bounds the bytes Peek reads from a connection, record
	// headers included. Real ClientHellos are under 4 KiB, post-quantum
	// key shares and ECH included.
	MaxHelloSize = 64 << 10
	// DefaultPeekTimeout is Peek's deadline when it is given none.
	DefaultPeekTimeout = 10 * time.Second

	recordHeaderLen   = 5
	maxRecordPayload  = 1 << 14 // a plaintext record's limit (RFC 8446 5.1)
	recordHandshake   = 0x16
	handshakeHello    = 0x01
	handshakeHeadLen  = 4
	initialPeekBuffer = 4 << 10
)

// Errors of Peek. Errors from the connection (a deadline, EOF) are
// returned wrapped instead.
var (
	// ErrNotTLS: the first bytes are not a TLS handshake record; the
	// caller may sniff Hello.Raw for another protocol.
	ErrNotTLS = errors.New("not a TLS handshake")
	// ErrMalformed: a TLS handshake that is not a well-formed ClientHello.
	ErrMalformed = errors.New("malformed ClientHello")
	// ErrTooLarge: the ClientHello does not fit in MaxHelloSize bytes.
	ErrTooLarge = errors.New("ClientHello too large")
)

// Hello is what a ClientHello says about where its client is going.
type Hello struct {
	// Raw is every byte Peek read, in order: the records that hold the
	// ClientHello and possibly bytes the client sent after them. Whoever
	// reads the connection next must be given Raw first. Peek returns Raw
	// also with an error, holding what was read until then.
	Raw []byte
	// ServerName is the SNI host name as the client sent it (compare it
	// case-insensitively); empty when the client sent none.
	ServerName string
	// ALPN lists the application protocols the client offers, in its
	// order of preference; nil when it offers none.
	ALPN []string
}

// Peek reads the ClientHello from c without consuming it: the bytes read
// are returned in Hello.Raw, to be replayed. It reads at most
// MaxHelloSize bytes, for at most timeout (DefaultPeekTimeout when zero
// or less), and clears c's read deadline before it returns. Handshake
// messages spanning several records are reassembled.
//
// Errors: ErrNotTLS when the first bytes are not a TLS handshake record,
// ErrMalformed, ErrTooLarge, or c's error (a timeout, io.EOF,
// io.ErrUnexpectedEOF), all wrapped with the "tlsterm: " prefix.
func Peek(c net.Conn, timeout time.Duration) (*Hello, error) {
	if timeout <= 0 {
		timeout = DefaultPeekTimeout
	}
	if err := c.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return &Hello{}, fmt.Errorf("tlsterm: peek: %w", err)
	}
	p := peeker{c: c}
	h := &Hello{}
	err := p.peek(h)
	h.Raw = p.buf
	if derr := c.SetReadDeadline(time.Time{}); err == nil && derr != nil {
		err = derr
	}
	if err != nil {
		return h, fmt.Errorf("tlsterm: peek: %w", err)
	}
	return h, nil
}

// peeker reads records from c into buf, which only grows.
type peeker struct {
	c   net.Conn
	buf []byte
}

// peek reassembles the ClientHello from its records and parses it into h.
func (p *peeker) peek(h *Hello) error {
	if err := p.need(1); err != nil {
		return err
	}
	if p.buf[0] != recordHandshake {
		return ErrNotTLS
	}
	var msg []byte // the handshake message so far; aliases buf while in one record
	own := false   // msg is a copy, reassembled from several records
	for off := 0; ; {
		if err := p.need(off + recordHeaderLen); err != nil {
			return err
		}
		hdr := p.buf[off : off+recordHeaderLen]
		if hdr[0] != recordHandshake || hdr[1] != 3 {
			if off == 0 {
				return ErrNotTLS
			}
			return fmt.Errorf("%w: record of type %#x inside the hello", ErrMalformed, hdr[0])
		}
		n := int(hdr[3])<<8 | int(hdr[4])
		switch {
		case n == 0:
			return fmt.Errorf("%w: empty handshake record", ErrMalformed)
		case n > maxRecordPayload:
			return fmt.Errorf("%w: record of %d bytes", ErrMalformed, n)
		}
		end := off + recordHeaderLen + n
		if end > MaxHelloSize {
			return ErrTooLarge
		}
		if err := p.need(end); err != nil {
			return err
		}
		frag := p.buf[off+recordHeaderLen : end]
		switch {
		case msg == nil:
			msg = frag
		case !own:
			msg = append(append(make([]byte, 0, len(msg)+len(frag)), msg...), frag...)
			own = true
		default:
			msg = append(msg, frag...)
		}
		off = end
		if len(msg) < handshakeHeadLen {
			continue
		}
		if msg[0] != handshakeHello {
			return fmt.Errorf("%w: handshake message of type %d", ErrMalformed, msg[0])
		}
		mlen := int(msg[1])<<16 | int(msg[2])<<8 | int(msg[3])
		if handshakeHeadLen+mlen > MaxHelloSize {
			return ErrTooLarge
		}
		if len(msg) >= handshakeHeadLen+mlen {
			return parseHello(msg[handshakeHeadLen:handshakeHeadLen+mlen], h)
		}
	}
}

// need reads until buf holds at least n bytes (n <= MaxHelloSize), reading
// into buf's spare capacity and never past MaxHelloSize bytes in all.
func (p *peeker) need(n int) error {
	if n > MaxHelloSize {
		return ErrTooLarge
	}
	for len(p.buf) < n {
		if cap(p.buf) < n {
			c := max(initialPeekBuffer, 2*cap(p.buf), n)
			nb := make([]byte, len(p.buf), min(c, MaxHelloSize))
			copy(nb, p.buf)
			p.buf = nb
		}
		m, err := p.c.Read(p.buf[len(p.buf):cap(p.buf)])
		p.buf = p.buf[:len(p.buf)+m]
		if len(p.buf) >= n {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(p.buf) > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
