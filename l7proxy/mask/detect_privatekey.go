// SPDX-License-Identifier: Apache-2.0

// private-key: PEM blocks whose label holds PRIVATE KEY (PKCS#1, PKCS#8,
// encrypted, EC, OpenSSH, PGP private key blocks).

package mask

import "bytes"

// nextPrivateKey finds -----BEGIN <label>----- where the label holds
// PRIVATE KEY, through the next -----END <label>----- line. Without an END
// line within maxMatch bytes it masks the BEGIN line and the run of PEM
// body characters after it (base64, white space, header lines, and
// backslashes of escaped newlines), at most maxMatch bytes.
func nextPrivateKey(b []byte, i int) (int, int) {
	from := i
	for from < len(b) {
		j := bytes.Index(b[from:], []byte("-----BEGIN "))
		if j < 0 {
			return -1, -1
		}
		s := from + j
		from = s + 1
		le, ok := pemLabel(b, s+len("-----BEGIN "))
		if !ok || !bytes.Contains(b[s:le], []byte("PRIVATE KEY")) {
			continue
		}
		p := le + 5
		for p < len(b) && p-s < maxMatch {
			c := b[p]
			if c == '-' && bytes.HasPrefix(b[p:], []byte("-----END ")) {
				if end, ok := pemLabel(b, p+len("-----END ")); ok {
					return s, min(end+5, s+maxMatch)
				}
			}
			if !is(c, cPEMBody) {
				break
			}
			p++
		}
		return s, p
	}
	return -1, -1
}

// pemLabel reads a label of upper-case letters, digits and spaces from p
// up to "-----", and returns where the dashes start.
func pemLabel(b []byte, p int) (int, bool) {
	q := p
	for q < len(b) && q-p <= 64 && (is(b[q], cUpper|cDigit) || b[q] == ' ') {
		q++
	}
	if q == p || q-p > 64 || !bytes.HasPrefix(b[q:], []byte("-----")) {
		return 0, false
	}
	return q, true
}
