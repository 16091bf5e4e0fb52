// SPDX-License-Identifier: Apache-2.0

// RFC 4013's examples, and PostgreSQL's departures from them.

package saslprep

import (
	"errors"
	"testing"
)

func TestPrepare(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		err            error
	}{
		// RFC 4013, section 3.
		{"soft hyphen mapped to nothing", "I\u00adX", "IX", nil},
		{"no transformation", "user", "user", nil},
		{"case preserved", "USER", "USER", nil},
		{"output is NFKC, input in ISO 8859-1", "\u00aa", "a", nil},
		{"output is NFKC, will match 1st example", "\u2168", "IX", nil},
		{"bidirectional check", "\u0627\u0031", "", ErrProhibited},
		// RFC 4013 prohibits U+0007; PostgreSQL uses an ASCII password as
		// it is, and so must a client of it.
		{"ASCII control character, as PostgreSQL", "\u0007", "\u0007", nil},
		{"prohibited character", "\u0007\u00e9", "", ErrProhibited},
		// Passwords.
		{"composed", "p\u00e4ssw\u00f6rd", "p\u00e4ssw\u00f6rd", nil},
		{"decomposed, composed by NFKC", "pa\u0308sswo\u0308rd", "p\u00e4ssw\u00f6rd", nil},
		{"non-breaking space", "pass\u00a0word", "pass word", nil},
		{"ideographic space", "pass\u3000word", "pass word", nil},
		{"zero-width joiner mapped to nothing", "pa\u200dss", "pass", nil},
		{"only mapped to nothing", "\u00ad\ufeff", "", ErrProhibited},
		{"right-to-left", "\u05d0\u05d1\u05d2", "\u05d0\u05d1\u05d2", nil},
		{"right-to-left with left-to-right", "\u05d0a\u05d1", "", ErrProhibited},
		{"private use", "x\ue000", "", ErrProhibited},
		{"unassigned in Unicode 3.2", "x\u0221", "", ErrProhibited},
		{"not UTF-8", "p\xe4ssword", "", ErrInvalidUTF8},
	} {
		got, err := Prepare(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("%s: Prepare(%+q) = %+q, %v; want %+q, %v", tc.name, tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestTablesSorted(t *testing.T) {
	for i, tb := range []table{nonASCIISpace, mappedToNothing, prohibitedOutput, unassigned, randALCat, lCat} {
		for j, r := range tb {
			if r[0] > r[1] || j > 0 && tb[j-1][1] >= r[0] {
				t.Errorf("table %d: range %d %X is out of order", i, j, r)
			}
		}
	}
}
