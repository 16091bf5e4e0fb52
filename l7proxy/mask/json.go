// SPDX-License-Identifier: Apache-2.0

// The streaming JSON transform: a validating parser with an explicit stack
// that copies the document to the output, replacing selected values and
// detector matches.

package mask

import (
	"bytes"
	"context"
	"errors"
	"io"
)

// JSON reads one JSON document from src and writes it to dst with the
// values selected by JSON path rules replaced by "[MASKED]" (whatever
// their type) and detector matches inside strings (keys too) and numbers
// replaced by their markers; a number with a match becomes a string.
// Everything else is copied byte for byte, white space included. A body of
// only white space is copied as is.
//
// Memory: the document is streamed; only a string longer than 64 KiB is
// processed in windows (and re-escaped), and a number longer than 64
// bytes is not scanned (no card number is). When a path has a negative
// index ($.a[-1]) the whole body is read first, up to the limit, since an
// array's length is known only at its end; nothing is written then until
// the body is known to fit.
//
// On error (*SyntaxError, *TooLargeError, the context's or a reader's or
// writer's error) what was written is a masked prefix of the document: the
// caller must abort the response. The Result counts what was masked up to
// the error.
func (m *Masker) JSON(ctx context.Context, dst io.Writer, src io.Reader) (Result, error) {
	sc := m.pool.get(len(m.attrs))
	defer m.pool.put(sc)
	p := &jsonParser{m: m, sc: sc}
	p.in.src = source{ctx: ctx, src: src, limit: m.maxBytes}
	if m.maxBytes < 0 {
		p.in.src.limit = -1
	}
	if cap(sc.in) < inBufSize {
		sc.in = make([]byte, inBufSize)
	}
	p.in.buf = sc.in[:cap(sc.in)]
	if cap(sc.out) < flushAt+1024 {
		sc.out = make([]byte, 0, 2*flushAt)
	}
	p.out.reset(dst, sc.out)
	if m.negative {
		if err := p.prepass(); err != nil {
			return m.result(sc.counts, p.in.src.n, 0), err
		}
	}
	err := p.run()
	p.out.flush()
	sc.out = p.out.buf[:0]
	if cap(p.in.buf) <= 4*inBufSize {
		sc.in = p.in.buf[:0] // keep a grown buffer, not a whole prepassed body
	}
	if err == nil {
		err = p.out.err
	}
	return m.result(sc.counts, p.in.src.n, p.out.n), err
}

// jsonParser is the state of one JSON transform.
type jsonParser struct {
	m   *Masker
	sc  *scratch
	in  jsonInput
	out output
	cur cursor
	// lengths are the array lengths from the prepass, in the order the
	// arrays open; arrays counts the arrays opened so far.
	lengths   []int
	arrays    int
	scopedBuf [8]int
	// setCache holds path-extended detector sets by (parent set, rule).
	setCache map[setKey]*activeSet
}

type setKey struct {
	parent *activeSet
	rule   int
}

// frame is one open array or object.
type frame struct {
	array bool
	first bool // no element or member yet
	// quiet: inside a value that a path masks whole: nothing is emitted.
	quiet  bool
	index  int // next element's index
	length int // array length, -1 when unknown
	// lo, hi delimit the path states of this container in sc.states.
	lo, hi int
	set    *activeSet
}

func (p *jsonParser) syntax(msg string) error {
	return &SyntaxError{Offset: p.in.offset(), Msg: msg}
}

// eof returns the error for input that ended too soon.
func (p *jsonParser) eof() error {
	if p.in.err != nil && !errors.Is(p.in.err, io.EOF) {
		return p.in.err
	}
	return p.syntax("unexpected end of input")
}

func (p *jsonParser) quiet() bool {
	if n := len(p.sc.stack); n > 0 {
		return p.sc.stack[n-1].quiet
	}
	return false
}

// ws skips white space, emitting it unless quiet; false at the end of
// input.
func (p *jsonParser) ws() bool {
	if p.in.r < p.in.w {
		if c := p.in.buf[p.in.r]; c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return true
		}
	}
	return p.wsSlow()
}

func (p *jsonParser) wsSlow() bool {
	quiet := p.quiet()
	for {
		b := p.in.buf[p.in.r:p.in.w]
		i := 0
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
			i++
		}
		if !quiet && i > 0 {
			p.out.bytes(b[:i])
		}
		p.in.r += i
		if i < len(b) {
			return true
		}
		if !p.in.fill() {
			return false
		}
	}
}

var bom = []byte{0xEF, 0xBB, 0xBF}

