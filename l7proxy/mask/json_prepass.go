// SPDX-License-Identifier: Apache-2.0

// The prepass for negative indices: the whole body is read, and the
// length of every array is counted before the transform starts.

package mask

import (
	"errors"
	"io"
)

// prepass reads the whole body into the input buffer (up to the limit)
// and records the length of every array in the order the arrays open. It
// need not validate: the transform that follows does.
func (p *jsonParser) prepass() error {
	in := &p.in
	for {
		if in.w == len(in.buf) {
			nb := make([]byte, 2*len(in.buf))
			copy(nb, in.buf[:in.w])
			in.buf = nb
		}
		n, err := in.src.read(in.buf[in.w:])
		in.w += n
		if errors.Is(err, io.EOF) {
			in.err = io.EOF
			break
		}
		if err != nil {
			return err
		}
	}
	p.lengths = arrayLengths(in.buf[:in.w])
	return nil
}

// arrayLengths returns the number of elements of each array in
// doc, in the order the arrays open.
func arrayLengths(doc []byte) []int {
	type open struct {
		slot  int // index in out; -1 for an object
		count int
		any   bool
	}
	var out []int
	var stack []open
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			for i++; i < len(doc) && doc[i] != '"'; i++ {
				if doc[i] == '\\' {
					i++
				}
			}
		case ',':
			if n := len(stack); n > 0 {
				stack[n-1].count++
			}
			continue
		case ']', '}':
			if n := len(stack); n > 0 {
				if o := stack[n-1]; o.slot >= 0 {
					if o.any {
						o.count++
					}
					out[o.slot] = o.count
				}
				stack = stack[:n-1]
			}
			continue
		}
		if n := len(stack); n > 0 {
			stack[n-1].any = true
		}
		switch c {
		case '[':
			stack = append(stack, open{slot: len(out)})
			out = append(out, 0)
		case '{':
			stack = append(stack, open{slot: -1})
		}
	}
	return out
}
