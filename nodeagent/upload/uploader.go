// SPDX-License-Identifier: Apache-2.0

// The Uploader: Resume, then stream chunks and take acks, over and over.

package upload

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Source holds the chunks to upload; nodeagent/spool implements it.
type Source interface {
	// Next returns the first chunk with a seq above after, waiting for
	// one until ctx ends.
	Next(ctx context.Context, after uint64) (*interlockv1.UploadChunk, error)
	// Ack says every chunk up to seq is durable at the control plane.
	Ack(seq uint64) error
}

// Skipper is implemented by a Source that can continue its numbering after
// the control plane's when the control plane holds more chunks than the
// Source ever made (its storage was lost): nodeagent/spool's SkipTo. The
// Uploader calls it with Resume's answer before each stream.
type Skipper interface {
	SkipTo(seq uint64) error
}

// Uploader moves chunks from a Source to a SessionService. Its methods are
// safe for concurrent use; Run must run at most once at a time.
type Uploader struct {
	client interlockv1.SessionServiceClient
	src    Source
	opts   Options
	log    *slog.Logger

	acked    atomic.Uint64 // highest seq the control plane acked
	attempts atomic.Uint64 // streams opened (Resume calls)
}

// New returns an Uploader; call Run to start it.
func New(client interlockv1.SessionServiceClient, src Source, opts Options) *Uploader {
	opts = opts.withDefaults()
	return &Uploader{client: client, src: src, opts: opts, log: opts.Logger}
}

// Acked returns the highest chunk seq the control plane acknowledged.
func (u *Uploader) Acked() uint64 { return u.acked.Load() }

// Attempts returns how many times Run started over (Resume calls).
func (u *Uploader) Attempts() uint64 { return u.attempts.Load() }

// Run uploads until ctx ends, reconnecting with backoff when the stream
// breaks, and returns ctx's error.
func (u *Uploader) Run(ctx context.Context) error {
	b := newBackoff(u.opts.MinBackoff, u.opts.MaxBackoff)
	for {
		progress, err := u.attempt(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if progress {
			b.reset()
		}
		wait := b.next()
		u.log.Warn("upload: stream ended, retrying", "err", err, "acked", u.acked.Load(), "retry_in", wait)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// attempt runs one Resume + Upload stream until it fails; progress says
// whether any ack arrived.
func (u *Uploader) attempt(ctx context.Context) (progress bool, err error) {
	u.attempts.Add(1)
	res, err := u.client.Resume(ctx, &interlockv1.ResumeRequest{})
	if err != nil {
		return false, fmt.Errorf("upload: resume: %w", err)
	}
	if sk, ok := u.src.(Skipper); ok {
		if err := sk.SkipTo(res.GetSeq()); err != nil {
			return false, fmt.Errorf("upload: %w", err)
		}
	}
	if err := u.ack(res.GetSeq()); err != nil {
		return false, err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := u.client.Upload(sctx)
	if err != nil {
		return false, fmt.Errorf("upload: open stream: %w", err)
	}
	u.log.Debug("upload: stream open", "resume", res.GetSeq())

	st := &flight{window: u.opts.Window, sent: res.GetSeq(), acked: res.GetSeq(), moved: make(chan struct{}, 1)}
	var wg sync.WaitGroup
	var sendErr, recvErr error
	wg.Go(func() {
		defer cancel()
		sendErr = u.sendLoop(sctx, stream, st)
	})
	wg.Go(func() {
		defer cancel()
		recvErr = u.recvLoop(stream, st)
	})
	wg.Wait()
	progress = st.ackedAny.Load()
	// The receive side has the stream's real status; Send only sees EOF.
	switch {
	case recvErr != nil && !errors.Is(recvErr, context.Canceled):
		return progress, recvErr
	case sendErr != nil:
		return progress, sendErr
	}
	return progress, recvErr
}

// flight tracks chunks sent and acked on one stream.
type flight struct {
	window   int
	mu       sync.Mutex
	sent     uint64 // highest seq sent; owned by sendLoop, read under mu
	acked    uint64 // highest seq acked; written by recvLoop under mu
	moved    chan struct{}
	ackedAny atomic.Bool
}

func (f *flight) state() (sent, acked uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sent, f.acked
}

// sendLoop sends chunks after the resume point, keeping at most window
// unacked.
func (u *Uploader) sendLoop(ctx context.Context, stream interlockv1.SessionService_UploadClient, f *flight) error {
	for {
		sent, acked := f.state()
		if sent > acked && sent-acked >= uint64(f.window) {
			select {
			case <-f.moved:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		c, err := u.src.Next(ctx, max(sent, acked))
		if err != nil {
			return fmt.Errorf("upload: next chunk: %w", err)
		}
		if err := stream.Send(c); err != nil {
			return fmt.Errorf("upload: send chunk %d: %w", c.GetSeq(), err)
		}
		f.mu.Lock()
		f.sent = c.GetSeq()
		f.mu.Unlock()
	}
}

// recvLoop takes acks and passes them to the Source.
func (u *Uploader) recvLoop(stream interlockv1.SessionService_UploadClient, f *flight) error {
	for {
		a, err := stream.Recv()
		if err == io.EOF {
			return errors.New("upload: control plane closed the stream")
		}
		if err != nil {
			return fmt.Errorf("upload: receive ack: %w", err)
		}
		if err := u.ack(a.GetSeq()); err != nil {
			return err
		}
		f.ackedAny.Store(true)
		f.mu.Lock()
		f.acked = max(f.acked, a.GetSeq())
		f.mu.Unlock()
		select {
		case f.moved <- struct{}{}:
		default:
		}
	}
}

// ack records seq as acknowledged, in the Source and in u.acked.
func (u *Uploader) ack(seq uint64) error {
	if seq == 0 {
		return nil
	}
	if err := u.src.Ack(seq); err != nil {
		return fmt.Errorf("upload: ack %d: %w", seq, err)
	}
	for {
		old := u.acked.Load()
		if seq <= old || u.acked.CompareAndSwap(old, seq) {
			return nil
		}
	}
}
