// SPDX-License-Identifier: Apache-2.0

// azure-connection-string: the secret values of connection strings —
// AccountKey, SharedAccessKey, SharedAccessSignature, Password and Pwd.

package mask

import "bytes"

// connKey is a connection-string key whose value is a secret.
type connKey int

const (
	connNone connKey = iota
	connAccountKey
	connSharedAccessKey
	connSharedAccessSignature
	connPassword
)

func connKeyOf(key []byte) connKey {
	switch {
	case equalFoldASCII(key, "accountkey"):
		return connAccountKey
	case equalFoldASCII(key, "sharedaccesskey"):
		return connSharedAccessKey
	case equalFoldASCII(key, "sharedaccesssignature"):
		return connSharedAccessSignature
	case equalFoldASCII(key, "password"), equalFoldASCII(key, "pwd"):
		return connPassword
	}
	return connNone
}

// nextConnString finds the value of a secret key in a connection string.
// Password and Pwd only count in the shape of a connection string: after
// a ; (spaces allowed) or with a value ended by ;. A value may be quoted
// ("..." or '...') or braced ({...}, ODBC); the quotes stay. The value of
// SharedAccessSignature runs to the next ; (it holds spaces).
func nextConnString(b []byte, i int) (int, int) {
	from := max(i-1, 0)
	plainTo := 0 // b[from:plainTo] holds no byte that ends an unquoted value
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
		if ks == pos || ks > 0 && is(b[ks-1], cAlnum) {
			continue
		}
		kind := connKeyOf(b[ks:pos])
		if kind == connNone {
			continue
		}
		vs, ve, term := connValue(b, pos+1, kind, &plainTo)
		if ve <= vs || vs < i {
			continue
		}
		if kind == connPassword && !term && !afterSemicolon(b, ks) {
			// A key inside this value would end at the same place, with
			// no ; before it: skip the value unless it was cut at the cap
			// or quoted.
			if vs == pos+1 && ve-vs < maxValue {
				from = ve
			}
			continue
		}
		return vs, ve
	}
	return -1, -1
}

// connValue returns the value starting at vs and whether a ; follows it.
// *plainTo (kept across the calls of one search) says how far the bytes
// after vs are known to hold no stop byte, so that overlapping values are
// not scanned again.
func connValue(b []byte, vs int, kind connKey, plainTo *int) (s, e int, semicolon bool) {
	if vs < len(b) {
		if q := b[vs]; q == '"' || q == '\'' || q == '{' {
			if q == '{' {
				q = '}'
			}
			end := vs + 1
			for end < len(b) && end-vs < maxValue && b[end] != q {
				end++
			}
			return vs + 1, end, end+1 < len(b) && b[end+1] == ';'
		}
	}
	e = vs
	if kind != connSharedAccessSignature {
		e = min(max(vs, *plainTo), vs+maxValue)
		for e < len(b) && e-vs < maxValue && !is(b[e], cConnStop) {
			e++
		}
		*plainTo = e
		return vs, e, e < len(b) && b[e] == ';'
	}
	for e < len(b) && e-vs < maxValue {
		c := b[e]
		if c == ';' || kind != connSharedAccessSignature && is(c, cConnStop) || kind == connSharedAccessSignature && (c == '"' || c == '\'' || c == '\n' || c == '\r') {
			break
		}
		e++
	}
	return vs, e, e < len(b) && b[e] == ';'
}

// afterSemicolon reports whether the key at ks follows a ; (spaces
// allowed between).
func afterSemicolon(b []byte, ks int) bool {
	for j := ks - 1; j >= 0 && ks-j <= 8; j-- {
		switch b[j] {
		case ' ', '\t':
			continue
		case ';':
			return true
		}
		return false
	}
	return false
}
