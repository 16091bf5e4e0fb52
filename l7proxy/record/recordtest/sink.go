// SPDX-License-Identifier: Apache-2.0

// Package recordtest holds what handler tests record into: a sink that
// keeps events in memory.
package recordtest

import (
	"context"
	"sync"
	"testing"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// MemSink keeps recorded events in memory; it is a record.Sink. The zero
// value is ready to use.
type MemSink struct {
	mu   sync.Mutex
	evs  []*interlockv1.SessionEvent
	fail error
}

// Append keeps evs, or refuses them with the error FailWith set.
func (s *MemSink) Append(_ context.Context, evs []*interlockv1.SessionEvent) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.evs = append(s.evs, evs...)
	return nil
}

// FailWith makes every later Append fail with err (nil: succeed again),
// as a full or broken disk would.
func (s *MemSink) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// Events returns every event kept so far, in append order.
func (s *MemSink) Events() []*interlockv1.SessionEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*interlockv1.SessionEvent(nil), s.evs...)
}

// WaitClosed waits until every recorded session has its close event, and
// fails t after 10 s.
func (s *MemSink) WaitClosed(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		open := map[string]bool{}
		for _, e := range s.Events() {
			if e.GetOpen() != nil {
				open[e.SessionId] = true
			}
			if e.GetClose() != nil {
				delete(open, e.SessionId)
			}
		}
		if len(open) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("sessions still open 10 s after their clients closed")
}
