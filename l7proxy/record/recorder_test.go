// SPDX-License-Identifier: Apache-2.0

// Sessions on a real spool: seq, times, exchange ids, concurrency, the
// guard, and failures.

package record_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func newSpool(t testing.TB, opts spool.Options) (*spool.Spool, string) {
	t.Helper()
	dir := t.TempDir()
	opts.Logger = slog.New(slog.NewTextHandler(t.Output(), nil))
	sp, err := spool.Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sp.Close() })
	return sp, dir
}

// recorded closes sp and returns every event it holds, in spool order.
func recorded(t testing.TB, sp *spool.Spool, dir string) []*interlockv1.SessionEvent {
	t.Helper()
	sp.Close()
	sp, err := spool.Open(dir, spool.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sp.Close()
	var evs []*interlockv1.SessionEvent
	for after := uint64(0); after < sp.Stats().LastSeq; {
		c, err := sp.Next(context.Background(), after)
		if err != nil {
			t.Fatal(err)
		}
		b, err := spool.DecodeChunk(c)
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, b.Events...)
		after = c.Seq
	}
	return evs
}

func openArgs() *interlockv1.SessionOpen {
	return &interlockv1.SessionOpen{Node: "node-1", Target: "arm", Protocol: interlockv1.Protocol_PROTOCOL_HTTPS, ServerName: "management.azure.com"}
}

