// SPDX-License-Identifier: Apache-2.0

// The frontend loop: reads the client's messages, classifies and decides
// statements, and forwards what may run. A refused statement is replaced
// upstream by a marker that fails without doing anything, so that the
// server's error — replaced by Interlock's on the way back — comes in
// order, and the server's transaction state is what it would be had the
// statement itself failed.

package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/sqlclass"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Markers sent upstream in place of a refused statement: each fails at
// once (a syntax error; a portal that does not exist) and runs nothing.
const (
	markerQuery  = "INTERLOCK_REFUSED_STATEMENT"
	markerPortal = "interlock: statement refused by policy"
)

// frontendState is owned by the frontend loop.
type frontendState struct {
	stmts    map[string]*prepared
	portals  map[string]*portal
	skipping bool // discarding extended messages until Sync after a refusal
	// synced: no extended-protocol message has been sent upstream since
	// the last Sync or Query. catalogStale: the masked-column catalog is
	// to be (re)read at the next sync point.
	synced, catalogStale bool
	// catalogPending is closed when the lookup in flight is answered.
	catalogPending chan struct{}
	// classified holds the statements of the message being handled, when
	// wantsFreshCatalog classified them before it (take hands them over).
	classified     []sqlclass.Statement
	classifiedText string

	query  pgwire.Query
	parse  pgwire.Parse
	bind   pgwire.Bind
	desc   pgwire.Describe
	exec   pgwire.Execute
	closeM pgwire.Close
}

func (f *frontendState) init() {
	f.stmts = map[string]*prepared{}
	f.portals = map[string]*portal{}
	f.synced, f.catalogStale = true, true
}

// prepared is a statement prepared with Parse.
type prepared struct {
	name string
	text string
	sts  []sqlclass.Statement
}

// portal is a statement bound with Bind.
type portal struct {
	name   string
	stmt   *prepared
	params *interlockv1.Payload
	// described is set by the frontend when the client asked for the
	// portal's description, which the backend then keeps in cols.
	described bool
	cols      []pgwire.FieldDescription // backend
	colsKnown bool                      // backend
}

// frontend runs until the client ends the session or fails.
func (s *session) frontend(ctx context.Context) error {
	s.upW = newUpWriter(s)
	for {
		s.setClientDeadline()
		typ, body, err := s.cliR.Next()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, pgwire.ErrTooLarge) {
				s.fatal(fatal(StateProtocolViolation, "interlock: "+err.Error()))
			}
			return fmt.Errorf("client: %w", err)
		}
		s.fromCli.Add(int64(len(body) + 5))
		if err := s.onFrontend(ctx, typ, body); err != nil {
			if errors.Is(err, errTerminate) {
				_ = s.upW.Flush()
				return nil
			}
			return err
		}
		if s.cliR.Buffered() == 0 {
			if err := s.flushUp(); err != nil {
				return fmt.Errorf("upstream: %w", err)
			}
		}
	}
}

// classify classifies text and keeps the statements for take: a message
// is classified once, though both the catalog check and its handling need
// them.
func (s *session) classify(text string) []sqlclass.Statement {
	s.classified, s.classifiedText = sqlclass.Classify(text), text
	return s.classified
}

// take returns the statements of text, classified by classify for this
// message or now; the caller may change them.
func (s *session) take(text string) []sqlclass.Statement {
	sts, kept := s.classified, s.classifiedText
	s.classified, s.classifiedText = nil, ""
	if sts != nil && kept == text {
		return sts
	}
	return sqlclass.Classify(text)
}

// errTerminate ends the loop after a Terminate.
var errTerminate = errors.New("terminate")

// setClientDeadline bounds the client's silence while no response is
// owed; while one is, the client waits on the server and may be silent.
func (s *session) setClientDeadline() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) > 0 {
		_ = s.cli.SetReadDeadline(time.Time{})
	} else {
		_ = s.cli.SetReadDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
	}
}

