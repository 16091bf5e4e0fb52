// SPDX-License-Identifier: Apache-2.0

// The output buffer: collects masked bytes, escapes the content of JSON
// strings, and writes to the destination in large pieces.

package mask

import (
	"io"
	"unicode/utf8"
)

// flushAt is the size at which the output is written to the destination.
const flushAt = 32 << 10

// output buffers what goes to dst. A write error is kept and stops all
// later writes; callers check err.
type output struct {
	dst io.Writer
	buf []byte
	n   int64 // bytes written to dst
	err error
	// carry holds the start of a UTF-8 sequence cut off at the end of the
	// last escaped piece, completed by the next one.
	carry  [utf8.UTFMax]byte
	ncarry int
}

func (o *output) reset(dst io.Writer, buf []byte) {
	*o = output{dst: dst, buf: buf[:0]}
}

func (o *output) flush() {
	o.settle()
	if len(o.buf) == 0 || o.err != nil {
		o.buf = o.buf[:0]
		return
	}
	n, err := o.dst.Write(o.buf)
	o.n += int64(n)
	if err == nil && n < len(o.buf) {
		err = io.ErrShortWrite
	}
	o.err = err
	o.buf = o.buf[:0]
}

func (o *output) maybeFlush() {
	if len(o.buf) >= flushAt {
		o.flush()
	}
}

// settle ends an escaped piece: an incomplete UTF-8 sequence left over is
// invalid and becomes U+FFFD.
func (o *output) settle() {
	if o.ncarry > 0 {
		n := o.ncarry
		o.ncarry = 0
		o.escapeWhole(o.carry[:n])
	}
}

func (o *output) bytes(p []byte) {
	o.settle()
	o.buf = append(o.buf, p...)
	o.maybeFlush()
}

func (o *output) byte(c byte) {
	o.settle()
	o.buf = append(o.buf, c)
}

func (o *output) str(s string) {
	o.settle()
	o.buf = append(o.buf, s...)
}

// escaped writes decoded text as the content of a JSON string. A UTF-8
// sequence split between two calls is joined; invalid UTF-8 becomes
// \ufffd.
func (o *output) escaped(p []byte) {
	if o.ncarry > 0 {
		for len(p) > 0 && !utf8.FullRune(o.carry[:o.ncarry]) {
			o.carry[o.ncarry] = p[0]
			o.ncarry++
			p = p[1:]
		}
		if !utf8.FullRune(o.carry[:o.ncarry]) {
			return
		}
		n := o.ncarry
		o.ncarry = 0
		o.escapeWhole(o.carry[:n])
	}
	if k := incompleteTail(p); k > 0 {
		o.ncarry = copy(o.carry[:], p[len(p)-k:])
		p = p[:len(p)-k]
	}
	o.escapeWhole(p)
	o.maybeFlush()
}

// incompleteTail returns the length of a UTF-8 sequence at the end of p
// that more bytes could complete, or 0.
func incompleteTail(p []byte) int {
	for k := 1; k <= 3 && k <= len(p); k++ {
		c := p[len(p)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a lead byte
			if utf8.FullRune(p[len(p)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}

const hexDigits = "0123456789abcdef"

func (o *output) escapeWhole(p []byte) {
	start := 0
	for i := 0; i < len(p); {
		c := p[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(p[i:])
			if r == utf8.RuneError && size == 1 {
				o.buf = append(o.buf, p[start:i]...)
				o.buf = append(o.buf, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		o.buf = append(o.buf, p[start:i]...)
		switch c {
		case '"', '\\':
			o.buf = append(o.buf, '\\', c)
		case '\n':
			o.buf = append(o.buf, '\\', 'n')
		case '\r':
			o.buf = append(o.buf, '\\', 'r')
		case '\t':
			o.buf = append(o.buf, '\\', 't')
		default:
			o.buf = append(o.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	o.buf = append(o.buf, p[start:]...)
}
