// SPDX-License-Identifier: Apache-2.0

// Body: masked bytes kept up to the cap, the original hashed.

package record_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/record"
)

func TestBody(t *testing.T) {
	original := []byte(`{"keys":[{"value":"c2VjcmV0LWtleS0x"},{"value":"c2VjcmV0LWtleS0y"}]}`)
	masked := []byte(`{"keys":[{"value":"***"},{"value":"***"}]}`)
	tests := []struct {
		name          string
		limit         int
		orig, mask    []byte
		wantKept      string
		wantTruncated bool
		wantErr       bool
	}{
		{"under the cap", 1024, original, masked, string(masked), false, false},
		{"truncated", 10, original, masked, string(masked[:10]), true, false},
		{"cap zero keeps only facts", 0, original, masked, "", true, false},
		{"empty body", 1024, nil, nil, "", false, false},
		{"masked input forgotten", 1024, original, nil, "", false, true},
		{"original input forgotten", 1024, nil, masked, "", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := record.NewBody(tt.limit)
			// Feed in pieces, as a streaming handler does.
			for i := 0; i < len(tt.orig); i += 7 {
				b.Original().Write(tt.orig[i:min(i+7, len(tt.orig))])
			}
			for i := 0; i < len(tt.mask); i += 5 {
				n, err := b.Masked().Write(tt.mask[i:min(i+5, len(tt.mask))])
				if err != nil || n != min(5, len(tt.mask)-i) {
					t.Fatalf("Masked().Write = %d, %v", n, err)
				}
			}
			p, err := b.Payload()
			if tt.wantErr {
				if err == nil {
					t.Fatal("Payload succeeded with one input missing")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(tt.orig)
			if string(p.Masked) != tt.wantKept || p.Truncated != tt.wantTruncated || p.Size != uint64(len(tt.orig)) || !bytes.Equal(p.Sha256, sum[:]) {
				t.Fatalf("payload = %q truncated=%v size=%d, want %q %v %d and the original's sha256", p.Masked, p.Truncated, p.Size, tt.wantKept, tt.wantTruncated, len(tt.orig))
			}
			if strings.Contains(string(p.Masked), "c2VjcmV0") {
				t.Fatal("the original leaked into the recording")
			}
			if _, err := b.Masked().Write([]byte("x")); !errors.Is(err, record.ErrBodyDone) {
				t.Fatalf("write after Payload = %v, want ErrBodyDone", err)
			}
		})
	}
}