func (s *session) onFrontend(ctx context.Context, typ byte, body []byte) error {
	f := &s.frontendState
	if f.skipping && typ != pgwire.TypeSync && typ != pgwire.TypeTerminate {
		return nil // as the server does after an error
	}
	switch typ {
	case pgwire.TypeQuery, pgwire.TypeParse, pgwire.TypeBind, pgwire.TypeDescribe, pgwire.TypeExecute, pgwire.TypeClose, pgwire.TypeFunctionCall:
		if f.synced && s.wantsFreshCatalog(typ, body) {
			f.catalogStale = true
		}
		if err := s.lookupCatalog(); err != nil {
			return fmt.Errorf("upstream: %w", err)
		}
		f.synced = typ == pgwire.TypeQuery || typ == pgwire.TypeFunctionCall
	case pgwire.TypeSync:
		f.synced = true
	}
	switch typ {
	case pgwire.TypeQuery:
		if err := f.query.Decode(body); err != nil {
			return s.protocolError(err)
		}
		return s.simpleQuery(ctx, f.query.String)
	case pgwire.TypeParse:
		if err := f.parse.Decode(body); err != nil {
			return s.protocolError(err)
		}
		return s.onParse(ctx, body)
	case pgwire.TypeBind:
		if err := f.bind.Decode(body); err != nil {
			return s.protocolError(err)
		}
		return s.onBind(body)
	case pgwire.TypeDescribe:
		if err := f.desc.Decode(body); err != nil {
			return s.protocolError(err)
		}
		e := &expect{kind: expDescribeS}
		if f.desc.Kind == 'P' {
			e.kind = expDescribeP
			p := f.portals[f.desc.Name]
			if p == nil {
				p = &portal{name: f.desc.Name} // the server will say it does not exist
			}
			p.described = true
			e.portal = p
		}
		return s.forward(e, typ, body)
	case pgwire.TypeExecute:
		if err := f.exec.Decode(body); err != nil {
			return s.protocolError(err)
		}
		return s.onExecute(ctx, body)
	case pgwire.TypeClose:
		if err := f.closeM.Decode(body); err != nil {
			return s.protocolError(err)
		}
		if f.closeM.Kind == 'S' {
			delete(f.stmts, f.closeM.Name)
		} else {
			delete(f.portals, f.closeM.Name)
		}
		return s.forward(&expect{kind: expClose}, typ, body)
	case pgwire.TypeSync:
		f.skipping = false
		return s.forward(&expect{kind: expSync}, typ, body)
	case pgwire.TypeFlush:
		return s.forward(nil, typ, body)
	case pgwire.TypeCopyData, pgwire.TypeCopyDone, pgwire.TypeCopyFail:
		// COPY FROM STDIN data of a statement that was decided.
		return s.forward(nil, typ, body)
	case pgwire.TypeTerminate:
		_ = s.forward(nil, typ, body)
		return errTerminate
	case pgwire.TypeFunctionCall:
		return s.functionCall(ctx, body)
	}
	return s.protocolError(fmt.Errorf("unexpected message type %q", typ))
}

// protocolError ends the session as a server would.
func (s *session) protocolError(err error) error {
	s.fatal(fatal(StateProtocolViolation, "interlock: "+err.Error()))
	return fmt.Errorf("client protocol: %w", err)
}

// forward queues the response e (nil: none owed) and writes the message
// upstream.
func (s *session) forward(e *expect, typ byte, body []byte) error {
	if e != nil {
		s.push(e)
	}
	if err := writeMsg(s.upW, typ, body); err != nil {
		return fmt.Errorf("upstream: %w", err)
	}
	return nil
}