func TestSessionStampsEvents(t *testing.T) {
	sp, dir := newSpool(t, spool.Options{})
	ctx := context.Background()
	rec := record.New(sp, record.Options{})
	s, err := rec.Open(ctx, openArgs())
	if err != nil {
		t.Fatal(err)
	}
	if id, err := uuid.Parse(s.ID()); err != nil || id.Version() != 7 {
		t.Fatalf("session id %q is not a UUIDv7 (%v)", s.ID(), err)
	}
	x1, x2 := s.NewExchange(), s.NewExchange()
	if x1 != 1 || x2 != 2 {
		t.Fatalf("exchange ids %d, %d; want 1, 2", x1, x2)
	}
	steps := []func() error{
		func() error {
			return s.Request(ctx, &interlockv1.HTTPRequest{ExchangeId: x1, Method: "POST", Headers: (*record.Redactor)(nil).Headers(http.Header{"Authorization": {"Bearer x"}})})
		},
		func() error {
			return s.Decision(ctx, &interlockv1.Decision{ExchangeId: x1, Action: interlockv1.Action_ACTION_APPROVE})
		},
		func() error {
			return s.Approval(ctx, &interlockv1.ApprovalEvent{ExchangeId: x1, State: interlockv1.ApprovalState_APPROVAL_STATE_APPROVED})
		},
		func() error { return s.Response(&interlockv1.HTTPResponse{ExchangeId: x1, Status: 200}) },
		func() error { return s.Query(ctx, &interlockv1.PGQuery{ExchangeId: x2, Text: "SELECT 1"}) },
		func() error { return s.Result(ctx, &interlockv1.PGResult{ExchangeId: x2, CommandTag: "SELECT 1"}) },
		func() error {
			return s.Emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Decision{Decision: &interlockv1.Decision{ExchangeId: x2}}})
		},
	}
	for i, step := range steps {
		time.Sleep(time.Millisecond)
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	if n := rec.OpenSessions(); n != 1 {
		t.Errorf("%d sessions open, want 1", n)
	}
	if err := s.Close(ctx, &interlockv1.SessionClose{Reason: "client closed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx, nil); err != nil {
		t.Fatalf("second Close = %v, want nil", err)
	}
	if n := rec.OpenSessions(); n != 0 {
		t.Errorf("%d sessions open after Close (twice), want 0", n)
	}
	if err := s.Decision(ctx, &interlockv1.Decision{}); !errors.Is(err, record.ErrClosed) {
		t.Fatalf("Emit after Close = %v, want ErrClosed", err)
	}

	evs := recorded(t, sp, dir)
	if len(evs) != len(steps)+2 {
		t.Fatalf("%d events recorded, want %d", len(evs), len(steps)+2)
	}
	var prev time.Duration
	for i, ev := range evs {
		if ev.SessionId != s.ID() || ev.Seq != uint64(i+1) {
			t.Fatalf("event %d: session %s seq %d", i, ev.SessionId, ev.Seq)
		}
		if ev.Time == nil || ev.SinceOpen == nil || ev.SinceOpen.AsDuration() < prev {
			t.Fatalf("event %d: time %v since_open %v (previous %v)", i, ev.Time, ev.SinceOpen, prev)
		}
		prev = ev.SinceOpen.AsDuration()
	}
	if evs[0].GetOpen() == nil || evs[0].SinceOpen.AsDuration() != 0 {
		t.Fatalf("first event %v, want the open at since_open 0", evs[0])
	}
	c := evs[len(evs)-1].GetClose()
	if c == nil || c.Exchanges != 2 || c.Duration.AsDuration() < prev {
		t.Fatalf("last event %v, want a close with 2 exchanges and the duration", evs[len(evs)-1])
	}
}

func TestConcurrentEmitsKeepSeqOrder(t *testing.T) {
	sp, dir := newSpool(t, spool.Options{})
	ctx := context.Background()
	rec := record.New(sp, record.Options{})
	s, err := rec.Open(ctx, openArgs())
	if err != nil {
		t.Fatal(err)
	}
	const streams, each = 32, 40
	var wg sync.WaitGroup
	for range streams {
		wg.Go(func() {
			for range each {
				x := s.NewExchange()
				if err := s.Request(ctx, &interlockv1.HTTPRequest{ExchangeId: x, Method: "GET"}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
	appends := sp.Stats().Appends
	evs := recorded(t, sp, dir)
	if len(evs) != streams*each+2 {
		t.Fatalf("%d events, want %d", len(evs), streams*each+2)
	}
	ids := map[uint64]bool{}
	for i, ev := range evs {
		if ev.Seq != uint64(i+1) {
			t.Fatalf("spool position %d holds seq %d", i, ev.Seq)
		}
		if r := ev.GetHttpRequest(); r != nil {
			if ids[r.ExchangeId] {
				t.Fatalf("exchange id %d used twice", r.ExchangeId)
			}
			ids[r.ExchangeId] = true
		}
	}
	if appends >= uint64(len(evs)) {
		t.Fatalf("%d Appends for %d events: concurrent emits were not batched", appends, len(evs))
	}
	t.Logf("%d events in %d Appends", len(evs), appends)
}

func TestGuardRefusesUnredactedCredentials(t *testing.T) {
	sp, dir := newSpool(t, spool.Options{})
	ctx := context.Background()
	rec := record.New(sp, record.Options{Redactor: record.NewRedactor("X-Internal-Secretish")})
	s, err := rec.Open(ctx, openArgs())
	if err != nil {
		t.Fatal(err)
	}
	bad := []struct {
		name    string
		headers []*interlockv1.Header
		resp    bool
	}{
		{"raw Authorization", []*interlockv1.Header{{Name: "Authorization", Values: []string{"Bearer eyJ0"}}}, false},
		{"lowercase authorization", []*interlockv1.Header{{Name: "authorization", Values: []string{"Bearer eyJ0"}}}, false},
		{"marked redacted but holding the value", []*interlockv1.Header{{Name: "Authorization", Values: []string{"Bearer eyJ0"}, Redacted: true}}, false},
		{"raw Cookie", []*interlockv1.Header{{Name: "Cookie", Values: []string{"s=1"}}}, false},
		{"auxiliary token", []*interlockv1.Header{{Name: "x-ms-authorization-auxiliary", Values: []string{"Bearer a"}}}, false},
		{"configured name", []*interlockv1.Header{{Name: "X-Internal-Secretish", Values: []string{"v"}}}, false},
		{"raw Set-Cookie in a response", []*interlockv1.Header{{Name: "Set-Cookie", Values: []string{"s=1"}}}, true},
	}
	for _, tt := range bad {
		var err error
		if tt.resp {
			err = s.Response(&interlockv1.HTTPResponse{Headers: tt.headers})
		} else {
			err = s.Request(ctx, &interlockv1.HTTPRequest{Headers: tt.headers})
		}
		if !errors.Is(err, record.ErrUnredacted) {
			t.Errorf("%s: Emit = %v, want ErrUnredacted", tt.name, err)
		}
	}
	// Refused events take no seq and do not fail the session.
	ok := (*record.Redactor)(nil).Headers(http.Header{"Authorization": {"Bearer eyJ0"}, "Accept": {"*/*"}})
	if err := s.Request(ctx, &interlockv1.HTTPRequest{Headers: ok}); err != nil {
		t.Fatalf("redacted request: %v", err)
	}
	if err := s.Emit(ctx, &interlockv1.SessionEvent{}); !errors.Is(err, record.ErrInvalid) {
		t.Fatalf("Emit of an event without kind = %v, want ErrInvalid", err)
	}
	if err := s.Emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Open{Open: openArgs()}}); !errors.Is(err, record.ErrInvalid) {
		t.Fatalf("Emit of an open = %v, want ErrInvalid", err)
	}
	s.Close(ctx, nil)
	evs := recorded(t, sp, dir)
	if len(evs) != 3 || evs[1].Seq != 2 || evs[1].GetHttpRequest() == nil {
		t.Fatalf("recorded %d events (%v), want open, the redacted request as seq 2, close", len(evs), evs)
	}
	for _, h := range evs[1].GetHttpRequest().Headers {
		if h.Name == "Authorization" && (h.Values[0] != record.Placeholder || !h.Redacted) {
			t.Fatalf("Authorization recorded as %v", h)
		}
	}
}

func TestOpenRefusedWhenSpoolFull(t *testing.T) {
	sp, _ := newSpool(t, spool.Options{MaxBytes: 32 << 10, ReserveBytes: 8 << 10})
	ctx := context.Background()
	rec := record.New(sp, record.Options{})
	s, err := rec.Open(ctx, openArgs())
	if err != nil {
		t.Fatal(err)
	}
	body := make([]byte, 1000)
	for sp.Stats().DiskBytes < 32<<10 {
		if err := s.Emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{Body: &interlockv1.Payload{Masked: body}}}}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := rec.Open(ctx, openArgs()); !errors.Is(err, spool.ErrFull) {
		t.Fatalf("Open on a full spool = %v, want ErrFull", err)
	}
	// The open session still records, from the reserve.
	if err := s.Emit(ctx, &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{Body: &interlockv1.Payload{Masked: body}}}}); err != nil {
		t.Fatalf("open session on a full spool: %v", err)
	}
	if err := s.Close(ctx, nil); err != nil {
		t.Fatal(err)
	}
}

func TestSinkFailureFailsSession(t *testing.T) {
	sp, _ := newSpool(t, spool.Options{})
	ctx := context.Background()
	rec := record.New(sp, record.Options{})
	s, err := rec.Open(ctx, openArgs())
	if err != nil {
		t.Fatal(err)
	}
	sp.Close()
	err = s.Decision(ctx, &interlockv1.Decision{})
	if !errors.Is(err, spool.ErrClosed) {
		t.Fatalf("Emit on a closed spool = %v, want it to wrap ErrClosed", err)
	}
	// Sticky: the session is failed for good, and says so once more on
	// Close.
	if err2 := s.Decision(ctx, &interlockv1.Decision{}); !errors.Is(err2, spool.ErrClosed) {
		t.Fatalf("second Emit = %v", err2)
	}
	if err := s.Close(ctx, nil); err == nil {
		t.Fatal("Close of a failed session returned nil")
	}
	if n := rec.OpenSessions(); n != 0 {
		t.Errorf("%d sessions open after the failed one closed", n)
	}
	if err := s.Close(ctx, nil); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// TestStage: a staged event is not appended by itself, and goes with the
// next Emit, in one Append, in seq order.
func TestStage(t *testing.T) {
	sink := &countingSink{}
	rec := record.New(sink, record.Options{})
	s, err := rec.Open(t.Context(), &interlockv1.SessionOpen{Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	appends := sink.appends()
	if err := s.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpRequest{HttpRequest: &interlockv1.HTTPRequest{ExchangeId: 1}}}); err != nil {
		t.Fatal(err)
	}
	if got := sink.appends(); got != appends {
		t.Fatalf("Stage appended (%d appends, want %d)", got, appends)
	}
	if err := s.Decision(t.Context(), &interlockv1.Decision{ExchangeId: 1}); err != nil {
		t.Fatal(err)
	}
	if got := sink.appends(); got != appends+1 {
		t.Fatalf("%d appends after Stage+Emit, want one more than %d", got, appends)
	}
	evs := sink.events()
	last2 := evs[len(evs)-2:]
	if last2[0].GetHttpRequest() == nil || last2[1].GetDecision() == nil || last2[0].Seq+1 != last2[1].Seq {
		t.Errorf("staged request and decision recorded as %v", last2)
	}
	if err := s.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_Open{Open: &interlockv1.SessionOpen{}}}); err == nil {
		t.Error("Stage accepted an open event")
	}

	// Flush makes what is staged durable by itself.
	if err := s.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{ExchangeId: 1}}}); err != nil {
		t.Fatal(err)
	}
	before := sink.appends()
	if err := s.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if evs := sink.events(); sink.appends() != before+1 || evs[len(evs)-1].GetHttpResponse() == nil {
		t.Errorf("Flush did not append the staged response (%d appends, was %d)", sink.appends(), before)
	}
	if err := s.Flush(t.Context()); err != nil || sink.appends() != before+1 {
		t.Errorf("Flush with nothing staged: %v, %d appends", err, sink.appends())
	}

	// Send hands what is staged to the sink without waiting for it.
	if err := s.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{ExchangeId: 2}}}); err != nil {
		t.Fatal(err)
	}
	before = sink.appends()
	s.Send()
	for deadline := time.Now().Add(5 * time.Second); sink.appends() == before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("Send: the staged response never reached the sink")
		}
	}
	if evs := sink.events(); evs[len(evs)-1].GetHttpResponse().GetExchangeId() != 2 {
		t.Errorf("Send appended %v", evs[len(evs)-1])
	}
}

