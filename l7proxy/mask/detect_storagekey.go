// SPDX-License-Identifier: Apache-2.0

// azure-storage-key: 88-character base64 account keys (64 bytes, so they
// end in ==), and the value of AccountKey= in a connection string.

package mask

import "bytes"

// storageKeyLen is the length of a base64 Storage (or Cosmos DB) account
// key.
const storageKeyLen = 88

// nextStorageKey finds a bare account key: 86 base64 characters and ==,
// not part of a longer base64 run, and not an npm-style sha512- integrity
// hash (which has the same shape).
func nextStorageKey(b []byte, i int) (int, int) {
	from := i + storageKeyLen - 2
	for from < len(b) {
		j := bytes.Index(b[from:], []byte("=="))
		if j < 0 {
			return -1, -1
		}
		pos := from + j
		s := pos - (storageKeyLen - 2)
		end := pos + 2
		from = pos + 1
		if s > 0 && is(b[s-1], cB64) || end < len(b) && (is(b[end], cB64) || b[end] == '=') {
			continue
		}
		if s >= 7 && string(b[s-7:s]) == "sha512-" {
			continue
		}
		ok := true
		for _, c := range b[s:pos] {
			if !is(c, cB64) {
				ok = false
				break
			}
		}
		if ok {
			return s, end
		}
	}
	return -1, -1
}

// nextAccountKey finds the value of AccountKey= (any case) in a
// connection string, whatever its length.
func nextAccountKey(b []byte, i int) (int, int) {
	return nextKeyValue(b, i, func(key []byte) bool { return equalFoldASCII(key, "accountkey") })
}

// nextKeyValue finds the unquoted value after NAME= where accept(NAME);
// NAME is a whole word of letters. The value ends at ;, a quote, a
// backslash, < or white space, and is capped at maxValue bytes.
func nextKeyValue(b []byte, i int, accept func(key []byte) bool) (int, int) {
	from := max(i-1, 0)
	for from < len(b) {
		j := bytes.IndexByte(b[from:], '=')
		if j < 0 {
			return -1, -1
		}
		pos := from + j
		from = pos + 1
		ks := pos
		for ks > 0 && pos-ks < 32 && is(b[ks-1], cUpper|cLower) {
			ks--
		}
		if ks == pos || ks > 0 && is(b[ks-1], cAlnum) || !accept(b[ks:pos]) {
			continue
		}
		vs := pos + 1
		ve := vs
		for ve < len(b) && ve-vs < maxValue && !is(b[ve], cConnStop) {
			ve++
		}
		if ve > vs && vs >= i {
			return vs, ve
		}
	}
	return -1, -1
}