// simpleQuery decides every statement of a Query; one refused refuses
// the whole query.
func (s *session) simpleQuery(ctx context.Context, text string) error {
	start := time.Now()
	sts := s.take(text)
	q := &query{start: start}
	var (
		verdicts []*verdict
		refused  *pgwire.ErrorResponse
	)
	for i := range sts {
		s.resolveNamed(&sts[i])
		if i > 0 && (len(sts[i].Tables) > 0 || len(sts[i].Functions) > 0) && sts[i].Unknown == "" &&
			slices.ContainsFunc(sts[:i], func(st sqlclass.Statement) bool { return changesSchema(st) || s.mayRunOwnCode(st) }) {
			// The catalog (views, masked columns) is read between
			// queries: what this statement reads after the change is
			// unknown.
			sts[i].Unknown = "a statement naming relations or functions after a schema change in the same query; send it as a query of its own"
		}
		v := s.evaluate(ctx, sts[i], &interlockv1.PGQuery{Kind: interlockv1.PGQuery_KIND_SIMPLE})
		verdicts = append(verdicts, v)
		if v.refusal != nil && refused == nil {
			refused = v.refusal
		}
	}
	if refused == nil {
		for i, v := range verdicts {
			if v.d.Action == policy.Approve {
				s.approve(ctx, v, sts[i], &interlockv1.PGQuery{})
				if v.refusal != nil {
					refused = v.refusal
					break
				}
			}
		}
	}
	var masks []*policy.MaskRule
	var detectors []string
	for _, v := range verdicts {
		if refused != nil && v.refusal == nil {
			v.rec.Outcome, v.rec.ErrorCode = interlockv1.Action_ACTION_DENY, CodeDisallowed
			v.rec.Reason = "another statement of the same query was refused: " + refused.Get(pgwire.FieldMessage)
		}
		s.commit(ctx, v)
		if v.refusal != nil && refused == nil {
			refused = v.refusal // recording failed
		}
		masks = append(masks, v.d.Masks...)
		detectors = append(detectors, v.d.Detectors...)
		q.ids = append(q.ids, v.id)
	}
	if refused != nil {
		e := &expect{kind: expSimple, q: q, refusal: refused}
		return s.forward(e, pgwire.TypeQuery, (&pgwire.Query{String: markerQuery}).Encode(nil)[5:])
	}
	m, err := newRowMasker(masks, dedupe(detectors), s.h.cfg.MaskPool)
	if err != nil {
		return s.forward(&expect{kind: expSimple, q: q, refusal: refusal(StateInternal, CodeMaskFailed, err.Error())},
			pgwire.TypeQuery, (&pgwire.Query{String: markerQuery}).Encode(nil)[5:])
	}
	q.masker = m
	if len(m.columns) > 0 {
		s.masksInTx.Store(true)
	}
	for i, st := range sts {
		s.notePrepare(st)
		q.tables = append(q.tables, verdicts[i].tables...)
		q.hookedWrite = q.hookedWrite || verdicts[i].hookedWrite
		q.functions = append(q.functions, st.Functions...)
		q.scopes = append(q.scopes, scope{verdicts[i].tables, st.Functions, verdicts[i].hookedWrite})
		s.noteSchema(st)
	}
	q.upStart = time.Now()
	return s.forward(&expect{kind: expSimple, q: q}, pgwire.TypeQuery, (&pgwire.Query{String: text}).Encode(nil)[5:])
}

// resolveNamed classifies a statement that names an earlier one by what
// that one was: EXECUTE n as the statement PREPARE n defined on this
// session, FETCH or MOVE c as the query cursor c was declared for (its
// tables and functions: a column rule or a refused expression applies to
// the rows a FETCH returns as to the SELECT's). An unknown name is
// unclassifiable: refused (fail closed).
func (s *session) resolveNamed(st *sqlclass.Statement) {
	if st.Unknown != "" {
		return
	}
	switch st.Type {
	case "EXECUTE":
		p, ok := s.sqlPrepared[st.Name]
		if !ok {
			st.Type, st.Unknown = "", "EXECUTE of a statement not prepared on this session: "+st.Name
			return
		}
		text := st.Text
		*st = p
		st.Text = text
	case "FETCH", "MOVE":
		c, ok := s.cursors[st.Name]
		if !ok {
			st.Type, st.Unknown = "", st.Type+" from a cursor not declared on this session: "+st.Name
			return
		}
		st.Tables, st.Functions = c.Tables, c.Functions
	}
}

// notePrepare remembers SQL-level PREPARE, DEALLOCATE and DISCARD, and
// DECLARE and CLOSE of cursors.
func (s *session) notePrepare(st sqlclass.Statement) {
	switch {
	case st.Type == "DECLARE":
		s.cursors[st.Name] = merged(s.cursors, st)
	case st.Type == "CLOSE" && st.Name == "all":
		clear(s.cursors)
	case st.Type == "CLOSE":
		delete(s.cursors, st.Name)
	case st.Type == "DISCARD":
		clear(s.sqlPrepared)
		clear(s.cursors)
		if strings.Contains(strings.ToLower(st.Text), "all") {
			clear(s.stmts) // DISCARD ALL drops protocol-level ones too
		}
	case st.Name != "" && st.Type != "EXECUTE" && st.Type != "DEALLOCATE" && st.Type != "FETCH" && st.Type != "MOVE":
		s.sqlPrepared[st.Name] = merged(s.sqlPrepared, st)
	case st.Type == "DEALLOCATE" && st.Name == "all":
		clear(s.sqlPrepared)
		clear(s.stmts) // one namespace with protocol-level statements
	case st.Type == "DEALLOCATE":
		delete(s.sqlPrepared, st.Name)
		delete(s.stmts, st.Name)
	}
}

