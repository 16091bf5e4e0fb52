// SPDX-License-Identifier: Apache-2.0

// Per statement: the policy request, the decision, approvals, and the
// events that record them. Nothing goes upstream before the statement and
// its decision are durable.

package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/sqlclass"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// verdict is what was decided for one statement.
type verdict struct {
	tables      []string // what the statement reads, views and functions expanded
	hookedWrite bool     // it writes a relation with a trigger or default of the database's own
	id          uint64
	d           policy.Decision
	refusal     *pgwire.ErrorResponse // nil: the statement may run
	rec         *interlockv1.Decision
}

// withUnqualified returns tables with the unqualified, lower-case form of
// each added: rules name tables unqualified ("customers" in sql.tables) as
// often as qualified, whichever the statement wrote.
func withUnqualified(tables []string) []string {
	out := tables
	for _, t := range tables {
		if n := relName(t); !slices.Contains(out, n) {
			out = append(slices.Clip(out), n)
		}
	}
	return out
}

// decideBoth decides st, whose tables include what its views and functions
// read, against what it names itself (own): a statement may run only if
// it may by what it names (expanding a view's name to the tables it reads
// grants nothing: a rule allowing reads of customers does not allow LOCK
// of a view over it), and what it reads adds denials, approvals and masks.
func (s *session) decideBoth(ctx context.Context, bundle *policy.Bundle, st sqlclass.Statement, own []string) (policy.Decision, error) {
	req := s.request(st)
	read, err := bundle.Evaluate(ctx, &req)
	if err != nil || read.Action == policy.Deny || slices.Equal(own, st.Tables) {
		return read, err
	}
	st.Tables = own
	req = s.request(st)
	named, err := bundle.Evaluate(ctx, &req)
	if err != nil || named.Action == policy.Deny {
		return named, err
	}
	d := named
	if read.Action == policy.Approve && named.Action == policy.Allow {
		d = read // what it reads needs approval
	}
	for _, m := range append(slices.Clip(named.Masks), read.Masks...) {
		if !slices.Contains(d.Masks, m) {
			d.Masks = append(slices.Clip(d.Masks), m)
		}
	}
	for _, r := range append(slices.Clip(named.Matched), read.Matched...) {
		if !slices.Contains(d.Matched, r) {
			d.Matched = append(slices.Clip(d.Matched), r)
		}
	}
	return d, nil
}

// hasColumnMask says whether d masks a column.
func hasColumnMask(d *policy.Decision) bool {
	for _, m := range d.Masks {
		if m != nil && m.Column != "" {
			return true
		}
	}
	return false
}

// sideEffectFunctions keep what they are given beyond the statement: a
// setting, a large object, a notification.
var sideEffectFunctions = map[string]bool{
	"set_config": true, "pg_notify": true, "lo_from_bytea": true, "lo_create": true, "lo_import": true,
	"lo_export": true, "lowrite": true, "lo_put": true, "lo_creat": true,
}

// untraceableCall returns a function st calls that may keep or copy what
// it reads (one of the database's own, one that runs SQL text, one with a
// side effect), "" if none.
func (s *session) untraceableCall(st sqlclass.Statement) string {
	cat := s.cat.Load()
	for _, f := range st.Functions {
		n := relName(f)
		if sideEffectFunctions[n] || (cat != nil && cat.opaque([]string{f}) != "") {
			return f
		}
	}
	return ""
}

// transactionControl says whether st only controls the session's
// transaction or settings.
func transactionControl(st sqlclass.Statement) bool {
	switch st.Type {
	case "BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE", "SET", "RESET", "SHOW", "DISCARD", "DEALLOCATE", "CLOSE":
		return true
	}
	return false
}

// writes says whether st writes rows.
func writes(st sqlclass.Statement) bool {
	switch st.Type {
	case "INSERT", "UPDATE", "DELETE", "MERGE":
		return true
	}
	return false
}

// stage records a statement (staged: durable with its decision).
func (s *session) stage(q *interlockv1.PGQuery) error {
	q.Database, q.User = s.database, s.user
	return s.sess.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_PgQuery{PgQuery: q}})
}

// decide records st (kind, with params), decides it and records the
// decision. askApproval is false for Parse: preparing a statement runs
// nothing, so an approve rule is asked when the statement is executed.
func (s *session) decide(ctx context.Context, st sqlclass.Statement, q *interlockv1.PGQuery, askApproval bool) *verdict {
	v := s.evaluate(ctx, st, q)
	if v.refusal == nil && v.d.Action == policy.Approve {
		if askApproval {
			s.approve(ctx, v, st, q)
		} else {
			v.rec.Outcome = interlockv1.Action_ACTION_ALLOW
			v.rec.Reason = "prepared; approval is asked when the statement is executed"
		}
	}
	s.commit(ctx, v)
	return v
}

