// SPDX-License-Identifier: Apache-2.0

// Adversarial bodies: repeated near-matches must cost time linear in the
// body (each matcher's work per candidate is bounded), in text and JSON.

package mask

import (
	"context"
	"encoding/json"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

func TestAdversarialLinear(t *testing.T) {
	patterns := map[string]string{
		"equals":        "=",
		"double equals": "abcd==",
		"account keys":  "AccountKey=",
		"passwords":     "Password=",
		"sig":           "&sig=",
		"entra":         "abc1Q~",
		"jwt starts":    " eyJhbGciOiJub25lIn0",
		"pem begins":    "-----BEGIN PRIVATE KEY-----",
		"ats":           "a@",
		"domains":       "a@b.c",
		"digits":        "4111 ",
		"iban starts":   "GB82",
		"base64":        "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=",
	}
	m, err := New(nil, policy.KnownDetectors(), Options{MaxBytes: -1})
	if err != nil {
		t.Fatal(err)
	}
	const size = 2 << 20
	for name, p := range patterns {
		t.Run(name, func(t *testing.T) {
			text := strings.Repeat(p, size/len(p))
			start := time.Now()
			if _, err := m.Text(context.Background(), io.Discard, strings.NewReader(text)); err != nil {
				t.Fatal(err)
			}
			enc, _ := json.Marshal(map[string]string{"a": text, "b": text[:30000]})
			if _, err := m.JSON(context.Background(), io.Discard, strings.NewReader(string(enc))); err != nil {
				t.Fatal(err)
			}
			// About 10 MB/s would be a bug; normal rates are 100+ MB/s.
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("%s: 2 x %d bytes took %v", name, size, d)
			}
		})
	}
}
