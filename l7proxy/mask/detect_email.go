// SPDX-License-Identifier: Apache-2.0

// email: addresses local@domain.tld with a letters-only top-level domain.

package mask

import "bytes"

// maxLocal and maxDomain are RFC 5321's limits.
const (
	maxLocal  = 64
	maxDomain = 253
)

// nextEmail finds local@domain where the local part is at most 64 of
// [A-Za-z0-9._%+-] (not starting or ending with a dot), the domain has two
// or more labels of [A-Za-z0-9-], at most 253 bytes, and the last label is
// 2 to 24 letters and not a common file extension (image@2x.png).
func nextEmail(b []byte, i int) (int, int) {
	from := i + 1
	for from < len(b) {
		j := bytes.IndexByte(b[from:], '@')
		if j < 0 {
			return -1, -1
		}
		at := from + j
		from = at + 1
		s := at
		for s > 0 && at-s <= maxLocal && is(b[s-1], cEmailLocal) {
			s--
		}
		if at-s > maxLocal {
			continue
		}
		for s < at && b[s] == '.' {
			s++
		}
		if s == at || s < i || b[at-1] == '.' {
			continue
		}
		e, ok := emailDomain(b, at+1)
		if ok {
			return s, e
		}
	}
	return -1, -1
}

// emailDomain reads labels separated by dots from p and returns the end.
func emailDomain(b []byte, p int) (int, bool) {
	labels, lastStart, q := 0, p, p
	for {
		ls := q
		for q < len(b) && q-p <= maxDomain && is(b[q], cDomain) {
			q++
		}
		if q == ls || q-p > maxDomain {
			return 0, false
		}
		labels++
		lastStart = ls
		if q+1 < len(b) && b[q] == '.' && is(b[q+1], cDomain) {
			q++
			continue
		}
		break
	}
	tld := b[lastStart:q]
	if labels < 2 || len(tld) < 2 || len(tld) > 24 {
		return 0, false
	}
	for _, c := range tld {
		if !is(c, cUpper|cLower) {
			return 0, false
		}
	}
	if fileExtension(tld) {
		return 0, false
	}
	return q, true
}

// fileExtensions are last labels that name files, not domains.
var fileExtensions = [...]string{"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "css", "js", "json", "yaml", "yml", "txt", "html", "htm", "xml"}

func fileExtension(tld []byte) bool {
	for _, x := range fileExtensions {
		if equalFoldASCII(tld, x) {
			return true
		}
	}
	return false
}