// TestSendWithin: a staged event sent within d goes to the sink with the
// next Emit, in one Append with it, when that comes first; by itself once
// d has passed when it does not; and with the Close when that comes first.
func TestSendWithin(t *testing.T) {
	sink := &countingSink{}
	rec := record.New(sink, record.Options{})
	s, err := rec.Open(t.Context(), &interlockv1.SessionOpen{Node: "n"})
	if err != nil {
		t.Fatal(err)
	}
	response := func(id uint64) *interlockv1.SessionEvent {
		return &interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{ExchangeId: id}}}
	}

	// The next Emit comes first: one Append carries both.
	if err := s.Stage(response(1)); err != nil {
		t.Fatal(err)
	}
	before := sink.appends()
	s.SendWithin(time.Hour)
	if err := s.Decision(t.Context(), &interlockv1.Decision{ExchangeId: 2}); err != nil {
		t.Fatal(err)
	}
	evs := sink.events()
	if sink.appends() != before+1 || evs[len(evs)-2].GetHttpResponse().GetExchangeId() != 1 || evs[len(evs)-1].GetDecision() == nil {
		t.Fatalf("response sent within an hour, then a decision: %d appends (was %d), recorded %v", sink.appends(), before, evs[len(evs)-2:])
	}

	// Nothing comes: it reaches the sink by itself after d, not before.
	if err := s.Stage(response(2)); err != nil {
		t.Fatal(err)
	}
	const d = 100 * time.Millisecond
	before = sink.appends()
	start := time.Now()
	s.SendWithin(d)
	for sink.appends() == before {
		if time.Since(start) > 5*time.Second {
			t.Fatal("a response sent within 100ms never reached the sink")
		}
		time.Sleep(time.Millisecond)
	}
	if waited := time.Since(start); waited < d {
		t.Errorf("sent after %v, before the %v it was given", waited, d)
	}
	if evs := sink.events(); evs[len(evs)-1].GetHttpResponse().GetExchangeId() != 2 {
		t.Errorf("the timer appended %v", evs[len(evs)-1])
	}

	// The Close comes first: it carries it, and the timer adds nothing.
	if err := s.Stage(response(3)); err != nil {
		t.Fatal(err)
	}
	s.SendWithin(d)
	if err := s.Close(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	closed := sink.appends()
	time.Sleep(2 * d)
	evs = sink.events()
	if sink.appends() != closed || evs[len(evs)-2].GetHttpResponse().GetExchangeId() != 3 || evs[len(evs)-1].GetClose() == nil {
		t.Errorf("after Close: %d appends (%d at Close), recorded %v", sink.appends(), closed, evs[len(evs)-2:])
	}
}