// evaluate stages st's record and asks the policy; the decision is not
// recorded yet (commit).
func (s *session) evaluate(ctx context.Context, st sqlclass.Statement, q *interlockv1.PGQuery) *verdict {
	v := &verdict{id: s.sess.NewExchange()}
	s.statements.Add(1)
	// A statement on a view is decided as one on what the view reads:
	// sql.tables holds those relations too.
	// What the statement names itself decides whether it may run; what it
	// reads through views and functions adds denials, approvals and masks
	// (decideBoth).
	own := withUnqualified(st.Tables)
	var catErr error
	switch {
	case st.Unknown != "":
	case s.catalogStale && (len(st.Tables) > 0 || len(st.Functions) > 0):
		// The catalog is due to be read again and could not be yet: a
		// schema change earlier in this extended-protocol batch (read at
		// its Sync), or a transaction that failed (read once it ends).
		catErr = errStaleCatalog
	default:
		var cat *catalog
		cat, catErr = s.catalogNow(ctx)
		if catErr != nil && len(st.Tables) == 0 && len(st.Functions) == 0 && transactionControl(st) {
			catErr = nil // reads nothing: a session must be able to end its transaction
			break
		}
		if catErr == nil && cat.snapshot && cat.namesView(st.Tables) && len(s.columnRuleNames()) > 0 {
			// The catalog was read in this transaction's snapshot, but
			// the server plans a view with its latest definition.
			catErr = errors.New("interlock: statements on views inside a REPEATABLE READ or SERIALIZABLE transaction are refused while the policy masks columns (a view's definition cannot be checked there)")
		}
		if catErr == nil && !changesSchema(st) {
			if t := cat.unknown(st.Tables, st.With); t != "" {
				// Made by another session (or a function) since the
				// catalog was read: read it again before deciding.
				s.catalogStale = true
				catErr = fmt.Errorf("interlock: relation %s is not in this session's catalog (it does not exist, or was made since the catalog was read): refused; the catalog is read again for the next statement", t)
			}
		}
		if catErr == nil {
			if cat.mayReadAnything(st.Tables, st.Functions, writes(st)) {
				// A function of the database's own (called here, in a
				// view, a trigger, a default, an operator) may read any
				// table: decided as reading each that has a masked column,
				// whose masks then refuse what cannot be traced.
				for _, r := range cat.masked() {
					if !slices.Contains(st.Tables, r) {
						st.Tables = append(slices.Clip(st.Tables), r)
					}
				}
			}
			st.Tables = cat.expand(st.Tables)
			if writes(st) && (cat.hooks(st.Tables) || cat.reads(st.Tables)) {
				// RETURNING may return what a trigger or default of the
				// database's own wrote, or what the statement copied from
				// a masked column (INSERT ... SELECT email ...).
				v.hookedWrite = true
			}
		}
	}
	st.Tables = withUnqualified(st.Tables)
	v.tables = st.Tables
	q.ExchangeId = v.id
	q.Text, q.StatementType, q.Tables, q.Functions, q.HasWhere = st.Text, st.Type, st.Tables, st.Functions, st.HasWhere
	if q.StatementType == "" {
		q.StatementType = "UNKNOWN"
	}
	rec := &interlockv1.Decision{ExchangeId: v.id}
	v.rec = rec
	if err := s.stage(q); err != nil {
		v.refusal = refusal(StateConnectionFailure, CodeDisallowed, "recording failed: refused (nothing unrecorded passes)")
		return v
	}
	failOpen := ""
	switch bundle := s.h.cfg.Policy(); {
	case st.Unknown != "":
		v.d = policy.Decision{Action: policy.Deny, Message: "the statement could not be classified (" + st.Unknown + "): refused (fail closed)"}
		if s.target.FailOpen {
			v.d.Action = policy.Allow
			failOpen = "failMode open: " + v.d.Message
		}
	case bundle == nil:
		v.d = policy.Decision{Action: policy.Deny, Message: "no policy loaded: refused (fail closed)"}
	case catErr != nil:
		// Never failMode open: a client can make the lookup fail.
		v.d = policy.Decision{Action: policy.Deny, Message: catErr.Error()}
	default:
		d, err := s.decideBoth(ctx, bundle, st, own)
		v.d = d
		if err != nil {
			v.d.Message = "policy could not be evaluated: " + err.Error()
			if s.target.FailOpen {
				v.d.Action = policy.Allow
				failOpen = "failMode open: " + v.d.Message
			}
		}
	}
	rec.Action, rec.Outcome, rec.Message, rec.Matched, rec.Reason = record.Action(v.d.Action), record.Action(v.d.Action), v.d.Message, record.RuleNames(v.d.Matched), failOpen
	if v.d.Rule != nil {
		rec.Rule = v.d.Rule.Name
	}
	if v.d.Action != policy.Deny && hasColumnMask(&v.d) && catErr == nil && st.Unknown == "" {
		if fn := s.untraceableCall(st); fn != "" {
			// Its result would be refused, but it would have run: what
			// it did with a masked column (set_config, a large object, a
			// notification, a table of its own) is not refused.
			v.d.Action = policy.Deny
			v.d.Message = "interlock: " + fn + " may copy a masked column elsewhere, and column masks are in force for this statement: refused before it runs"
		}
	}
	if v.d.Action == policy.Deny {
		rec.ErrorCode = CodeDisallowed
		v.refusal = refusal(StateInsufficientPrivilege, CodeDisallowed, denyMessage(&v.d))
		if errors.Is(catErr, errStaleCatalog) && s.txStatus.Load() == pgwire.TxFailed {
			// The catalog is read again once the failed transaction
			// ends; until then the server would refuse it too, as this.
			v.refusal = pgwire.NewError("ERROR", "25P02", "current transaction is aborted, commands ignored until end of transaction block")
		}
	}
	return v
}

