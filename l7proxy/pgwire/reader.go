// SPDX-License-Identifier: Apache-2.0

// Reader: splits a stream into messages, bounded by a size limit, with a
// buffer that grows only as bytes arrive.

package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Limits of a Reader.
const (
	// DefaultMaxMessage bounds a message (length field included) when
	// NewReader is given 0. PostgreSQL's own limit for most messages is
	// 1 GiB; a proxy that inspects them needs a smaller one.
	DefaultMaxMessage = 64 << 20
	// MaxStartup bounds startup-phase messages, as PostgreSQL does
	// (MAX_STARTUP_PACKET_LENGTH).
	MaxStartup = 10000
	// minBuffer is the smallest buffer a Reader keeps.
	minBuffer = 8 << 10
	// keepBuffer is the largest buffer a Reader keeps between messages:
	// a larger one, grown for a large message, is dropped after it.
	keepBuffer = 1 << 20
)

// Reader reads messages from a stream. It is not safe for concurrent use.
type Reader struct {
	src        io.Reader
	max        int
	buf        []byte
	start, end int // unconsumed bytes are buf[start:end]
}

// NewReader returns a Reader of src that refuses messages longer than max
// bytes (length field included); max <= 0 means DefaultMaxMessage.
func NewReader(src io.Reader, max int) *Reader {
	if max <= 0 {
		max = DefaultMaxMessage
	}
	return &Reader{src: src, max: max}
}

// Reset makes r read from src, keeping its buffer and dropping any
// buffered bytes.
func (r *Reader) Reset(src io.Reader) {
	r.src = src
	r.start, r.end = 0, 0
}

// Buffered returns how many bytes r has read from its source beyond the
// messages it returned. After an SSLRequest or GSSENCRequest it must be
// zero: bytes sent before the TLS handshake must not be taken for bytes
// sent inside it.
func (r *Reader) Buffered() int { return r.end - r.start }

// Pending returns the bytes r has read from its source beyond the
// messages it returned, for a caller that hands the stream on (a
// passthrough). They are valid until the next call.
func (r *Reader) Pending() []byte { return r.buf[r.start:r.end] }

// Ready reports whether a whole typed message is buffered: the next call
// to Next returns it without reading from the source.
func (r *Reader) Ready() bool {
	if r.end-r.start < 5 {
		return false
	}
	n := int64(binary.BigEndian.Uint32(r.buf[r.start+1:]))
	return n < 4 || int64(r.end-r.start) >= n+1 // a bad length fails without reading
}

// Next reads one typed message (every message after the startup phase)
// and returns its type and body (without the type and length). The body
// is valid until the next call.
func (r *Reader) Next() (typ byte, body []byte, err error) {
	r.compact()
	if err := r.fill(5); err != nil {
		return 0, nil, err
	}
	typ = r.buf[r.start]
	n := int64(binary.BigEndian.Uint32(r.buf[r.start+1:]))
	if n < 4 {
		return 0, nil, malformed(fmt.Sprintf("message %q", typ), fmt.Sprintf("length %d", n))
	}
	if n+1 > int64(r.max) {
		return 0, nil, &TooLargeError{Type: typ, Length: n, Max: r.max}
	}
	if err := r.fill(int(n) + 1); err != nil {
		return 0, nil, err
	}
	body = r.buf[r.start+5 : r.start+1+int(n)]
	r.start += 1 + int(n)
	return typ, body, nil
}

// ReadStartup reads one untyped startup-phase message (StartupMessage,
// SSLRequest, GSSENCRequest, CancelRequest) and returns its body: what
// follows the length, starting with the protocol version or request
// code. Its limit is MaxStartup, or the Reader's if lower.
func (r *Reader) ReadStartup() ([]byte, error) {
	r.compact()
	if err := r.fill(4); err != nil {
		return nil, err
	}
	n := int64(binary.BigEndian.Uint32(r.buf[r.start:]))
	limit := min(MaxStartup, r.max)
	if n < 8 {
		return nil, malformed("startup message", fmt.Sprintf("length %d", n))
	}
	if n > int64(limit) {
		return nil, &TooLargeError{Length: n, Max: limit}
	}
	if err := r.fill(int(n)); err != nil {
		return nil, err
	}
	body := r.buf[r.start+4 : r.start+int(n)]
	r.start += int(n)
	return body, nil
}

// compact moves unconsumed bytes to the front, and drops a buffer grown
// for a large message.
func (r *Reader) compact() {
	if r.start == r.end {
		r.start, r.end = 0, 0
		if cap(r.buf) > keepBuffer {
			r.buf = nil
		}
		return
	}
	if r.start > 0 {
		r.end = copy(r.buf, r.buf[r.start:r.end])
		r.start = 0
	}
}

// fill reads until n bytes are buffered from r.start. The buffer doubles
// when full, never past n: memory follows the bytes received, not the
// length a peer declared.
func (r *Reader) fill(n int) error {
	for r.end-r.start < n {
		if r.end == len(r.buf) {
			if r.start > 0 {
				r.end = copy(r.buf, r.buf[r.start:r.end])
				r.start = 0
			}
			if r.end == len(r.buf) {
				grow := max(2*len(r.buf), minBuffer)
				grow = min(grow, max(n, minBuffer))
				nb := make([]byte, grow)
				copy(nb, r.buf[:r.end])
				r.buf = nb
			}
		}
		m, err := r.src.Read(r.buf[r.end:])
		r.end += m
		if err != nil {
			if r.end-r.start >= n {
				return nil
			}
			if err == io.EOF && r.end > r.start {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}