// merged is st, to be kept under its name in m. When the name is taken,
// the server refuses st and keeps what it had, unless the earlier one
// failed there: which the name means is not known here, so it is decided
// as both (their tables and functions); of another type, it is refused
// (an EXECUTE of a DELETE must not be decided as a SELECT).
func merged(m map[string]sqlclass.Statement, st sqlclass.Statement) sqlclass.Statement {
	old, ok := m[st.Name]
	if !ok || old.Unknown != "" {
		return st
	}
	if old.Type != st.Type {
		st.Type, st.Unknown = "", "a name defined twice on this session, as "+old.Type+" and as "+st.Type+": "+st.Name
		return st
	}
	for _, t := range old.Tables {
		if !slices.Contains(st.Tables, t) {
			st.Tables = append(slices.Clip(st.Tables), t)
		}
	}
	for _, f := range old.Functions {
		if !slices.Contains(st.Functions, f) {
			st.Functions = append(slices.Clip(st.Functions), f)
		}
	}
	st.HasWhere = st.HasWhere && old.HasWhere
	return st
}

// noteSchema marks the masked-column catalog stale after a statement
// that may change the schema (or undo a change): it is read again at the
// next sync point.
func (s *session) noteSchema(st sqlclass.Statement) {
	if changesSchema(st) || s.mayRunOwnCode(st) || strings.Contains(strings.ToLower(st.Text), "search_path") {
		// search_path: the same names may now mean other relations.
		s.catalogStale = true
	}
}

// mayRunOwnCode says whether st calls a function of the database's own,
// which may change the schema.
func (s *session) mayRunOwnCode(st sqlclass.Statement) bool {
	cat := s.cat.Load()
	return cat != nil && cat.opaque(st.Functions) != ""
}

// changesSchema says whether st may change the schema, or undo a change.
func changesSchema(st sqlclass.Statement) bool {
	switch st.Type {
	case "CREATE", "ALTER", "DROP", "ROLLBACK", "ABORT", "IMPORT", "":
		return true
	}
	return false
}

// refuseExtended sends the marker in place of a refused extended-protocol
// message and discards what the client sends until Sync.
func (s *session) refuseExtended(e *pgwire.ErrorResponse, q *query) error {
	s.skipping = true
	return s.forward(&expect{kind: expRefusal, refusal: e, q: q}, pgwire.TypeDescribe,
		(&pgwire.Describe{Kind: 'P', Name: markerPortal}).Encode(nil)[5:])
}

// onParse decides a statement being prepared: a statement policy denies
// is refused here, as the server would refuse one it cannot parse.
func (s *session) onParse(ctx context.Context, body []byte) error {
	f := &s.frontendState
	sts := s.take(f.parse.Query)
	for i := range sts {
		s.resolveNamed(&sts[i])
	}
	p := &prepared{name: f.parse.Name, text: f.parse.Query, sts: sts}
	q := &query{start: time.Now()}
	if old := f.stmts[p.name]; p.name != "" && old != nil {
		// The server refuses a name already taken (and keeps what it
		// had) unless the earlier Parse failed: which it will run is not
		// known here, so its executions are decided as both.
		for _, o := range old.sts {
			if !slices.ContainsFunc(p.sts, func(n sqlclass.Statement) bool { return n.Text == o.Text }) {
				p.sts = append(slices.Clip(p.sts), o)
			}
		}
	}
	for _, st := range sts {
		v := s.decide(ctx, st, &interlockv1.PGQuery{Kind: interlockv1.PGQuery_KIND_PARSE, StatementName: p.name}, false)
		q.ids = append(q.ids, v.id)
		if v.refusal != nil {
			delete(f.stmts, p.name)
			return s.refuseExtended(v.refusal, q)
		}
	}
	f.stmts[p.name] = p
	return s.forward(&expect{kind: expParse}, pgwire.TypeParse, body)
}

// onBind makes a portal; its parameters are recorded (masked) when it is
// executed.
func (s *session) onBind(body []byte) error {
	f := &s.frontendState
	stmt, ok := f.stmts[f.bind.Statement]
	if !ok {
		// Not prepared through Interlock: nothing to decide it by.
		return s.refuseExtended(refusal(StateInsufficientPrivilege, CodeDisallowed,
			fmt.Sprintf("prepared statement %q was not prepared on this session: refused (fail closed)", f.bind.Statement)), nil)
	}
	p := &portal{name: f.bind.Portal, stmt: stmt, params: s.recordParams(&f.bind)}
	f.portals[p.name] = p
	return s.forward(&expect{kind: expBind, portal: p}, pgwire.TypeBind, body)
}

