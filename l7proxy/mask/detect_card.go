// SPDX-License-Identifier: Apache-2.0

// credit-card: payment card numbers, 13 to 19 digits with optional space
// or dash separators, a known issuer prefix for the length, and a valid
// Luhn check digit.

package mask

// nextCard finds a card number starting at a run of digits (not after a
// letter, _ or a decimal point): either one run of 13 to 19 digits, or a
// first group of 4 digits followed by groups of 3 to 6 digits joined by
// one separator (the same space or dash throughout), 13 to 19 digits in
// all; of the groupings that pass, the longest. The number must not run
// into a letter, _ or a decimal fraction.
func nextCard(b []byte, i int) (int, int) {
	p := i
	for p < len(b) {
		if !is(b[p], cDigit) {
			p++
			continue
		}
		if p > 0 && is(b[p-1], cDigit) { // inside a run that started before i
			for p < len(b) && is(b[p], cDigit) {
				p++
			}
			continue
		}
		if e := cardAt(b, p); e > 0 {
			return p, e
		}
		for p < len(b) && is(b[p], cDigit) {
			p++
		}
	}
	return -1, -1
}

// cardAt returns the end of the card number that starts at p, or 0.
func cardAt(b []byte, p int) int {
	if p > 0 {
		if c := b[p-1]; is(c, cUpper|cLower) || c == '_' || c == '.' {
			return 0
		}
	}
	var digits [19]byte
	q := p
	for q < len(b) && is(b[q], cDigit) {
		q++
	}
	n := q - p
	switch {
	case n >= 13 && n <= 19:
		copy(digits[:], b[p:q])
		if cardEnd(b, q) && cardValid(digits[:n]) {
			return q
		}
		return 0
	case n != 4:
		return 0
	}
	copy(digits[:], b[p:q])
	if q+1 >= len(b) || b[q] != ' ' && b[q] != '-' {
		return 0
	}
	sep := b[q]
	var ends [5]int // candidate ends by digit count, longest last
	var counts [5]int
	k := 0
	for k < len(ends) && q+1 < len(b) && b[q] == sep && is(b[q+1], cDigit) {
		g := q + 1
		r := g
		for r < len(b) && is(b[r], cDigit) && r-g <= 6 {
			r++
		}
		if r-g < 3 || r-g > 6 || n+r-g > 19 {
			break
		}
		copy(digits[n:], b[g:r])
		n += r - g
		q = r
		if n >= 13 && cardEnd(b, q) {
			ends[k], counts[k] = q, n
			k++
		}
	}
	for k--; k >= 0; k-- {
		if cardValid(digits[:counts[k]]) {
			return ends[k]
		}
	}
	return 0
}

// cardEnd reports whether a number may end at q: not before a letter, _
// or a decimal fraction.
func cardEnd(b []byte, q int) bool {
	if q >= len(b) {
		return true
	}
	c := b[q]
	if is(c, cUpper|cLower) || c == '_' {
		return false
	}
	return !(c == '.' && q+1 < len(b) && is(b[q+1], cDigit))
}

// cardValid checks the issuer prefix for the length and the Luhn digit.
func cardValid(d []byte) bool {
	n := len(d)
	p2 := int(d[0]-'0')*10 + int(d[1]-'0')
	p4 := p2*100 + int(d[2]-'0')*10 + int(d[3]-'0')
	ok := false
	switch {
	case d[0] == '4':
		ok = n == 13 || n == 16 || n == 19 // Visa
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		ok = n == 16 // Mastercard
	case p2 == 34 || p2 == 37:
		ok = n == 15 // American Express
	case p2 == 30 || p2 == 36 || p2 == 38 || p2 == 39:
		ok = n >= 14 // Diners Club
	case p2 == 35:
		ok = n >= 16 // JCB
	case d[0] == '6':
		ok = n >= 16 // Discover, UnionPay, Maestro
	case p2 == 50 || p2 >= 56 && p2 <= 58:
		ok = true // Maestro
	}
	return ok && luhn(d)
}

func luhn(d []byte) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		v := int(d[i] - '0')
		if double {
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
		double = !double
	}
	return sum%10 == 0
}
