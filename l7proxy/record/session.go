// SPDX-License-Identifier: Apache-2.0

// Session: stamps events with seq and times and flushes them to the sink in
// seq order, batching concurrent emitters into one Append.

package record

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Session is one recorded connection. All its methods are safe for
// concurrent use: HTTP/2 streams emit at the same time. Seq order is the
// order in which events reach the sink; concurrent Emits are handed to the
// sink together in one Append, and one Append at a time per session.
type Session struct {
	rec       *Recorder
	id        string
	opened    time.Time
	exchanges atomic.Uint64 // last exchange id handed out

	mu       sync.Mutex // guards everything below
	seq      uint64     // last seq given to an event
	durable  uint64     // highest seq the sink confirmed
	pending  []*interlockv1.SessionEvent
	flushing bool          // a goroutine is in sink.Append for this session
	waiters  int           // goroutines blocked on flushed
	flushed  chan struct{} // closed and replaced when a flush ends
	err      error         // sticky: set when an Append failed
	closed   bool
	timer    *time.Timer // SendWithin's: sends what is staged when it fires
}

// ID returns the session id (a UUIDv7 string).
func (s *Session) ID() string { return s.id }

// NewExchange allocates the next exchange id of the session, from 1. It
// ties a request to its decision, approval and response.
func (s *Session) NewExchange() uint64 { return s.exchanges.Add(1) }

// Emit records ev as the next event of the session and returns once it is
// durable. It sets ev's session_id, seq, time and since_open, and takes
// ownership of ev. Open and close events are refused (use Recorder.Open
// and Close), as is any event with a credential header not redacted.
//
// ctx bounds only the wait for a flush made by another goroutine: when it
// ends first, ev is still recorded, with its seq, by a later flush.
func (s *Session) Emit(ctx context.Context, ev *interlockv1.SessionEvent) error {
	switch ev.GetEvent().(type) {
	case *interlockv1.SessionEvent_Open, *interlockv1.SessionEvent_Close:
		return fmt.Errorf("%w: open and close are recorded by Open and Close", ErrInvalid)
	}
	return s.emit(ctx, ev, false)
}

// Request records an HTTP request.
func (s *Session) Request(ctx context.Context, r *interlockv1.HTTPRequest) error {
	return s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpRequest{HttpRequest: r}}, false)
}

// Response records an HTTP response. It posts it (see Post): the
// workload has had the response by then.
func (s *Session) Response(r *interlockv1.HTTPResponse) error {
	return s.Post(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: r}})
}

// Query records a PostgreSQL statement.
func (s *Session) Query(ctx context.Context, q *interlockv1.PGQuery) error {
	return s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_PgQuery{PgQuery: q}}, false)
}

// Result records the outcome of a PostgreSQL statement.
func (s *Session) Result(ctx context.Context, r *interlockv1.PGResult) error {
	return s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_PgResult{PgResult: r}}, false)
}

// Decision records a policy decision.
func (s *Session) Decision(ctx context.Context, d *interlockv1.Decision) error {
	return s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Decision{Decision: d}}, false)
}

// Approval records a step of an approval.
func (s *Session) Approval(ctx context.Context, a *interlockv1.ApprovalEvent) error {
	return s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Approval{Approval: a}}, false)
}

// Close records c (nil: an empty SessionClose) as the session's last event
// and returns once it is durable. Duration and exchanges are filled in when
// zero. Close is idempotent: later calls return nil. After Close, Emit
// returns ErrClosed. On a failed session Close returns the failure.
func (s *Session) Close(ctx context.Context, c *interlockv1.SessionClose) error {
	if c == nil {
		c = &interlockv1.SessionClose{}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	if s.err != nil {
		s.closed = true
		s.rec.open.Add(-1)
		s.mu.Unlock()
		return s.err
	}
	s.mu.Unlock()
	if c.Exchanges == 0 {
		c.Exchanges = uint32(s.exchanges.Load())
	}
	err := s.emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Close{Close: c}}, true)
	if errors.Is(err, ErrClosed) { // lost a race with another Close
		return nil
	}
	return err
}

// Stage records ev as the next event of the session like Emit, but does
// not wait: ev becomes durable with the next Emit (or Close) of the
// session, in one Append with it. A handler stages an event that need not
// be durable before the next one is, e.g. a request before its decision.
func (s *Session) Stage(ev *interlockv1.SessionEvent) error {
	switch ev.GetEvent().(type) {
	case *interlockv1.SessionEvent_Open, *interlockv1.SessionEvent_Close:
		return fmt.Errorf("%w: open and close are recorded by Open and Close", ErrInvalid)
	}
	if err := s.stamp(ev, false); err != nil {
		return err
	}
	s.mu.Unlock()
	return nil
}

// Post records ev as the next event of the session like Emit, but returns
// before it is durable: it is handed to the sink in the background. A
// handler posts what it records after the workload has its answer (a
// response), so that the sink is not on the workload's path. Nothing
// posted is lost silently: the session's next Emit and its Close return
// only once it is durable too, and if the sink fails it, they fail.
func (s *Session) Post(ev *interlockv1.SessionEvent) error {
	switch ev.GetEvent().(type) {
	case *interlockv1.SessionEvent_Open, *interlockv1.SessionEvent_Close:
		return fmt.Errorf("%w: open and close are recorded by Open and Close", ErrInvalid)
	}
	if err := s.stamp(ev, false); err != nil {
		return err
	}
	s.kick()
	s.mu.Unlock()
	return nil
}