func (p *jsonParser) run() error {
	if p.in.need(3) && bytes.Equal(p.in.buf[p.in.r:p.in.r+3], bom) {
		p.out.bytes(bom)
		p.in.r += 3
	}
	if !p.ws() {
		if p.in.err != nil && !errors.Is(p.in.err, io.EOF) {
			return p.in.err
		}
		return nil // empty body
	}
	if err := p.value(selector{root: true}); err != nil {
		return err
	}
	for len(p.sc.stack) > 0 {
		if p.out.err != nil {
			return p.out.err
		}
		if !p.ws() {
			return p.eof()
		}
		f := &p.sc.stack[len(p.sc.stack)-1]
		c := p.in.buf[p.in.r]
		if !f.first {
			switch {
			case c == ',':
				p.in.r++
				if !f.quiet {
					p.out.byte(',')
				}
				if !p.ws() {
					return p.eof()
				}
				c = p.in.buf[p.in.r]
			case c == ']' && f.array, c == '}' && !f.array:
				p.close()
				continue
			default:
				return p.syntax("want , or the end of the " + f.kind())
			}
		} else if c == ']' && f.array || c == '}' && !f.array {
			p.close()
			continue
		}
		f.first = false
		if f.array {
			idx := f.index
			f.index++
			if err := p.value(selector{index: idx, length: f.length}); err != nil {
				return err
			}
			continue
		}
		if c != '"' {
			return p.syntax("want a member name")
		}
		if err := p.member(f); err != nil {
			return err
		}
	}
	if p.ws() {
		return p.syntax("data after the document")
	}
	return p.eof2()
}

// eof2 returns nil at a clean end of input, or the read error.
func (p *jsonParser) eof2() error {
	if p.in.err != nil && !errors.Is(p.in.err, io.EOF) {
		return p.in.err
	}
	return nil
}

func (f *frame) kind() string {
	if f.array {
		return "array"
	}
	return "object"
}

// member reads "name": value in the object f.
func (p *jsonParser) member(f *frame) error {
	quiet, set := f.quiet, f.set
	capture := len(p.m.paths) > 0 && f.hi > f.lo && !quiet
	if err := p.str(set, quiet, capture); err != nil {
		return err
	}
	if !p.ws() {
		return p.eof()
	}
	if p.in.buf[p.in.r] != ':' {
		return p.syntax("want : after a member name")
	}
	p.in.r++
	if !quiet {
		p.out.byte(':')
	}
	if !p.ws() {
		return p.eof()
	}
	return p.value(selector{key: p.sc.key, member: true})
}

// close ends the innermost array or object.
func (p *jsonParser) close() {
	st := p.sc.stack
	f := st[len(st)-1]
	if !f.quiet {
		p.out.byte(p.in.buf[p.in.r])
		p.out.maybeFlush()
	}
	p.in.r++
	p.sc.states = p.sc.states[:f.lo]
	p.sc.stack = st[:len(st)-1]
}

// value reads the value that starts at the current byte, after white
// space.
func (p *jsonParser) value(sel selector) error {
	var parent *frame
	parentQuiet, set := false, p.m.global
	if n := len(p.sc.stack); n > 0 {
		parent = &p.sc.stack[n-1]
		parentQuiet, set = parent.quiet, parent.set
	}
	lo := len(p.sc.states)
	quiet := parentQuiet
	if len(p.m.paths) > 0 && !parentQuiet {
		whole, scoped := p.step(parent, sel)
		if whole >= 0 {
			quiet = true
			p.out.byte('"')
			p.out.str(PathMarker)
			p.out.byte('"')
			p.sc.counts[whole]++
		}
		for _, r := range scoped {
			set = p.extend(set, r)
		}
	}
	hi := len(p.sc.states)
	c := p.in.buf[p.in.r]
	switch {
	case c == '{' || c == '[':
		if len(p.sc.stack) >= p.m.maxDepth {
			return &SyntaxError{Offset: p.in.offset(), Err: ErrTooDeep}
		}
		f := frame{array: c == '[', first: true, quiet: quiet, length: -1, lo: lo, hi: hi, set: set}
		if f.array {
			if p.arrays < len(p.lengths) {
				f.length = p.lengths[p.arrays]
			}
			p.arrays++
		}
		p.sc.stack = append(p.sc.stack, f)
		p.in.r++
		if !quiet {
			p.out.byte(c)
		}
		return nil
	case c == '"':
		err := p.str(set, quiet, false)
		p.sc.states = p.sc.states[:lo]
		return err
	case c == '-' || c >= '0' && c <= '9':
		err := p.number(set, quiet)
		p.sc.states = p.sc.states[:lo]
		return err
	case c == 't':
		return p.literal("true", quiet, lo)
	case c == 'f':
		return p.literal("false", quiet, lo)
	case c == 'n':
		return p.literal("null", quiet, lo)
	}
	return p.syntax("want a value")
}

// extend returns set with path rule r's detectors, cached.
func (p *jsonParser) extend(set *activeSet, r int) *activeSet {
	pr := &p.m.paths[r]
	if set == p.m.global {
		return pr.scoped
	}
	k := setKey{set, r}
	if s, ok := p.setCache[k]; ok {
		return s
	}
	if p.setCache == nil {
		p.setCache = make(map[setKey]*activeSet)
	}
	s := pr.extend(set)
	p.setCache[k] = s
	return s
}

func (p *jsonParser) literal(word string, quiet bool, lo int) error {
	p.sc.states = p.sc.states[:lo]
	if !p.in.need(len(word)) {
		if p.in.w-p.in.r < len(word) && !bytes.HasPrefix([]byte(word), p.in.buf[p.in.r:p.in.w]) {
			return p.syntax("want a value")
		}
		return p.eof()
	}
	if string(p.in.buf[p.in.r:p.in.r+len(word)]) != word {
		return p.syntax("want a value")
	}
	p.in.r += len(word)
	if !quiet {
		p.out.str(word)
	}
	return nil
}
