// SPDX-License-Identifier: Apache-2.0

// azure-sas: the signature (sig=) of a shared access signature, in a URL's
// query or a bare SAS token.

package mask

import "bytes"

// minSAS is the shortest signature value taken for one: Azure's are the
// base64 of an HMAC-SHA256 (44 characters, more when URL-encoded).
const minSAS = 16

// nextSAS finds the value of sig= when it starts a query parameter: at the
// start of the text, after ?, &, &amp;, a JSON-escaped & (\u0026), white
// space or a quote.
func nextSAS(b []byte, i int) (int, int) {
	from := max(i-4, 0)
	for from < len(b) {
		j := bytes.Index(b[from:], []byte("sig="))
		if j < 0 {
			return -1, -1
		}
		pos := from + j
		from = pos + 1
		if !sasParamStart(b, pos) {
			continue
		}
		vs := pos + 4
		ve := vs
		for ve < len(b) && ve-vs < maxValue && is(b[ve], cSASValue) {
			ve++
		}
		if ve-vs >= minSAS && vs >= i {
			return vs, ve
		}
	}
	return -1, -1
}

func sasParamStart(b []byte, pos int) bool {
	if pos == 0 {
		return true
	}
	switch c := b[pos-1]; {
	case c == '?' || c == '&' || c == ';' || c == '"' || c == '\'' || is(c, cSpace):
		return true
	case pos >= 6 && equalFoldASCII(b[pos-6:pos], `\u0026`):
		return true
	}
	return false
}
