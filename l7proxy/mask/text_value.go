// SPDX-License-Identifier: Apache-2.0

// Text values already in memory (a database row's columns): the
// detectors over one value, without a reader, a pool or an allocation
// when nothing matches.

package mask

// AppendText is Text for a value in memory. When a detector matches, it
// appends src with every match replaced by its marker to dst, adds the
// matches to counts (indexed like Attributions; at least NumAttributions long)
// and returns the extended slice and the number of matches. When
// nothing matches it returns dst unchanged and 0: src is the masked
// value. The limit (Options.MaxBytes) applies to src. A Masker with
// JSON path rules returns ErrNeedsJSON.
func (m *Masker) AppendText(dst, src []byte, counts []uint32) ([]byte, int, error) {
	if m.NeedsJSON() {
		return dst, 0, ErrNeedsJSON
	}
	if m.maxBytes >= 0 && int64(len(src)) > m.maxBytes {
		return dst, 0, &TooLargeError{Limit: m.maxBytes}
	}
	set := m.global
	if set.empty() || len(src) < set.minLen {
		return dst, 0, nil
	}
	var cur cursor
	if !cur.reset(set, src, -1) {
		return dst, 0, nil
	}
	s, e, k := cur.next(src, 0)
	n, pos := 0, 0
	for ; s >= 0; s, e, k = cur.next(src, pos) {
		en := &set.entries[k]
		dst = append(append(dst, src[pos:s]...), en.marker...)
		counts[en.attr]++
		n++
		pos = e
	}
	if n == 0 {
		return dst, 0, nil
	}
	return append(dst, src[pos:]...), n, nil
}

// Attributions lists what a match can be counted to, in the order of the
// counts of AppendText: rule, path and detector (Count is zero).
func (m *Masker) Attributions() []Applied { return append([]Applied(nil), m.attrs...) }

// NumAttributions is len(m.Attributions()), without the copy.
func (m *Masker) NumAttributions() int { return len(m.attrs) }
