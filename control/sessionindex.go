// SPDX-License-Identifier: Apache-2.0

// Building sessions index updates from a chunk's events.

package control

import (
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// sessionUpdates groups events by session, in order of first appearance,
// and returns what each session's index entry gains.
func sessionUpdates(events []*interlockv1.SessionEvent) []store.SessionUpdate {
	var order []string
	by := map[string][]*interlockv1.SessionEvent{}
	for _, e := range events {
		id := e.GetSessionId()
		if _, ok := by[id]; !ok {
			order = append(order, id)
		}
		by[id] = append(by[id], e)
	}
	out := make([]store.SessionUpdate, 0, len(order))
	for _, id := range order {
		evs := by[id]
		u := store.SessionUpdate{ID: id, Apply: func(s *interlockv1.SessionSummary) { summarize(s, evs) }}
		seenOp := map[string]bool{}
		seenDec := map[interlockv1.Action]bool{}
		for _, e := range evs {
			op := ""
			switch ev := e.GetEvent().(type) {
			case *interlockv1.SessionEvent_HttpRequest:
				op = ev.HttpRequest.GetAzure().GetOperation()
			case *interlockv1.SessionEvent_PgQuery:
				op = ev.PgQuery.GetStatementType()
			case *interlockv1.SessionEvent_Decision:
				for _, a := range []interlockv1.Action{ev.Decision.GetAction(), ev.Decision.GetOutcome()} {
					if a != interlockv1.Action_ACTION_UNSPECIFIED && !seenDec[a] {
						seenDec[a] = true
						u.Decisions = append(u.Decisions, a)
					}
				}
			}
			if op != "" && !seenOp[op] {
				seenOp[op] = true
				u.Operations = append(u.Operations, op)
			}
		}
		out = append(out, u)
	}
	return out
}

// summarize merges one session's events into its summary.
func summarize(s *interlockv1.SessionSummary, evs []*interlockv1.SessionEvent) {
	for _, e := range evs {
		s.Events++
		if s.GetOpened() == nil && e.GetTime() != nil {
			s.Opened = timestamppb.New(e.GetTime().AsTime())
		}
		switch ev := e.GetEvent().(type) {
		case *interlockv1.SessionEvent_Open:
			o := ev.Open
			s.Workload, s.Protocol, s.Target, s.ServerName = o.GetWorkload(), o.GetProtocol(), o.GetTarget(), o.GetServerName()
			if e.GetTime() != nil {
				s.Opened = e.GetTime()
			}
		case *interlockv1.SessionEvent_HttpRequest:
			s.Exchanges++
			if s.GetIdentity() == nil && ev.HttpRequest.GetIdentity() != nil {
				s.Identity = ev.HttpRequest.GetIdentity()
			}
			s.Masked += masked(ev.HttpRequest.GetBody())
		case *interlockv1.SessionEvent_HttpResponse:
			s.Masked += masked(ev.HttpResponse.GetBody())
		case *interlockv1.SessionEvent_PgQuery:
			s.Exchanges++
			s.Masked += masked(ev.PgQuery.GetParameters())
		case *interlockv1.SessionEvent_PgResult:
			s.Masked += masked(ev.PgResult.GetData())
		case *interlockv1.SessionEvent_Decision:
			if ev.Decision.GetOutcome() == interlockv1.Action_ACTION_DENY {
				s.Denied++
			}
			if ev.Decision.GetAction() == interlockv1.Action_ACTION_APPROVE {
				s.Approvals++
			}
		case *interlockv1.SessionEvent_Close:
			s.Closed, s.Complete = e.GetTime(), true
			if s.Closed == nil {
				s.Closed = timestamppb.Now()
			}
		}
	}
}

// masked counts the values masking replaced in a payload.
func masked(p *interlockv1.Payload) uint32 {
	var n uint32
	for _, m := range p.GetMasks() {
		n += m.GetCount()
	}
	return n
}
