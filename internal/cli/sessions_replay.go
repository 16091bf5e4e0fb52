// SPDX-License-Identifier: Apache-2.0

// Printing a recorded event for people: one line per step, with its time
// since the session opened; bodies as recorded, that is masked.

package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// maxReplayBody is how much of a recorded body replay prints.
const maxReplayBody = 2048

func replayEvent(w io.Writer, e *interlockv1.SessionEvent) error {
	at := fmt.Sprintf("+%8.3fs", e.GetSinceOpen().AsDuration().Seconds())
	var lines []string
	switch ev := e.GetEvent().(type) {
	case *interlockv1.SessionEvent_Open:
		o := ev.Open
		lines = append(lines, fmt.Sprintf("open     %s target=%s server=%s workload=%s from %s to %s",
			protocolWord(o.GetProtocol()), orDash(o.GetTarget()), orDash(o.GetServerName()), orDash(workloadName(o.GetWorkload())),
			orDash(o.GetClientAddress()), orDash(o.GetOriginalDestination())))
		if o.GetFailOpen() {
			lines = append(lines, "         fail-open: passed without inspection")
		}
	case *interlockv1.SessionEvent_HttpRequest:
		r := ev.HttpRequest
		target := r.GetHost() + r.GetPath()
		if r.GetQuery() != "" {
			target += "?" + r.GetQuery()
		}
		line := fmt.Sprintf("-> #%d %s %s %s", r.GetExchangeId(), r.GetMethod(), target, r.GetProto())
		if op := r.GetAzure().GetOperation(); op != "" {
			line += " [" + op + "]"
		}
		if id := identityName(r.GetIdentity()); id != "" {
			line += " as " + id
		}
		lines = append(lines, line)
		lines = append(lines, headerLines(r.GetHeaders())...)
		lines = append(lines, bodyLines(r.GetBody())...)
	case *interlockv1.SessionEvent_HttpResponse:
		r := ev.HttpResponse
		line := fmt.Sprintf("<- #%d %d", r.GetExchangeId(), r.GetStatus())
		if r.GetFromProxy() {
			line += " (from interlock)"
		}
		if d := r.GetUpstreamLatency().AsDuration(); d > 0 {
			line += fmt.Sprintf(" upstream %v", d.Round(time.Microsecond))
		}
		if d := r.GetApprovalHold().AsDuration(); d > 0 {
			line += fmt.Sprintf(" held %v for approval", d.Round(time.Millisecond))
		}
		if a := r.GetAborted(); a != "" {
			line += " ABORTED: " + a
		}
		lines = append(lines, line)
		lines = append(lines, headerLines(r.GetHeaders())...)
		lines = append(lines, bodyLines(r.GetBody())...)
	case *interlockv1.SessionEvent_PgQuery:
		q := ev.PgQuery
		lines = append(lines, fmt.Sprintf("-> #%d SQL %s: %s", q.GetExchangeId(), orDash(q.GetStatementType()), q.GetText()))
		lines = append(lines, bodyLines(q.GetParameters())...)
	case *interlockv1.SessionEvent_PgResult:
		r := ev.PgResult
		line := fmt.Sprintf("<- #%d %s (%d rows)", r.GetExchangeId(), orDash(r.GetCommandTag()), r.GetRows())
		if pe := r.GetError(); pe != nil {
			line = fmt.Sprintf("<- #%d ERROR %s %s: %s", r.GetExchangeId(), pe.GetSqlstate(), pe.GetSeverity(), pe.GetMessage())
		}
		if r.GetFromProxy() {
			line += " (from interlock)"
		}
		lines = append(lines, line)
		lines = append(lines, bodyLines(r.GetData())...)
	case *interlockv1.SessionEvent_Decision:
		d := ev.Decision
		line := fmt.Sprintf("== #%d %s", d.GetExchangeId(), actionWord(d.GetAction()))
		if d.GetOutcome() != d.GetAction() && d.GetOutcome() != interlockv1.Action_ACTION_UNSPECIFIED {
			line += " -> " + actionWord(d.GetOutcome())
		}
		line += " rule=" + orDash(d.GetRule())
		if d.GetMessage() != "" {
			line += fmt.Sprintf(" %q", d.GetMessage())
		}
		if d.GetReason() != "" {
			line += " (" + d.GetReason() + ")"
		}
		lines = append(lines, line)
	case *interlockv1.SessionEvent_Approval:
		a := ev.Approval
		line := fmt.Sprintf("?? #%d approval %s %s", a.GetExchangeId(), a.GetApprovalId(), stateWord(a.GetState()))
		if len(a.GetApprovers()) > 0 {
			line += " by " + strings.Join(a.GetApprovers(), ", ")
		}
		if a.GetGrantUsed() {
			line += " (earlier grant)"
		}
		lines = append(lines, line)
	case *interlockv1.SessionEvent_Close:
		c := ev.Close
		lines = append(lines, fmt.Sprintf("close    %s, %d exchanges, %d bytes in, %d bytes out",
			orDash(c.GetReason()), c.GetExchanges(), c.GetBytesFromClient(), c.GetBytesToClient()))
	default:
		lines = append(lines, "(unknown event)")
	}
	for i, l := range lines {
		prefix := at
		if i > 0 {
			prefix = strings.Repeat(" ", len(at))
		}
		if _, err := fmt.Fprintf(w, "%s  %s\n", prefix, l); err != nil {
			return err
		}
	}
	return nil
}

func actionWord(a interlockv1.Action) string {
	return strings.ToLower(strings.TrimPrefix(a.String(), "ACTION_"))
}

func headerLines(hs []*interlockv1.Header) []string {
	var out []string
	for _, h := range hs {
		v := strings.Join(h.GetValues(), ", ")
		if h.GetRedacted() {
			v = "[redacted]"
		}
		out = append(out, fmt.Sprintf("   %s: %s", h.GetName(), v))
	}
	return out
}

// bodyLines prints a payload as recorded: masked content, and what masking
// replaced.
func bodyLines(p *interlockv1.Payload) []string {
	if p == nil || (len(p.GetMasked()) == 0 && p.GetSize() == 0) {
		return nil
	}
	body := string(p.GetMasked())
	cut := p.GetTruncated()
	if len(body) > maxReplayBody {
		body, cut = body[:maxReplayBody], true
	}
	out := []string{"   " + strings.ReplaceAll(body, "\n", "\n   ")}
	if cut {
		out = append(out, fmt.Sprintf("   ... (%d bytes in all)", p.GetSize()))
	}
	for _, m := range p.GetMasks() {
		what := m.GetJsonPath()
		if what == "" {
			what = m.GetDetector()
		}
		out = append(out, fmt.Sprintf("   masked %d by %s %s", m.GetCount(), orDash(m.GetRule()), what))
	}
	return out
}
