// SPDX-License-Identifier: Apache-2.0

// Prepare: map, normalise, prohibit, check bidi.

package saslprep

import (
	"errors"
	"sort"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Errors of Prepare: the password is to be used as it is.
var (
	ErrInvalidUTF8 = errors.New("saslprep: not UTF-8")
	ErrProhibited  = errors.New("saslprep: prohibited character, bad bidirectional text, or empty after mapping")
)

// Prepare returns s prepared with SASLprep, as a stored string
// (unassigned code points are prohibited), or an error when PostgreSQL
// would use s unchanged.
func Prepare(s string) (string, error) {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return s, nil
	}
	if !utf8.ValidString(s) {
		return "", ErrInvalidUTF8
	}
	// 1. Map: non-ASCII spaces to SPACE, B.1 to nothing.
	mapped := make([]rune, 0, len(s))
	for _, r := range s {
		switch {
		case nonASCIISpace.has(r):
			mapped = append(mapped, ' ')
		case mappedToNothing.has(r):
		default:
			mapped = append(mapped, r)
		}
	}
	if len(mapped) == 0 {
		return "", ErrProhibited
	}
	// 3. Prohibit, and 4. check bidi: on the mapped string, as
	// PostgreSQL does.
	randAL := false
	for _, r := range mapped {
		if prohibitedOutput.has(r) || unassigned.has(r) {
			return "", ErrProhibited
		}
		randAL = randAL || randALCat.has(r)
	}
	if randAL {
		for _, r := range mapped {
			if lCat.has(r) {
				return "", ErrProhibited
			}
		}
		if !randALCat.has(mapped[0]) || !randALCat.has(mapped[len(mapped)-1]) {
			return "", ErrProhibited
		}
	}
	// 2. Normalise.
	return norm.NFKC.String(string(mapped)), nil
}

// table is a sorted list of inclusive code point ranges.
type table [][2]rune

func (t table) has(r rune) bool {
	i := sort.Search(len(t), func(i int) bool { return t[i][1] >= r })
	return i < len(t) && t[i][0] <= r
}
