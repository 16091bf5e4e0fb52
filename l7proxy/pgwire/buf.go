// SPDX-License-Identifier: Apache-2.0

// Decoding cursor and encoding helpers shared by the messages.

package pgwire

import (
	"bytes"
	"encoding/binary"
)

// cursor walks a message body. Each read reports false when the body is
// too short; the first failure sticks.
type cursor struct {
	b  []byte
	ok bool
}

func newCursor(b []byte) cursor { return cursor{b: b, ok: true} }

func (c *cursor) u8() byte {
	if !c.ok || len(c.b) < 1 {
		c.ok = false
		return 0
	}
	v := c.b[0]
	c.b = c.b[1:]
	return v
}

func (c *cursor) u16() uint16 {
	if !c.ok || len(c.b) < 2 {
		c.ok = false
		return 0
	}
	v := binary.BigEndian.Uint16(c.b)
	c.b = c.b[2:]
	return v
}

func (c *cursor) u32() uint32 {
	if !c.ok || len(c.b) < 4 {
		c.ok = false
		return 0
	}
	v := binary.BigEndian.Uint32(c.b)
	c.b = c.b[4:]
	return v
}

// bytes returns the next n bytes (pointing into the body).
func (c *cursor) bytes(n int) []byte {
	if !c.ok || n < 0 || len(c.b) < n {
		c.ok = false
		return nil
	}
	v := c.b[:n:n]
	c.b = c.b[n:]
	return v
}

// cstr returns the next NUL-terminated string, copied.
func (c *cursor) cstr() string {
	if !c.ok {
		return ""
	}
	i := bytes.IndexByte(c.b, 0)
	if i < 0 {
		c.ok = false
		return ""
	}
	v := string(c.b[:i])
	c.b = c.b[i+1:]
	return v
}

// rest returns what is left.
func (c *cursor) rest() []byte {
	v := c.b
	c.b = nil
	return v
}

// done reports whether every read succeeded and the body was consumed.
func (c *cursor) done() bool { return c.ok && len(c.b) == 0 }

// count reads an int16 element count, checking that at least min bytes
// per element remain (so that a count cannot make a caller allocate more
// than the body could hold).
func (c *cursor) count(minEach int) int {
	n := int(int16(c.u16()))
	if !c.ok || n < 0 || n*minEach > len(c.b) {
		c.ok = false
		return 0
	}
	return n
}

// begin appends a message header with a length placeholder and returns
// the offset of the length field.
func begin(dst []byte, typ byte) ([]byte, int) {
	if typ != 0 {
		dst = append(dst, typ)
	}
	return append(dst, 0, 0, 0, 0), len(dst)
}

// finish fills in the length of the message whose length field is at off.
func finish(dst []byte, off int) []byte {
	binary.BigEndian.PutUint32(dst[off:], uint32(len(dst)-off))
	return dst
}

func appendU16(dst []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(dst, v) }
func appendU32(dst []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(dst, v) }

func appendCStr(dst []byte, s string) []byte { return append(append(dst, s...), 0) }

// appendFormats appends an int16 count and the format codes.
func appendFormats(dst []byte, f []int16) []byte {
	dst = appendU16(dst, uint16(len(f)))
	for _, v := range f {
		dst = appendU16(dst, uint16(v))
	}
	return dst
}

// readFormats reads an int16 count and that many format codes into dst.
func (c *cursor) formats(dst []int16) []int16 {
	n := c.count(2)
	dst = dst[:0]
	for range n {
		dst = append(dst, int16(c.u16()))
	}
	return dst
}
