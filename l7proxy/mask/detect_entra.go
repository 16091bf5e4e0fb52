// SPDX-License-Identifier: Apache-2.0

// entra-client-secret: Microsoft Entra ID client secrets, three characters,
// a digit, Q~ and 31 to 34 more ("abc8Q~...").

package mask

import "bytes"

// nextEntraSecret finds [A-Za-z0-9_~.]{3}[0-9]Q~[A-Za-z0-9_~.-]{31,34} that
// is not part of a longer run of such characters.
func nextEntraSecret(b []byte, i int) (int, int) {
	from := i + 4
	for from < len(b) {
		j := bytes.Index(b[from:], []byte("Q~"))
		if j < 0 {
			return -1, -1
		}
		pos := from + j
		from = pos + 1
		s := pos - 4
		if !is(b[pos-1], cDigit) || s > 0 && is(b[s-1], cEntra) {
			continue
		}
		ok := true
		for _, c := range b[s : pos-1] {
			if !is(c, cEntra) || c == '-' {
				ok = false
			}
		}
		if !ok {
			continue
		}
		e := pos + 2
		for e < len(b) && e-pos-2 < 35 && is(b[e], cEntra) {
			e++
		}
		if n := e - pos - 2; n >= 31 && n <= 34 {
			return s, e
		}
	}
	return -1, -1
}
