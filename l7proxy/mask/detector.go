// SPDX-License-Identifier: Apache-2.0

// The detector table: every detector a policy can name, as one or more
// matchers, and the limits on how far a matcher looks.

package mask

// Locality limits. Every matcher decides a candidate from the bytes at most
// lookBehind before the match start and at most maxMatch after it, so a
// streaming scan that keeps lookBehind bytes of context and maxMatch bytes
// of lookahead finds exactly what a scan of the whole text finds.
const (
	// maxMatch bounds a match and the lookahead a matcher needs (the end
	// of a PEM block is searched this far).
	maxMatch = 32 << 10
	// lookBehind bounds how far before a match a matcher looks (the key
	// name before a connection-string value, an email's local part).
	lookBehind = 128
	// maxValue caps a connection-string or SAS value; a longer one is
	// masked up to the cap.
	maxValue = 1024
)

// matcher finds one form of a detector's secrets.
type matcher struct {
	// det is the detector's index in detectorNames.
	det int
	// trig is the trigger class a text must contain for a match.
	trig uint8
	// minLen is the length of the shortest text that can hold a match.
	minLen int
	// reach bounds how far after a match start the matcher reads to
	// decide it (at most maxMatch).
	reach int
	// next returns the first match [s, e) in b with s >= i, or s < 0. It
	// may read b before i (at most lookBehind bytes before s) and after
	// (at most maxMatch bytes after s), and must cost time linear in the
	// bytes it passes over.
	next func(b []byte, i int) (s, e int)
}

// detectorNames lists the detectors in policy.KnownDetectors order; the
// order breaks ties between matches that start at the same byte and are
// equally long.
var detectorNames = [...]string{
	"azure-storage-key", "azure-sas", "azure-connection-string",
	"entra-client-secret", "jwt", "private-key", "email", "credit-card", "iban",
}

// markers are the fixed replacements, one per detector.
var markers = func() (m [len(detectorNames)]string) {
	for i, n := range detectorNames {
		m[i] = "[MASKED:" + n + "]"
	}
	return m
}()

// PathMarker replaces a value selected by a JSON path rule.
const PathMarker = "[MASKED]"

// Marker returns the replacement text of the named detector, or "" for an
// unknown name.
func Marker(detector string) string {
	if d := detectorIndex(detector); d >= 0 {
		return markers[d]
	}
	return ""
}

func detectorIndex(name string) int {
	for i, n := range detectorNames {
		if n == name {
			return i
		}
	}
	return -1
}

// matchers is the table of every matcher, in detector order.
var matchers = [...]matcher{
	{det: 0, trig: tEq, minLen: 88, reach: storageKeyLen + 1, next: nextStorageKey},
	{det: 0, trig: tEq, minLen: 12, reach: maxValue + 1, next: nextAccountKey},
	{det: 1, trig: tEq, minLen: 20, reach: maxValue + 1, next: nextSAS},
	{det: 2, trig: tEq, minLen: 5, reach: maxValue + 2, next: nextConnString},
	{det: 3, trig: tTilde, minLen: 37, reach: 41, next: nextEntraSecret},
	{det: 4, trig: tJ, minLen: 18, reach: maxMatch, next: nextJWT},
	{det: 5, trig: tDash, minLen: 27, reach: maxMatch, next: nextPrivateKey},
	{det: 6, trig: tAt, minLen: 6, reach: maxLocal + maxDomain + 4, next: nextEmail},
	{det: 7, trig: tDigit, minLen: 13, reach: 64, next: nextCard},
	{det: 8, trig: tDigit, minLen: 15, reach: 64, next: nextIBAN},
}
