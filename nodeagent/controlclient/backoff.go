// SPDX-License-Identifier: Apache-2.0

// The wait between attempts to reopen a watch stream.

package controlclient

import (
	"context"
	"math/rand/v2"
	"time"
)

// Default bounds of the wait between attempts to reopen a stream.
const (
	DefaultMinBackoff = 100 * time.Millisecond
	DefaultMaxBackoff = 5 * time.Second
)

// retry doubles its wait from lo to hi; each wait is drawn from [d/2, d].
type retry struct{ lo, hi, d time.Duration }

func newRetry(lo, hi time.Duration) *retry {
	if lo <= 0 {
		lo = DefaultMinBackoff
	}
	if hi <= 0 {
		hi = DefaultMaxBackoff
	}
	hi = max(hi, lo)
	return &retry{lo: lo, hi: hi, d: lo}
}

func (r *retry) reset() { r.d = r.lo }

// wait sleeps for the next wait, or until ctx ends (false).
func (r *retry) wait(ctx context.Context) bool {
	half := r.d / 2
	d := half + rand.N(r.d-half+1)
	r.d = min(r.d*2, r.hi)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