// onExecute decides an execution with the policy in force, asks for
// approval where a rule says so, and makes sure the rows can be masked.
func (s *session) onExecute(ctx context.Context, body []byte) error {
	f := &s.frontendState
	p, ok := f.portals[f.exec.Portal]
	if !ok {
		return s.refuseExtended(refusal(StateInsufficientPrivilege, CodeDisallowed,
			fmt.Sprintf("portal %q was not bound on this session: refused (fail closed)", f.exec.Portal)), nil)
	}
	q := &query{start: time.Now()}
	var masks []*policy.MaskRule
	var detectors []string
	sts := p.stmt.sts
	if len(sts) == 0 {
		sts = []sqlclass.Statement{{Type: "EMPTY", Text: ""}}
	}
	for _, st := range sts {
		v := s.decide(ctx, st, &interlockv1.PGQuery{
			Kind: interlockv1.PGQuery_KIND_EXECUTE, StatementName: p.stmt.name, PortalName: p.name, Parameters: p.params,
		}, true)
		q.ids = append(q.ids, v.id)
		if v.refusal != nil {
			return s.refuseExtended(v.refusal, q)
		}
		masks = append(masks, v.d.Masks...)
		detectors = append(detectors, v.d.Detectors...)
		q.tables = append(q.tables, v.tables...)
		q.hookedWrite = q.hookedWrite || v.hookedWrite
		q.functions = append(q.functions, st.Functions...)
		s.notePrepare(st)
		s.noteSchema(st)
	}
	m, err := newRowMasker(masks, dedupe(detectors), s.h.cfg.MaskPool)
	if err != nil {
		return s.refuseExtended(refusal(StateInternal, CodeMaskFailed, err.Error()), q)
	}
	q.masker = m
	if len(m.columns) > 0 {
		s.masksInTx.Store(true)
	}
	if m != nil && !p.described {
		// The rows' columns are needed to mask them: ask the server for
		// the portal's description; its answer is not passed on.
		p.described = true
		if err := s.forward(&expect{kind: expHiddenDescribe, portal: p}, pgwire.TypeDescribe,
			(&pgwire.Describe{Kind: 'P', Name: p.name}).Encode(nil)[5:]); err != nil {
			return err
		}
	}
	q.upStart = time.Now()
	return s.forward(&expect{kind: expExecute, q: q, portal: p}, pgwire.TypeExecute, body)
}

// functionCall refuses the fast-path interface, which calls functions by
// OID with no SQL to classify; failMode open lets it through.
func (s *session) functionCall(ctx context.Context, body []byte) error {
	st := sqlclass.Statement{Unknown: "fast-path function call", Text: "<fast-path function call>"}
	v := s.decide(ctx, st, &interlockv1.PGQuery{Kind: interlockv1.PGQuery_KIND_SIMPLE}, true)
	q := &query{ids: []uint64{v.id}, start: time.Now()}
	if v.refusal != nil {
		return s.forward(&expect{kind: expSimple, q: q, refusal: v.refusal}, pgwire.TypeQuery, (&pgwire.Query{String: markerQuery}).Encode(nil)[5:])
	}
	return s.forward(&expect{kind: expSimple, q: q}, pgwire.TypeFunctionCall, body)
}

// recordParams is the recorded form of Bind parameters: a JSON array of
// their text (binary ones as "<binary N bytes>"), with the detectors of
// the bundle applied, and the hash of the original values.
func (s *session) recordParams(b *pgwire.Bind) *interlockv1.Payload {
	if len(b.Params) == 0 {
		return nil
	}
	vals := make([]any, len(b.Params))
	for i, p := range b.Params {
		switch {
		case p == nil:
			vals[i] = nil
		case b.ParamFormat(i) == 1 || !utf8.Valid(p):
			vals[i] = fmt.Sprintf("<binary %d bytes>", len(p))
		default:
			vals[i] = string(p)
		}
	}
	js, _ := json.Marshal(vals)
	body := record.NewBody(s.h.cfg.RecordCap)
	masked := js
	{
		if m, err := newRowMasker(nil, s.bundleDetectors(), s.h.cfg.MaskPool); err == nil && m != nil && m.global != nil {
			var sc rowScratch
			if out, _, err := m.scan(m.global, js, &sc, maskCounts{}); err == nil {
				masked = append([]byte(nil), out...)
			} else {
				masked = []byte(`"<parameters not recorded: masking failed>"`)
			}
		}
	}
	_, _ = body.Original().Write(js)
	_, _ = body.Masked().Write(masked)
	pl, err := body.Payload()
	if err != nil {
		return nil
	}
	pl.ContentType = "application/json"
	return pl
}

// bundleDetectors are the detectors of the bundle's masking section.
func (s *session) bundleDetectors() []string {
	var out []string
	if b := s.h.cfg.Policy(); b != nil {
		for _, p := range b.Policies() {
			out = append(out, p.Detectors...)
		}
	}
	return dedupe(out)
}

func dedupe(list []string) []string {
	var out []string
	for _, v := range list {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