// commit records v's decision (durable). A statement whose decision
// could not be recorded does not run.
func (s *session) commit(ctx context.Context, v *verdict) {
	s.h.cfg.Observer.Decision(s.target.Name, v.rec.Outcome.String(), v.rec.Rule)
	if err := s.sess.Decision(ctx, v.rec); err != nil && v.refusal == nil {
		v.refusal = refusal(StateConnectionFailure, CodeDisallowed, "recording failed: refused (nothing unrecorded passes)")
	}
}

// request is the policy request of one statement.
func (s *session) request(st sqlclass.Statement) policy.Request {
	c := s.c
	return policy.Request{
		Identity: s.identity,
		Workload: policy.Workload{
			Kind: c.Workload.Kind, Name: c.Workload.Name, Namespace: c.Workload.Namespace,
			ServiceAccount: c.Workload.ServiceAccount, Unit: c.Workload.Unit, Cgroup: c.Workload.CgroupPath,
			PID: int64(c.Original.PID), UID: int64(c.Original.UID),
		},
		Target: policy.TargetInfo{Name: s.target.Name, Protocol: policy.ProtocolPostgres, Host: s.name, Port: int64(c.Original.Dst.Port())},
		HTTP:   policy.HTTP{Protocol: policy.ProtocolPostgres},
		SQL: policy.SQL{
			StatementType: st.Type, Tables: st.Tables, Functions: st.Functions, HasWhere: st.HasWhere, Text: st.Text,
		},
	}
}

// approve holds the statement while people decide, at most the rule's
// hold, and sets v's outcome.
func (s *session) approve(ctx context.Context, v *verdict, st sqlclass.Statement, q *interlockv1.PGQuery) {
	rec := v.rec
	if s.h.cfg.Approvals == nil {
		rec.Outcome, rec.ErrorCode, rec.Reason = interlockv1.Action_ACTION_DENY, CodeApprovalDenied, "no approval service on this node"
		v.refusal = refusal(StateInsufficientPrivilege, CodeApprovalDenied, denyMessage(&v.d)+" (needs approval, and this node cannot ask for it)")
		return
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00", s.target.Name, s.database, s.upUser, st.Text)
	h.Write(q.GetParameters().GetSha256())
	op := st.Type
	if len(st.Tables) > 0 {
		op += " " + strings.Join(st.Tables, ", ")
	}
	held := time.Now()
	res, err := s.h.cfg.Approvals.Approve(ctx, ApprovalRequest{
		Identity: s.identity, Workload: s.c.Workload, Target: s.target.Name, Operation: op,
		Summary: truncate(st.Text, 1024), Rule: rec.Rule, Fingerprint: h.Sum(nil),
		Reason: s.startup.Get("application_name"), Approval: v.d.Approval, SessionID: s.sess.ID(), ExchangeID: v.id,
	})
	s.h.cfg.Observer.ApprovalWait(res.State, time.Since(held))
	if err != nil {
		rec.Outcome, rec.ErrorCode, rec.Reason = interlockv1.Action_ACTION_DENY, CodeApprovalPending, "approval service: "+err.Error()
		v.refusal = refusal(StateInsufficientPrivilege, CodeApprovalPending, "approval could not be requested: "+err.Error())
		return
	}
	rec.ApprovalId = res.ID
	_ = s.sess.Approval(ctx, &interlockv1.ApprovalEvent{
		ExchangeId: v.id, ApprovalId: res.ID, State: res.State, Approvers: res.Approvers, Comment: res.Comment, GrantUsed: res.GrantUsed,
	})
	switch res.State {
	case interlockv1.ApprovalState_APPROVAL_STATE_APPROVED:
		rec.Outcome = interlockv1.Action_ACTION_ALLOW
	case interlockv1.ApprovalState_APPROVAL_STATE_DENIED, interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED:
		rec.Outcome, rec.ErrorCode = interlockv1.Action_ACTION_DENY, CodeApprovalDenied
		msg := fmt.Sprintf("%s: approval %s was denied by %s", rec.Rule, res.ID, strings.Join(res.Approvers, ", "))
		if res.State == interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED {
			msg = fmt.Sprintf("%s: approval %s expired without a decision", rec.Rule, res.ID)
		}
		if res.Comment != "" {
			msg += " (" + res.Comment + ")"
		}
		v.refusal = refusal(StateInsufficientPrivilege, CodeApprovalDenied, msg)
	default:
		rec.Outcome, rec.ErrorCode = interlockv1.Action_ACTION_DENY, CodeApprovalPending
		v.refusal = refusal(StateInsufficientPrivilege, CodeApprovalPending,
			fmt.Sprintf("%s: approval %s is pending; run the same statement again once it is approved", rec.Rule, res.ID))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
