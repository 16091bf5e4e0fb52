// SPDX-License-Identifier: Apache-2.0

// The JSON parser's read buffer.

package mask

// jsonInput is a window buf[r:w] on the body. Bytes before r are consumed;
// fill and need may move the window to the start of buf.
type jsonInput struct {
	src  source
	buf  []byte
	r, w int
	off  int64 // input offset of buf[0]
	// err is the error that ended the input: io.EOF, or another that the
	// parser returns. Set with the whole body in buf after the prepass.
	err error
}

func (in *jsonInput) offset() int64 { return in.off + int64(in.r) }

// fill reads more bytes after w, moving the unconsumed ones to the start
// (and growing buf when they fill it). It returns false when no more come
// (in.err says why).
func (in *jsonInput) fill() bool {
	if in.err != nil {
		return false
	}
	if in.r > 0 {
		n := copy(in.buf, in.buf[in.r:in.w])
		in.off += int64(in.r)
		in.r, in.w = 0, n
	}
	if in.w == len(in.buf) {
		nb := make([]byte, 2*len(in.buf))
		copy(nb, in.buf[:in.w])
		in.buf = nb
	}
	n, err := in.src.read(in.buf[in.w:])
	in.w += n
	if err != nil {
		in.err = err
		return n > 0
	}
	return true
}

// need makes at least n bytes available at r; false if the input ends
// first.
func (in *jsonInput) need(n int) bool {
	for in.w-in.r < n {
		if !in.fill() {
			return false
		}
	}
	return true
}
