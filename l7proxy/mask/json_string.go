// SPDX-License-Identifier: Apache-2.0

// JSON strings and numbers: validated, decoded for the detectors, and
// copied unchanged unless a detector matched.

package mask

import (
	"encoding/binary"
	"errors"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Limits of the whole-string path.
const (
	// strWindow: a string whose raw content is longer is scanned in
	// windows (and re-escaped) instead of whole.
	strWindow = 64 << 10
	// maxKey: member names are kept this long for path matching; a path
	// name is at most 1024 bytes, so a longer one matches none.
	maxKey = 1025
	// maxNum: longer numbers are copied without scanning.
	maxNum = 64
)

// SWAR constants for plainLen.
const (
	lsb      = 0x0101010101010101
	msb      = 0x8080808080808080
	quotes   = '"' * lsb
	slashes  = '\\' * lsb
	controls = 0x20 * lsb
)

// plainLen returns the length of the prefix of b without a quote, a
// backslash or a control character. It tests eight bytes at a time.
func plainLen(b []byte) int {
	i := 0
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		q := x ^ quotes
		s := x ^ slashes
		// a byte is zero in q or s, or below 0x20 in x: its high bit is
		// set in the sum (exact for the first such byte)
		if ((q-lsb)&^q|(s-lsb)&^s|(x-controls)&^x)&msb != 0 {
			break
		}
	}
	for ; i < len(b); i++ {
		if c := b[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return len(b)
}

// str reads the string whose opening quote is at r. quiet: validate only.
// capture: keep the decoded name in sc.key for path matching.
func (p *jsonParser) str(set *activeSet, quiet, capture bool) error {
	in := &p.in
	in.r++
	b := in.buf[in.r:in.w]
	if i := plainLen(b); i < len(b) && b[i] == '"' {
		raw := b[:i]
		if capture {
			p.sc.key = append(p.sc.key[:0], raw[:min(len(raw), maxKey)]...)
		}
		if !quiet && !p.maskText(raw, set) {
			p.out.bytes(in.buf[in.r-1 : in.r+i+1]) // with its quotes
		}
		in.r += i + 1
		return nil
	}
	return p.strSlow(set, quiet, capture)
}

// strState is the progress of a string read in pieces.
type strState struct {
	set       *activeSet
	quiet     bool
	capture   bool
	escaped   bool // the raw content has an escape
	streaming bool // past strWindow: pieces go out as they come
}

func (p *jsonParser) strSlow(set *activeSet, quiet, capture bool) error {
	in := &p.in
	st := strState{set: set, quiet: quiet, capture: capture}
	p.sc.raw = p.sc.raw[:0]
	if capture {
		p.sc.key = p.sc.key[:0]
	}
	for {
		b := in.buf[in.r:in.w]
		i := plainLen(b)
		p.piece(&st, b[:i])
		in.r += i
		if in.r == in.w {
			if !in.fill() {
				return p.eof()
			}
			continue
		}
		c := in.buf[in.r]
		if c == '"' {
			in.r++
			break
		}
		if c < 0x20 {
			return p.syntax("control character in a string")
		}
		n, err := p.escapeLen()
		if err != nil {
			return err
		}
		st.escaped = true
		p.piece(&st, in.buf[in.r:in.r+n])
		in.r += n
	}
	if quiet {
		return nil
	}
	if st.streaming {
		if !st.set.empty() {
			p.sc.str.finish()
		}
		p.out.byte('"')
		return nil
	}
	text := p.sc.raw
	if st.escaped {
		p.sc.dec = decodeString(p.sc.dec[:0], p.sc.raw)
		text = p.sc.dec
	}
	if capture {
		p.sc.key = append(p.sc.key[:0], text[:min(len(text), maxKey)]...)
	}
	p.emitText(p.sc.raw, text, set, true)
	return nil
}

// piece takes the next piece of raw string content: plain bytes or whole
// escapes (a surrogate pair is one piece).
func (p *jsonParser) piece(st *strState, raw []byte) {
	if st.quiet || len(raw) == 0 {
		return
	}
	if !st.streaming {
		p.sc.raw = append(p.sc.raw, raw...)
		if len(p.sc.raw) <= strWindow {
			return
		}
		st.streaming = true
		p.out.byte('"')
		if !st.set.empty() {
			p.sc.str.start(st.set, &p.out, true, p.sc.counts)
		}
		raw = p.sc.raw
	}
	if st.set.empty() {
		p.out.bytes(raw) // valid string content, copied as it came
		if st.capture && len(p.sc.key) < maxKey {
			p.sc.dec = decodeString(p.sc.dec[:0], raw)
			p.sc.key = append(p.sc.key, p.sc.dec[:min(len(p.sc.dec), maxKey-len(p.sc.key))]...)
		}
		return
	}
	p.sc.dec = decodeString(p.sc.dec[:0], raw)
	if st.capture && len(p.sc.key) < maxKey {
		p.sc.key = append(p.sc.key, p.sc.dec[:min(len(p.sc.dec), maxKey-len(p.sc.key))]...)
	}
	p.sc.str.write(p.sc.dec)
}

// escapeLen validates the escape at r and returns its length: 2, 6, or 12
// for a surrogate pair (kept together so that pieces decode alone).
func (p *jsonParser) escapeLen() (int, error) {
	in := &p.in
	if !in.need(2) {
		return 0, p.eof()
	}
	switch in.buf[in.r+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, nil
	case 'u':
	default:
		return 0, p.syntax("invalid escape in a string")
	}
	if !in.need(6) {
		return 0, p.eof()
	}
	r, ok := hex4(in.buf[in.r+2 : in.r+6])
	if !ok {
		return 0, p.syntax("invalid \\u escape in a string")
	}
	if utf16.IsSurrogate(r) && r < 0xDC00 && in.need(12) && in.buf[in.r+6] == '\\' && in.buf[in.r+7] == 'u' {
		if r2, ok := hex4(in.buf[in.r+8 : in.r+12]); ok && r2 >= 0xDC00 && r2 <= 0xDFFF {
			return 12, nil
		}
	}
	return 6, nil
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		var v byte
		switch {
		case '0' <= c && c <= '9':
			v = c - '0'
		case 'a' <= c && c <= 'f':
			v = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(v)
	}
	return r, true
}

// decodeString appends the decoded form of valid raw string content made
// of whole escapes. Lone surrogates become U+FFFD, as in encoding/json.
func decodeString(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			j := i + 1
			for j < len(raw) && raw[j] != '\\' {
				j++
			}
			dst = append(dst, raw[i:j]...)
			i = j
			continue
		}
		switch raw[i+1] {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, _ := hex4(raw[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2, _ := hex4(raw[i+2 : i+6]); utf16.DecodeRune(r, r2) != utf8.RuneError {
						dst = utf8.AppendRune(dst, utf16.DecodeRune(r, r2))
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		default: // " \ /
			dst = append(dst, raw[i+1])
		}
		i += 2
	}
	return dst
}

// emitText writes a string (quoted) or a number: raw as it came when no
// detector of set matches text, its decoded form; otherwise text with the
// matches replaced, as a JSON string.
func (p *jsonParser) emitText(raw, text []byte, set *activeSet, quoted bool) {
	if p.maskText(text, set) {
		return
	}
	if quoted {
		p.out.byte('"')
		p.out.bytes(raw)
		p.out.byte('"')
	} else {
		p.out.bytes(raw)
	}
}

// maskText writes text as a JSON string with the matches of set replaced,
// if there are any, and reports whether it did.
func (p *jsonParser) maskText(text []byte, set *activeSet) bool {
	if set.empty() || len(text) < set.minLen {
		return false
	}
	s, e, k := -1, -1, -1
	if p.cur.reset(set, text, -1) {
		s, e, k = p.cur.next(text, 0)
	}
	if s < 0 {
		return false
	}
	p.out.byte('"')
	pos := 0
	for s >= 0 {
		p.out.escaped(text[pos:s])
		en := &set.entries[k]
		p.out.str(en.marker)
		p.sc.counts[en.attr]++
		pos = e
		s, e, k = p.cur.next(text, pos)
	}
	p.out.escaped(text[pos:])
	p.out.byte('"')
	p.out.maybeFlush()
	return true
}

// Number grammar states.
const (
	numStart = iota
	numMinus
	numZero
	numInt
	numDot
	numFrac
	numE
	numESign
	numExp
)

// number reads a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?.
func (p *jsonParser) number(set *activeSet, quiet bool) error {
	in := &p.in
	p.sc.num = p.sc.num[:0]
	long := false
	state := numStart
	for {
		if in.r == in.w && !in.fill() {
			if !errors.Is(in.err, io.EOF) {
				return p.eof()
			}
			break
		}
		c := in.buf[in.r]
		next := numberStep(state, c)
		if next < 0 {
			break
		}
		state = next
		in.r++
		if quiet {
			continue
		}
		p.sc.num = append(p.sc.num, c)
		if len(p.sc.num) > maxNum {
			p.out.bytes(p.sc.num)
			p.sc.num = p.sc.num[:0]
			long = true
		}
	}
	switch state {
	case numZero, numInt, numFrac, numExp:
	default:
		return p.syntax("invalid number")
	}
	if quiet {
		return nil
	}
	if long {
		p.out.bytes(p.sc.num)
		return nil
	}
	p.emitText(p.sc.num, p.sc.num, set, false)
	return nil
}

// numberStep returns the state after c, or -1 if c does not continue the
// number.
func numberStep(state int, c byte) int {
	digit := '0' <= c && c <= '9'
	switch state {
	case numStart:
		if c == '-' {
			return numMinus
		}
		fallthrough
	case numMinus:
		if c == '0' {
			return numZero
		}
		if digit {
			return numInt
		}
	case numInt:
		if digit {
			return numInt
		}
		fallthrough
	case numZero:
		if c == '.' {
			return numDot
		}
		if c == 'e' || c == 'E' {
			return numE
		}
	case numDot, numFrac:
		if digit {
			return numFrac
		}
		if state == numFrac && (c == 'e' || c == 'E') {
			return numE
		}
	case numE:
		if c == '+' || c == '-' {
			return numESign
		}
		fallthrough
	case numESign, numExp:
		if digit {
			return numExp
		}
	}
	return -1
}
