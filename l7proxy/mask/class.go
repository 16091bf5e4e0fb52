// SPDX-License-Identifier: Apache-2.0

// Byte classes shared by the detectors, and the trigger classes that let a
// short text skip the detectors that cannot match it.

package mask

// Byte classes (bits of classes[c]).
const (
	cDigit      uint16 = 1 << iota // 0-9
	cUpper                         // A-Z
	cLower                         // a-z
	cB64                           // A-Z a-z 0-9 + /
	cB64URL                        // A-Z a-z 0-9 - _
	cEmailLocal                    // A-Z a-z 0-9 . _ % + -
	cDomain                        // A-Z a-z 0-9 -
	cEntra                         // A-Z a-z 0-9 _ ~ . -
	cSASValue                      // A-Z a-z 0-9 % + / = _ -
	cPEMBody                       // A-Z a-z 0-9 + / = : , - \ . space, tab, CR, LF
	cConnStop                      // ; " ' \ < and white space: end an unquoted connection-string value
	cSpace                         // space, tab, CR, LF, FF, VT

	cAlnum = cDigit | cUpper | cLower
)

// Trigger classes (bits of triggers[c]): a detector runs on a short text
// only if the text holds a byte of its trigger class.
const (
	tEq    uint8 = 1 << iota // =
	tTilde                   // ~
	tJ                       // J (of eyJ)
	tDash                    // -
	tAt                      // @
	tDigit                   // 0-9
)

// classes and triggers are package-local constant tables.
var classes, triggers = func() (c [256]uint16, t [256]uint8) {
	set := func(bits uint16, s string) {
		for i := 0; i < len(s); i++ {
			c[s[i]] |= bits
		}
	}
	for b := '0'; b <= '9'; b++ {
		c[b] |= cDigit | cB64 | cB64URL | cEmailLocal | cDomain | cEntra | cSASValue | cPEMBody
	}
	for b := 'A'; b <= 'Z'; b++ {
		c[b] |= cUpper | cB64 | cB64URL | cEmailLocal | cDomain | cEntra | cSASValue | cPEMBody
	}
	for b := 'a'; b <= 'z'; b++ {
		c[b] |= cLower | cB64 | cB64URL | cEmailLocal | cDomain | cEntra | cSASValue | cPEMBody
	}
	set(cB64, "+/")
	set(cB64URL, "-_")
	set(cEmailLocal, "._%+-")
	set(cDomain, "-")
	set(cEntra, "_~.-")
	set(cSASValue, "%+/=_-")
	set(cPEMBody, "+/=:,-\\. \t\r\n")
	set(cConnStop, ";\"'\\< \t\r\n\f\v")
	set(cSpace, " \t\r\n\f\v")
	t['='] |= tEq
	t['~'] |= tTilde
	t['J'] |= tJ
	t['-'] |= tDash
	t['@'] |= tAt
	for b := '0'; b <= '9'; b++ {
		t[b] |= tDigit
	}
	return c, t
}()

func is(c byte, class uint16) bool { return classes[c]&class != 0 }

// triggerMask returns the union of the trigger classes of b's bytes.
func triggerMask(b []byte) uint8 {
	var m uint8
	for _, c := range b {
		m |= triggers[c]
	}
	return m
}

// lower returns c in lower case (ASCII letters only).
func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// equalFoldASCII reports whether b equals the lower-case ASCII word s in
// any case.
func equalFoldASCII(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		if lower(b[i]) != s[i] {
			return false
		}
	}
	return true
}
