// SPDX-License-Identifier: Apache-2.0

// The Recorder: opens sessions on a Sink and guards what may be recorded.

package record

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Options tune a Recorder. The zero value is ready to use.
type Options struct {
	// Redactor says which header names the guard treats as credentials.
	// nil: the default set. Give it the Redactor the handlers use.
	Redactor *Redactor
	// Now returns the current time; nil: time.Now. The monotonic reading
	// of its result (when it has one) makes since_open.
	Now func() time.Time
}

// Recorder opens recorded sessions. It is safe for concurrent use; beyond
// its configuration it only counts the sessions open.
type Recorder struct {
	sink   Sink
	redact *Redactor
	now    func() time.Time
	open   atomic.Int64 // sessions opened and not yet closed
}

// OpenSessions returns how many sessions are open: opened and not yet
// closed.
func (r *Recorder) OpenSessions() int64 { return r.open.Load() }

// New returns a Recorder that appends to sink.
func New(sink Sink, opts Options) *Recorder {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	return &Recorder{sink: sink, redact: opts.Redactor, now: now}
}

// Open records open as the first event (seq 1) of a new session with a
// UUIDv7 id, and returns the session once that event is durable. The caller
// must Close the session. An error (for example the spool's ErrFull, which
// refuses new sessions when the spool is full) means the connection must
// not proceed.
func (r *Recorder) Open(ctx context.Context, open *interlockv1.SessionOpen) (*Session, error) {
	if open == nil {
		return nil, fmt.Errorf("%w: nil SessionOpen", ErrInvalid)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("record: session id: %w", err)
	}
	now := r.now()
	ev := &interlockv1.SessionEvent{
		SessionId: id.String(),
		Seq:       1,
		Time:      timestamppb.New(now),
		SinceOpen: durationpb.New(0),
		Event:     &interlockv1.SessionEvent_Open{Open: open},
	}
	if err := r.sink.Append(ctx, []*interlockv1.SessionEvent{ev}); err != nil {
		return nil, fmt.Errorf("record: open session: %w", err)
	}
	r.open.Add(1)
	return &Session{
		rec:     r,
		id:      ev.SessionId,
		opened:  now,
		seq:     1,
		durable: 1,
		flushed: make(chan struct{}),
	}, nil
}

// check is the guard every event passes before it gets a seq.
func (r *Recorder) check(ev *interlockv1.SessionEvent) error {
	switch e := ev.GetEvent().(type) {
	case nil:
		return fmt.Errorf("%w: no event kind set", ErrInvalid)
	case *interlockv1.SessionEvent_HttpRequest:
		return r.redact.checkHeaders(e.HttpRequest.GetHeaders())
	case *interlockv1.SessionEvent_HttpResponse:
		return r.redact.checkHeaders(e.HttpResponse.GetHeaders())
	}
	return nil
}
