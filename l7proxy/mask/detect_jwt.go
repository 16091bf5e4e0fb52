// SPDX-License-Identifier: Apache-2.0

// jwt: JSON Web Tokens (JWS, and JWE with five parts) whose header decodes
// to a JSON object with an alg member.

package mask

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
)

// maxJWTHeader caps the header part that is decoded.
const maxJWTHeader = 4096

// nextJWT finds header.payload.signature (or the five parts of a JWE) of
// base64url characters whose header starts with eyJ (base64 of {") and
// decodes to a JSON object holding "alg". A token longer than maxMatch is
// masked up to that length.
func nextJWT(b []byte, i int) (int, int) {
	from := i
	for from < len(b) {
		j := bytes.Index(b[from:], []byte("eyJ"))
		if j < 0 {
			return -1, -1
		}
		s := from + j
		from = s + 1
		if s > 0 && (is(b[s-1], cB64URL) || b[s-1] == '.') {
			continue
		}
		var ends [5]int // end of each part
		n, p := 0, s
		for n < 5 {
			for p < len(b) && p-s < maxMatch && is(b[p], cB64URL) {
				p++
			}
			ends[n] = p
			n++
			if p >= len(b) || p-s >= maxMatch || b[p] != '.' || n == 5 {
				break
			}
			if n >= 3 && (p+1 >= len(b) || !is(b[p+1], cB64URL)) {
				break // a dot after a complete token, not another part
			}
			p++
		}
		if n < 3 {
			continue
		}
		if ends[1] == ends[0]+1 && n != 5 { // empty payload, and not a JWE
			continue
		}
		if !jwtHeader(b[s:ends[0]]) {
			continue
		}
		return s, ends[n-1]
	}
	return -1, -1
}

// jwtHeader reports whether h is the base64url of a JSON object holding
// "alg".
func jwtHeader(h []byte) bool {
	if len(h) < 15 || len(h) > maxJWTHeader || len(h)%4 == 1 {
		return false
	}
	var buf [maxJWTHeader * 3 / 4]byte
	n, err := base64.RawURLEncoding.Decode(buf[:], h)
	if err != nil {
		return false
	}
	d := bytes.TrimLeft(buf[:n], " \t\r\n")
	return len(d) > 0 && d[0] == '{' && bytes.Contains(d, []byte(`"alg"`)) && json.Valid(d)
}
