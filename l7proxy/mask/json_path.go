// SPDX-License-Identifier: Apache-2.0

// JSON path matching while streaming: every path rule is a small automaton
// over policy.PathSegment, and each open container keeps the set of
// (rule, segment) states its children start from.

package mask

import "github.com/interlockhq/interlock/l7proxy/policy"

// selector says how a value hangs from its container.
type selector struct {
	root   bool
	member bool   // an object member: key is its decoded name
	key    []byte // valid until the next string is read
	index  int    // an array element's index
	length int    // the array's length, -1 when unknown
}

// pstate: rule r has matched its first k segments at this value.
type pstate struct{ r, k int32 }

// step computes the path states of the value sel below parent (nil for
// the root), appends them to sc.states, and returns the first rule (in
// rule order) that masks the value whole (its attribution, or -1) and the
// rules whose detectors apply to it.
func (p *jsonParser) step(parent *frame, sel selector) (whole int, scoped []int) {
	whole = -1
	wholeRule := len(p.m.paths)
	scoped = p.scopedBuf[:0]
	lo := len(p.sc.states)
	add := func(r, k int32) {
		for _, s := range p.sc.states[lo:] {
			if s.r == r && s.k == k {
				return
			}
		}
		pr := &p.m.paths[r]
		if int(k) == len(pr.segs) {
			if pr.attr >= 0 {
				if int(r) < wholeRule {
					wholeRule, whole = int(r), pr.attr
				}
			} else {
				for _, x := range scoped {
					if x == int(r) {
						return
					}
				}
				scoped = append(scoped, int(r))
			}
			return // no segment left to match below
		}
		p.sc.states = append(p.sc.states, pstate{r, k})
	}
	if sel.root {
		for r := range p.m.paths {
			add(int32(r), 0)
		}
		return whole, scoped
	}
	for i := parent.lo; i < parent.hi; i++ {
		s := p.sc.states[i]
		seg := &p.m.paths[s.r].segs[s.k]
		switch seg.Kind {
		case policy.SegChild:
			if sel.member && string(sel.key) == seg.Name {
				add(s.r, s.k+1)
			}
		case policy.SegIndex:
			if !sel.member && (sel.index == seg.Index || seg.Index < 0 && sel.length >= 0 && sel.index == sel.length+seg.Index) {
				add(s.r, s.k+1)
			}
		case policy.SegWildcard:
			add(s.r, s.k+1)
		case policy.SegDescendant:
			add(s.r, s.k)
			if sel.member && string(sel.key) == seg.Name {
				add(s.r, s.k+1)
			}
		case policy.SegDescendantWildcard:
			add(s.r, s.k)
			add(s.r, s.k+1)
		}
	}
	return whole, scoped
}
