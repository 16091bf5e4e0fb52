// SPDX-License-Identifier: Apache-2.0

// Server streams kept open: the receive loop of one stream, and reopening
// it with backoff until the caller's context ends.

package controlclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// receiver is the Recv of a gRPC server stream.
type receiver[T any] interface{ Recv() (T, error) }

// receive hands every message of stream to handle until the stream ends;
// got says whether any came. what names the stream in errors.
func receive[T any](stream receiver[T], what string, handle func(T)) (got bool, err error) {
	for {
		m, err := stream.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = errors.New("control plane ended the stream")
			}
			return got, fmt.Errorf("controlclient: %s: %w", what, err)
		}
		got = true
		handle(m)
	}
}

// keepOpen runs once until ctx ends, again after each end with backoff
// between lo and hi (reset once a stream delivered something), and
// returns ctx's error. logAttrs adds to the reconnect warning.
func keepOpen(ctx context.Context, log *slog.Logger, what string, lo, hi time.Duration, once func(context.Context) (bool, error), logAttrs func() []any) error {
	r := newRetry(lo, hi)
	for {
		got, err := once(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if got {
			r.reset()
		}
		attrs := []any{"err", err}
		if logAttrs != nil {
			attrs = append(attrs, logAttrs()...)
		}
		log.Warn(what+" ended; reconnecting", attrs...)
		if !r.wait(ctx) {
			return ctx.Err()
		}
	}
}