// TestPost: a posted event is appended in the background, the session's
// next Emit returns only once both are durable, in seq order, and a sink
// failure on a posted event fails that Emit.
func TestPost(t *testing.T) {
	sink, s := openGated(t)
	if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: 1, Status: 200}); err != nil {
		t.Fatal(err) // returned while the sink holds the append
	}
	decided := make(chan error)
	go func() { decided <- s.Decision(t.Context(), &interlockv1.Decision{ExchangeId: 2}) }()
	select {
	case err := <-decided:
		t.Fatalf("Emit returned (%v) before the posted event was durable", err)
	case <-time.After(50 * time.Millisecond):
	}
	// One Append or two: the decision may join the posted response's.
	for done := false; !done; {
		select {
		case err := <-decided:
			if err != nil {
				t.Fatal(err)
			}
			done = true
		case sink.gate <- nil:
		}
	}
	evs := sink.events()
	if len(evs) != 3 || evs[1].GetHttpResponse() == nil || evs[2].GetDecision() == nil || evs[1].Seq+1 != evs[2].Seq {
		t.Fatalf("recorded %v", evs)
	}

	// A failed background append fails what follows.
	if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: 3}); err != nil {
		t.Fatal(err)
	}
	failure := errors.New("disk gone")
	sink.gate <- failure
	if err := s.Decision(t.Context(), &interlockv1.Decision{ExchangeId: 4}); !errors.Is(err, failure) {
		t.Fatalf("Emit after a failed posted event = %v, want %v", err, failure)
	}
	if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: 5}); !errors.Is(err, failure) {
		t.Fatalf("Post on a failed session = %v", err)
	}
}

