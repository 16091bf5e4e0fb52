// SPDX-License-Identifier: Apache-2.0

// The streaming detector scan: a window over a text that keeps lookBehind
// bytes of context and maxMatch bytes of lookahead, so matches split
// across reads are found whole.

package mask

// window sizes: a window is processed once it holds windowStep bytes more
// than the lookahead it must keep.
const (
	windowStep = 32 << 10
	lookahead  = maxMatch + lookBehind
)

// stream masks one text fed in pieces. Its output goes to out, raw (text
// bodies) or JSON-escaped (the content of a long JSON string).
type stream struct {
	set    *activeSet
	out    *output
	escape bool
	counts []uint32

	// buf holds ctx bytes of already emitted context, then the pending
	// text. Owned by the stream, reused across texts.
	buf []byte
	ctx int
	cur cursor
}

// start begins a new text.
func (st *stream) start(set *activeSet, out *output, escape bool, counts []uint32) {
	st.set, st.out, st.escape, st.counts = set, out, escape, counts
	st.buf = st.buf[:0]
	st.ctx = 0
}

// write adds p to the text and processes full windows.
func (st *stream) write(p []byte) {
	for len(p) > 0 {
		room := windowStep + lookahead + st.ctx - len(st.buf)
		n := min(room, len(p))
		st.buf = append(st.buf, p[:n]...)
		p = p[n:]
		if len(st.buf)-st.ctx >= windowStep+lookahead {
			st.process(false)
		}
	}
}

// tail returns the free space at the end of the buffer for a reader to
// fill (at least windowStep bytes); commit(n) adds what was read.
func (st *stream) tail() []byte {
	if cap(st.buf)-len(st.buf) < windowStep {
		nb := make([]byte, len(st.buf), len(st.buf)+2*windowStep+lookahead+lookBehind)
		copy(nb, st.buf)
		st.buf = nb
	}
	return st.buf[len(st.buf):cap(st.buf)]
}

func (st *stream) commit(n int) {
	st.buf = st.buf[:len(st.buf)+n]
	if len(st.buf)-st.ctx >= windowStep+lookahead {
		st.process(false)
	}
}

// finish processes the rest of the text.
func (st *stream) finish() { st.process(true) }

// process masks the pending text up to the point where every match that
// starts before it is known whole (all of it when final), emits it, and
// keeps lookBehind bytes of context.
func (st *stream) process(final bool) {
	text := st.buf
	pos := st.ctx
	stop := len(text)
	if !final {
		stop -= lookahead
	}
	if stop <= pos && !final {
		return
	}
	if !st.set.empty() {
		if final {
			st.cur.reset(st.set, text, len(text))
		} else {
			st.cur.reset(st.set, text, stop)
		}
		for {
			s, e, k := st.cur.next(text, pos)
			if s < 0 || s >= stop && !final {
				break
			}
			st.emit(text[pos:s])
			en := &st.set.entries[k]
			st.out.str(en.marker)
			st.counts[en.attr]++
			pos = e
		}
	}
	end := max(pos, stop)
	st.emit(text[pos:end])
	keep := max(0, end-lookBehind)
	n := copy(st.buf, st.buf[keep:])
	st.buf = st.buf[:n]
	st.ctx = end - keep
}

func (st *stream) emit(p []byte) {
	if st.escape {
		st.out.escaped(p)
	} else {
		st.out.bytes(p)
	}
}
