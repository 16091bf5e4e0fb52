// SPDX-License-Identifier: Apache-2.0

// Finding matches: a set of active matchers, and a cursor that merges
// their matches in text order without overlaps.

package mask

import (
	"math"
	"math/bits"
)

// activeSet is the matchers that apply to a text, each with the counter
// its matches go to. Built by a Masker and immutable afterwards.
type activeSet struct {
	entries []activeEntry
	// trig is the union of the entries' trigger classes; minLen the
	// shortest text any of them can match.
	trig   uint8
	minLen int
}

type activeEntry struct {
	m      int // index in matchers
	attr   int // index in the masker's attribution table
	marker string
}

func (s *activeSet) empty() bool { return s == nil || len(s.entries) == 0 }

// has reports whether the set holds matcher m.
func (s *activeSet) has(m int) bool {
	for _, e := range s.entries {
		if e.m == m {
			return true
		}
	}
	return false
}

// with returns a new set: s and the matchers of detector det counted to
// attr, where s does not have them already. Entries stay in matcher order.
func (s *activeSet) with(det, attr int) *activeSet {
	out := &activeSet{minLen: math.MaxInt}
	if s != nil {
		out.entries = append(out.entries, s.entries...)
	}
	for m := range matchers {
		if matchers[m].det == det && !out.has(m) {
			out.entries = append(out.entries, activeEntry{m: m, attr: attr, marker: markers[det]})
		}
	}
	// insertion sort by matcher index: a handful of entries
	for i := 1; i < len(out.entries); i++ {
		for j := i; j > 0 && out.entries[j].m < out.entries[j-1].m; j-- {
			out.entries[j], out.entries[j-1] = out.entries[j-1], out.entries[j]
		}
	}
	for _, e := range out.entries {
		out.trig |= matchers[e.m].trig
		out.minLen = min(out.minLen, matchers[e.m].minLen)
	}
	return out
}

// unknown: an entry not searched since the last reset or overlap.
const unknown = -1

// cursor merges the matches of a set's entries over one text: the next
// match is the one that starts first, then the longest, then the first in
// matcher order; matches that overlap it are dropped. Each entry's next
// match is cached so that every matcher passes over the text about once.
type cursor struct {
	set  *activeSet
	live uint32 // entries that may still match
	s, e [len(matchers)]int
	// end is how much of the text each entry searches: all of it, or in a
	// window only as far as deciding a match that starts before the
	// window's stop needs.
	end [len(matchers)]int
}

// reset starts a new text. With stop < 0 the text is whole, and entries
// that cannot match it (too short, no trigger byte) are skipped. With stop
// >= 0 it is a window whose matches count only if they start before stop,
// and each entry searches only as far as deciding those needs. It reports
// whether any entry is left.
func (c *cursor) reset(set *activeSet, text []byte, stop int) bool {
	c.set = set
	c.live = 0
	var trig uint8 = 0xff
	if stop < 0 {
		trig = triggerMask(text)
		if trig&set.trig == 0 {
			return false
		}
	}
	for k, en := range set.entries {
		m := &matchers[en.m]
		c.end[k] = len(text)
		if stop >= 0 {
			c.end[k] = min(len(text), stop+m.reach+lookBehind)
		} else if len(text) < m.minLen || trig&m.trig == 0 {
			continue
		}
		c.live |= 1 << k
		c.s[k] = unknown
	}
	return c.live != 0
}

// next returns the next match at or after pos: its span and entry index,
// or s < 0.
func (c *cursor) next(text []byte, pos int) (s, e, k int) {
	best := -1
	for live := c.live; live != 0; live &= live - 1 {
		i := bits.TrailingZeros32(live)
		if c.s[i] < pos {
			ms, me := matchers[c.set.entries[i].m].next(text[:c.end[i]], pos)
			if ms < 0 {
				c.live &^= 1 << i // none up to the end of the text
				continue
			}
			c.s[i], c.e[i] = ms, me
		}
		if best < 0 || c.s[i] < c.s[best] || c.s[i] == c.s[best] && c.e[i] > c.e[best] {
			best = i
		}
	}
	if best < 0 {
		return -1, -1, -1
	}
	return c.s[best], c.e[best], best
}