// TestPostNotLeftBehind: an event posted while another goroutine's Append
// is in flight, and while a Flush waits for that Append, is still handed
// to the sink when they return — not left for the session's next event.
func TestPostNotLeftBehind(t *testing.T) {
	sink, s := openGated(t)
	decided := make(chan error, 1)
	go func() { decided <- s.Decision(t.Context(), &interlockv1.Decision{ExchangeId: 1}) }()
	time.Sleep(50 * time.Millisecond) // the decision's Append waits at the gate
	flushed := make(chan error, 1)
	go func() { flushed <- s.Flush(t.Context()) }()
	time.Sleep(50 * time.Millisecond) // Flush waits for the decision
	if err := s.Response(&interlockv1.HTTPResponse{ExchangeId: 1, Status: 200}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(5 * time.Second)
	for {
		evs := sink.events()
		if len(evs) > 0 && evs[len(evs)-1].GetHttpResponse() != nil {
			break
		}
		select {
		case sink.gate <- nil:
		case <-time.After(10 * time.Millisecond):
		case <-deadline:
			t.Fatalf("the posted response never reached the sink: recorded %v", evs)
		}
	}
	for _, ch := range []chan error{decided, flushed} {
		if err := <-ch; err != nil {
			t.Fatal(err)
		}
	}
}

// openGated opens a session on a gateSink, letting its open through.
func openGated(t *testing.T) (*gateSink, *record.Session) {
	t.Helper()
	sink := &gateSink{gate: make(chan error)}
	rec := record.New(sink, record.Options{})
	opened := make(chan *record.Session)
	go func() {
		s, err := rec.Open(t.Context(), &interlockv1.SessionOpen{Node: "n"})
		if err != nil {
			t.Error(err)
		}
		opened <- s
	}()
	sink.gate <- nil
	return sink, <-opened
}

// gateSink lets each Append through when gate gives it its result.
type gateSink struct {
	gate chan error
	mu   sync.Mutex
	evs  []*interlockv1.SessionEvent
}

func (g *gateSink) Append(_ context.Context, evs []*interlockv1.SessionEvent) error {
	if err := <-g.gate; err != nil {
		return err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.evs = append(g.evs, evs...)
	return nil
}

func (g *gateSink) events() []*interlockv1.SessionEvent {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]*interlockv1.SessionEvent(nil), g.evs...)
}

// countingSink keeps events and counts Appends.
type countingSink struct {
	mu  sync.Mutex
	n   int
	evs []*interlockv1.SessionEvent
}

func (c *countingSink) Append(_ context.Context, evs []*interlockv1.SessionEvent) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	c.evs = append(c.evs, evs...)
	return nil
}

func (c *countingSink) appends() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

func (c *countingSink) events() []*interlockv1.SessionEvent {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*interlockv1.SessionEvent(nil), c.evs...)
}
