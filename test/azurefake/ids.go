// SPDX-License-Identifier: Apache-2.0

// Random identifiers: GUIDs, client secrets and opaque base64 strings.

package azurefake

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// newGUID returns a random version 4 UUID in its usual text form.
func newGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// newSecret returns a random client secret shaped like Entra's (40
// characters, with a "~" in it).
func newSecret() string {
	var b [30]byte
	_, _ = rand.Read(b[:])
	s := base64.RawURLEncoding.EncodeToString(b[:])
	return s[:3] + "8Q~" + s[6:]
}

// randomB64 returns n random bytes, base64url without padding, for opaque
// claims (aio, uti) and tokens.
func randomB64(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