// Send hands the events staged so far to the sink in the background, as
// Post does for its event.
func (s *Session) Send() {
	s.mu.Lock()
	s.kick()
	s.mu.Unlock()
}

// SendDelay is how long the proxies let a record of what the workload
// already has (a response, a statement's result) wait for the session's
// next decision to carry it to the sink (see SendWithin): a session that
// goes quiet has it durable this long after it left.
const SendDelay = 5 * time.Millisecond

// SendWithin hands the events staged so far to the sink with the
// session's next Emit or Close, in one Append with it, or in the
// background once d has passed without one, whichever comes first. A
// handler serving one request after another on a connection sends a
// response's record so: the next request's decision carries it to the
// sink, which saves an Append (a write) per request, and a connection that
// goes quiet still has it durable within d.
func (s *Session) SendWithin(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 || s.closed || s.err != nil {
		return
	}
	if s.timer == nil {
		s.timer = time.AfterFunc(d, s.Send)
		return
	}
	s.timer.Reset(d)
}

// Flush returns once every event staged or posted so far is durable.
func (s *Session) Flush(ctx context.Context) error {
	s.mu.Lock()
	return s.waitDurable(ctx, s.seq)
}

// emit stamps ev, queues it and waits until it is durable.
func (s *Session) emit(ctx context.Context, ev *interlockv1.SessionEvent, closing bool) error {
	if err := s.stamp(ev, closing); err != nil {
		return err
	}
	return s.waitDurable(ctx, s.seq)
}

// stamp checks ev, gives it the session's next seq and queues it. On
// success it returns with s.mu held.
func (s *Session) stamp(ev *interlockv1.SessionEvent, closing bool) error {
	if err := s.rec.check(ev); err != nil {
		return err
	}
	s.mu.Lock()
	if s.err != nil {
		if closing && !s.closed {
			// A Close that lost a race with a failed append still closes.
			s.closed = true
			s.rec.open.Add(-1)
		}
		s.mu.Unlock()
		return s.err
	}
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.closed = closing
	if closing {
		s.rec.open.Add(-1)
		if s.timer != nil {
			s.timer.Stop() // the close flushes what it would have sent
		}
	}
	now := s.rec.now()
	s.seq++
	ev.SessionId = s.id
	ev.Seq = s.seq
	ev.Time = timestamppb.New(now)
	ev.SinceOpen = durationpb.New(now.Sub(s.opened))
	if c := ev.GetClose(); c != nil && c.Duration == nil {
		c.Duration = ev.SinceOpen
	}
	s.pending = append(s.pending, ev)
	return nil
}

// waitDurable is called with s.mu held and returns with it released. It
// returns once seq want is durable, flushing itself when no other goroutine
// is.
func (s *Session) waitDurable(ctx context.Context, want uint64) error {
	for {
		if s.durable >= want {
			// Events queued after want (posted while this one was being
			// appended) must not wait for the session's next event.
			s.kick()
			s.mu.Unlock()
			return nil
		}
		if s.err != nil {
			s.mu.Unlock()
			return s.err
		}
		if !s.flushing {
			s.flush(ctx)
			continue
		}
		ch := s.flushed
		s.waiters++
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiters--
			s.mu.Unlock()
			return fmt.Errorf("record: session %s: wait for seq %d: %w", s.id, want, ctx.Err())
		}
		s.mu.Lock()
		s.waiters--
	}
}

// kick starts a flush in the background when events are pending and no
// flush runs; s.mu is held. The flush is claimed at once, so that an Emit
// in between waits for it instead of starting its own.
func (s *Session) kick() {
	if len(s.pending) == 0 || s.flushing || s.err != nil {
		return
	}
	s.flushing = true
	go func() {
		s.mu.Lock()
		s.flushing = false
		s.flush(context.Background())
		s.mu.Unlock()
	}()
}

// flush hands pending events to the sink, with s.mu held on entry and
// exit. It keeps flushing while events are pending and nobody waits to
// take over, so that events whose emitter gave up are not left behind. The
// Append is not cancelled with ctx: it carries other goroutines' events.
func (s *Session) flush(ctx context.Context) {
	for len(s.pending) > 0 {
		batch := s.pending
		s.pending = nil
		s.flushing = true
		s.mu.Unlock()
		err := s.rec.sink.Append(context.WithoutCancel(ctx), batch)
		s.mu.Lock()
		s.flushing = false
		if err != nil {
			s.err = fmt.Errorf("record: session %s: append seq %d-%d: %w", s.id, batch[0].Seq, batch[len(batch)-1].Seq, err)
			s.pending = nil
		} else {
			s.durable = batch[len(batch)-1].Seq
		}
		close(s.flushed)
		s.flushed = make(chan struct{})
		if s.err != nil || s.waiters > 0 {
			return
		}
	}
}
