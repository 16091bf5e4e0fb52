// SPDX-License-Identifier: Apache-2.0

// Options of an Uploader, and the backoff between attempts.

package upload

import (
	"log/slog"
	"math/rand/v2"
	"time"
)

// Options tune an Uploader. Zero fields take the defaults.
type Options struct {
	// Window is how many chunks may be sent and not yet acked
	// (default 16).
	Window int
	// MinBackoff is the wait after the first failed attempt, and after
	// any attempt that got at least one ack (default 100 ms).
	MinBackoff time.Duration
	// MaxBackoff caps the wait between attempts (default 30 s).
	MaxBackoff time.Duration
	// Logger receives stream failures and reconnects; nil: slog.Default().
	Logger *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = 16
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 100 * time.Millisecond
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 30 * time.Second
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// backoff is an exponential backoff with jitter: each wait is drawn from
// [d/2, d], and d doubles from min up to max.
type backoff struct {
	min, max, d time.Duration
}

func newBackoff(min, max time.Duration) *backoff { return &backoff{min: min, max: max, d: min} }

// next returns the wait before the next attempt and doubles d.
func (b *backoff) next() time.Duration {
	half := b.d / 2
	wait := half + rand.N(b.d-half+1)
	b.d = min(b.d*2, b.max)
	return wait
}

// reset starts over from min, after an attempt that made progress.
func (b *backoff) reset() { b.d = b.min }
