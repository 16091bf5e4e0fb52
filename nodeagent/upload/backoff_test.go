// SPDX-License-Identifier: Apache-2.0

// The backoff is bounded and jittered.

package upload

import (
	"testing"
	"time"
)

func TestBackoffBoundedJittered(t *testing.T) {
	tests := []struct {
		min, max time.Duration
		want     []time.Duration // upper bound of each wait; the lower is half
	}{
		{100 * time.Millisecond, time.Second, []time.Duration{100e6, 200e6, 400e6, 800e6, 1e9, 1e9}},
		{time.Second, time.Second, []time.Duration{1e9, 1e9, 1e9}},
	}
	for _, tt := range tests {
		for range 200 {
			b := newBackoff(tt.min, tt.max)
			for i, hi := range tt.want {
				if w := b.next(); w < hi/2 || w > hi {
					t.Fatalf("min %v max %v: wait %d = %v, want in [%v, %v]", tt.min, tt.max, i, w, hi/2, hi)
				}
			}
			b.reset()
			if w := b.next(); w > tt.min {
				t.Fatalf("after reset: wait %v > min %v", w, tt.min)
			}
		}
	}
}
