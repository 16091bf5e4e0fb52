// SPDX-License-Identifier: Apache-2.0

// iban: International Bank Account Numbers, electronic (GB82WEST...) or
// printed in groups of four, with the registry length of their country
// and a valid ISO 7064 mod 97-10 check.

package mask

// nextIBAN finds two upper-case letters of a country in ibanLengths (not
// after a letter or digit), two check digits, and the rest of the
// country's length in upper-case letters and digits, optionally with one
// space after every group of four; the whole must not run into a letter or
// digit, and must leave remainder 1 mod 97.
func nextIBAN(b []byte, i int) (int, int) {
	for p := i; p+4 <= len(b); p++ {
		if !is(b[p+2], cDigit) || !is(b[p], cUpper) || !is(b[p+1], cUpper) || !is(b[p+3], cDigit) {
			continue
		}
		if p > 0 && is(b[p-1], cAlnum) {
			continue
		}
		if e := ibanAt(b, p); e > 0 {
			return p, e
		}
	}
	return -1, -1
}

// ibanAt returns the end of the IBAN at p, or 0.
func ibanAt(b []byte, p int) int {
	want := int(ibanLengths[string(b[p:p+2])])
	if want == 0 {
		return 0
	}
	var chars [34]byte
	n, q := 0, p
	for n < want && q < len(b) {
		c := b[q]
		if c == ' ' && n%4 == 0 && n > 0 && q+1 < len(b) && is(b[q+1], cUpper|cDigit) {
			q++
			continue
		}
		if !is(c, cUpper|cDigit) {
			return 0
		}
		chars[n] = c
		n++
		q++
	}
	if n < want || q < len(b) && is(b[q], cAlnum) {
		return 0
	}
	if ibanMod97(chars[:n]) != 1 {
		return 0
	}
	return q
}

// ibanMod97 computes the check: the first four characters moved to the
// end, letters as 10 to 35, the whole number mod 97.
func ibanMod97(s []byte) int {
	r := 0
	add := func(c byte) {
		if c >= 'A' {
			v := int(c-'A') + 10
			r = (r*100 + v) % 97
			return
		}
		r = (r*10 + int(c-'0')) % 97
	}
	for _, c := range s[4:] {
		add(c)
	}
	for _, c := range s[:4] {
		add(c)
	}
	return r
}

// ibanLengths is the IBAN length of every country in the SWIFT IBAN
// registry.
var ibanLengths = map[string]uint8{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
	"BH": 22, "BI": 27, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24,
	"DE": 22, "DJ": 27, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18,
	"FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27,
	"GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20,
	"LU": 20, "LV": 21, "LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20,
	"MR": 27, "MT": 31, "MU": 30, "NI": 28, "NL": 18, "NO": 15, "OM": 23, "PK": 24,
	"PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "RU": 33, "SA": 24,
	"SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
	"YE": 30,
}
