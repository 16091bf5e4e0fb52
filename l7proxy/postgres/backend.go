// SPDX-License-Identifier: Apache-2.0

// The backend loop: reads the server's messages, matches each to the
// frontend message it answers (the queue of expectations), masks rows,
// replaces the markers' errors with Interlock's, records results, and
// relays the rest to the client.

package postgres

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/record"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// expKind is what a queued expectation waits for.
type expKind uint8

const (
	expSimple         expKind = iota // a Query or FunctionCall: results, then ReadyForQuery
	expParse                         // ParseComplete
	expBind                          // BindComplete
	expDescribeS                     // ParameterDescription, then RowDescription or NoData
	expDescribeP                     // RowDescription or NoData
	expHiddenDescribe                // the same, asked by Interlock: not relayed
	expExecute                       // rows, then CommandComplete, EmptyQueryResponse or PortalSuspended
	expClose                         // CloseComplete
	expSync                          // ReadyForQuery
	expRefusal                       // the marker's error, replaced by refusal
	expCatalog                       // Interlock's catalog lookup, up to its ReadyForQuery: not relayed
)

// expect is one response the server owes. Set by the frontend before the
// message goes upstream; read by the backend.
type expect struct {
	kind    expKind
	q       *query
	portal  *portal
	refusal *pgwire.ErrorResponse
	done    chan struct{} // expCatalog: closed once the answer is in session.cat
}

// query is the recording state of a statement (or a simple Query's
// statements) that was forwarded.
type query struct {
	ids []uint64 // exchange ids, one per statement
	// hookedWrite: a statement writes a relation with a trigger or default
	// of the database's own, whose returned columns cannot be traced.
	hookedWrite bool
	// scopes are the same, per statement, in order (a simple Query's
	// statements each have their result).
	scopes    []scope
	tables    []string // the tables its statements read or write
	functions []string // the functions they call
	masker    *rowMasker
	start     time.Time // when the frontend read it
	upStart   time.Time // when it went upstream
}

// scope is what one statement reads and calls, for tracing its result.
type scope struct {
	tables, functions []string
	hookedWrite       bool
}

// scopeOf returns the scope of the query's i-th statement, or of all of
// them when it is not known by statement.
func (q *query) scopeOf(i int) scope {
	if i >= 0 && i < len(q.scopes) {
		return q.scopes[i]
	}
	return scope{q.tables, q.functions, q.hookedWrite}
}

// push queues e. The server's silence is bounded from now on, until it
// owes nothing.
func (s *session) push(e *expect) {
	s.mu.Lock()
	if len(s.queue) == 0 {
		s.armUpLocked()
	}
	s.queue = append(s.queue, e)
	s.mu.Unlock()
}

// armUpLocked bounds the next upstream reads by ResponseTimeout. s.mu
// is held, so that the backend cannot clear a deadline the frontend set
// for a message it just queued.
func (s *session) armUpLocked() {
	if s.h.cfg.ResponseTimeout <= 0 {
		return
	}
	_ = s.up.SetReadDeadline(time.Now().Add(s.h.cfg.ResponseTimeout))
	s.upArmed = true
}

// setUpDeadline is called by the backend before a read from the server:
// the read is bounded when a response is owed, unbounded otherwise (the
// session idles, the server may still send notices and notifications).
func (s *session) setUpDeadline() {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case len(s.queue) > 0:
		s.armUpLocked()
	case s.upArmed:
		_ = s.up.SetReadDeadline(time.Time{})
		s.upArmed = false
	}
}

// head returns the oldest expectation, nil when none.
func (s *session) head() *expect {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return nil
	}
	return s.queue[0]
}

// pop removes the oldest expectation. When none is left the client's
// silence is bounded again.
func (s *session) pop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return
	}
	s.queue[0] = nil
	s.queue = s.queue[1:]
	if len(s.queue) == 0 {
		s.queue = nil
		_ = s.cli.SetReadDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
	}
}

// popUntilSync drops the expectations the server skips after an error in
// the extended protocol: all up to the next Sync's.
func (s *session) popUntilSync() {
	for e := s.head(); e != nil && e.kind != expSync && e.kind != expSimple; e = s.head() {
		s.pop()
	}
}

// result is the backend's state of the result being relayed.
type result struct {
	e       *expect
	idx     int // statement of a simple query
	fields  []pgwire.FieldDescription
	plan    []colPlan
	planned bool
	rows    uint64
	body    *record.Body
	kept    int
	counts  maskCounts
	whole   []uint32 // whole-value replacements by column, added to counts at the end
	orig    []byte   // DataRow bodies not hashed yet (the hash takes them in pieces of origBatch)
	copyOut bool     // CopyData of COPY TO STDOUT to mask
}

// backendState is owned by the backend loop.
type backendState struct {
	res      result
	suppress bool // swallowing responses until ReadyForQuery (masking failed mid-response)
	row      pgwire.DataRow
	rowDesc  pgwire.RowDescription
	scratch  rowScratch
	out      []byte
	errResp  pgwire.ErrorResponse
	rfq      pgwire.ReadyForQuery
	cmd      pgwire.CommandComplete
	copyResp pgwire.CopyResponse

	catalog       *catalog // the masked columns; nil until known
	catalogNext   *catalog // being read
	catalogFailed bool
}

// backend runs until the server closes or fails; it then closes the
// client, which ends the frontend loop.
func (s *session) backend(ctx context.Context) {
	defer close(s.backendDone)
	defer s.cli.Close()
	var b backendState
	for {
		if !s.upR.Ready() {
			s.setUpDeadline() // once per read from the server, not per message
		}
		typ, body, err := s.upR.Next()
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				s.responseTimeout(ctx, &b)
				return
			}
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				s.backendErr = err
				if errors.Is(err, pgwire.ErrTooLarge) {
					_ = s.writeFatalLocked(&b, fatal(StateProtocolViolation, "interlock: server "+err.Error()))
				}
			}
			_ = s.flushClient()
			return
		}
		if err := s.onBackend(ctx, &b, typ, body); err != nil {
			s.backendErr = err
			_ = s.writeFatalLocked(&b, fatal(StateInternal, "interlock: "+err.Error()))
			_ = s.flushClient()
			return
		}
		if !s.upR.Ready() {
			// The next message needs a read, which may wait: what is
			// buffered for the client goes now.
			if err := s.flushClient(); err != nil {
				s.backendErr = fmt.Errorf("client: %w", err)
				return
			}
		}
	}
}

// responseTimeout ends a session whose server stopped answering: the
// client is told why, the statement's result is recorded as Interlock's
// error, and the server is asked to cancel what it runs.
func (s *session) responseTimeout(ctx context.Context, b *backendState) {
	t := s.h.cfg.ResponseTimeout
	s.backendErr = fmt.Errorf("the server sent nothing for %v while a response was owed (response timeout)", t)
	er := fatal(StateConnectionFailure, fmt.Sprintf(
		"interlock: upstream response timeout: the server sent nothing for %v while a response was owed; session ended", t))
	er.Set(pgwire.FieldHint, "Interlock bounds the server's silence during a statement (its postgres responseTimeout); keep statements shorter, or the bound longer than statement_timeout.")
	if e := s.head(); e != nil && e.q != nil && !b.suppress {
		s.finishResult(ctx, b, e, "", er, true)
	}
	_ = s.writeFatalLocked(b, er)
	_ = s.flushClient()
	s.h.log.Warn("upstream response timeout: session ended", "target", s.target.Name, "timeout", t)
	if len(s.keyData.Key) > 0 {
		_ = s.h.forwardCancel(ctx, s.c, s.dial, &pgwire.CancelRequest{PID: s.keyData.PID, Key: s.keyData.Key})
	}
}

func (s *session) onBackend(ctx context.Context, b *backendState, typ byte, body []byte) error {
	switch typ {
	case pgwire.TypeNoticeResponse, pgwire.TypeNotificationResponse, pgwire.TypeParameterStatus:
		if b.suppress {
			return nil
		}
		if typ != pgwire.TypeParameterStatus && s.masksInTx.Load() {
			// A notice or a notification can quote anything a function
			// read (RAISE NOTICE, pg_notify, a deferred trigger at
			// COMMIT), and no column says what: while column masks are
			// in force in the transaction they are withheld.
			s.h.log.Debug("notice withheld: column masks in force", "target", s.target.Name)
			return nil
		}
		return s.relay(typ, body)
	case pgwire.TypeNegotiateProtocolVersion:
		return nil
	}
	e := s.head()
	if typ == pgwire.TypeErrorResponse {
		if err := b.errResp.Decode(typ, body); err != nil {
			return err
		}
		if sev := b.errResp.Get(pgwire.FieldSeverityV); sev == "FATAL" || sev == "PANIC" || e == nil {
			return s.relay(typ, body) // the server ends the session
		}
	}
	if e == nil {
		return fmt.Errorf("server sent %q with no request outstanding", typ)
	}
	if e.kind == expCatalog {
		return s.onCatalog(b, e, typ, body)
	}
	if typ == pgwire.TypeReadyForQuery {
		if err := b.rfq.Decode(body); err != nil {
			return err
		}
		s.mu.Lock()
		last := len(s.queue) <= 1
		s.mu.Unlock()
		if b.rfq.Status == pgwire.TxIdle && last {
			s.masksInTx.Store(false) // nothing of the masked statements is left
		}
		for e := s.head(); e != nil; e = s.head() {
			s.pop()
			if e.kind == expSync || e.kind == expSimple {
				break
			}
		}
		s.txStatus.Store(uint32(b.rfq.Status))
		b.suppress = false
		b.res = result{}
		return s.relay(typ, body)
	}
	if b.suppress {
		return nil
	}
	switch typ {
	case pgwire.TypeErrorResponse:
		return s.onError(ctx, b, e, body)
	case pgwire.TypeParseComplete, pgwire.TypeBindComplete, pgwire.TypeCloseComplete:
		s.pop()
		return s.relay(typ, body)
	case pgwire.TypeParameterDescription:
		return s.relay(typ, body)
	case pgwire.TypeRowDescription, pgwire.TypeNoData:
		var fields []pgwire.FieldDescription
		if typ == pgwire.TypeRowDescription {
			if err := b.rowDesc.Decode(body); err != nil {
				return err
			}
			fields = append([]pgwire.FieldDescription(nil), b.rowDesc.Fields...)
		}
		switch e.kind {
		case expSimple:
			b.res.fields, b.res.planned = fields, false
			return s.relay(typ, body)
		case expHiddenDescribe:
			e.portal.cols, e.portal.colsKnown = fields, true
			s.pop()
			return nil
		case expDescribeP:
			e.portal.cols, e.portal.colsKnown = fields, true
		}
		s.pop()
		return s.relay(typ, body)
	case pgwire.TypeDataRow:
		return s.onRow(ctx, b, e, body)
	case pgwire.TypeCommandComplete, pgwire.TypeEmptyQueryResponse, pgwire.TypePortalSuspended:
		tag := ""
		if typ == pgwire.TypeCommandComplete {
			if err := b.cmd.Decode(body); err != nil {
				return err
			}
			tag = b.cmd.Tag
		}
		if err := s.relay(typ, body); err != nil {
			return err
		}
		s.finishResult(ctx, b, e, tag, nil, false)
		if e.kind == expExecute {
			s.pop()
		}
		return nil
	case pgwire.TypeCopyOutResponse:
		if err := b.copyResp.Decode(typ, body); err != nil {
			return err
		}
		b.res.e = e
		if m := e.q.masker; m != nil {
			if m.hasColumns() || b.copyResp.Format != 0 {
				// Column rules cannot be applied to COPY output (it names no
				// columns), nor detectors to binary COPY: fail closed.
				return s.failMasking(ctx, b, e, "COPY output cannot be masked as the policy requires (use SELECT)")
			}
			b.res.copyOut = true
		}
		return s.relay(typ, body)
	case pgwire.TypeCopyData:
		return s.onCopyData(ctx, b, e, body)
	case pgwire.TypeCopyDone, pgwire.TypeCopyInResponse, pgwire.TypeFunctionCallResponse:
		return s.relay(typ, body)
	case pgwire.TypeCopyBothResponse:
		return s.failMasking(ctx, b, e, "COPY BOTH (replication) is not inspected")
	}
	return fmt.Errorf("unexpected server message %q", typ)
}

// onError relays a server error, or Interlock's refusal in place of a
// marker's error.
func (s *session) onError(ctx context.Context, b *backendState, e *expect, body []byte) error {
	out := &b.errResp
	fromProxy := false
	if e.refusal != nil && (e.kind == expRefusal || e.kind == expSimple) {
		out, fromProxy = e.refusal, true
	}
	b.out = out.Encode(b.out[:0])
	if err := s.relayRaw(b.out); err != nil {
		return err
	}
	if e.kind == expSimple || e.kind == expExecute || e.kind == expRefusal {
		s.finishResult(ctx, b, e, "", out, fromProxy)
	}
	if e.kind != expSimple {
		s.popUntilSync()
	}
	return nil
}

// onRow masks and relays a DataRow.
func (s *session) onRow(ctx context.Context, b *backendState, e *expect, body []byte) error {
	r := &b.res
	if r.e != e {
		*r = result{e: e, idx: r.idx, fields: r.fields}
		if e.kind == expExecute {
			r.fields = e.portal.cols
		}
	}
	if r.body == nil {
		r.body = record.NewBody(s.h.cfg.RecordCap)
		r.counts = maskCounts{}
	}
	r.rows++
	m := e.q.masker
	if m == nil {
		s.keepRow(b, nil, body, false)
		return s.relay(pgwire.TypeDataRow, body)
	}
	if err := b.row.Decode(body); err != nil {
		return err
	}
	if !r.planned {
		if e.kind == expExecute && !e.portal.colsKnown {
			return s.failMasking(ctx, b, e, "the rows' columns are unknown")
		}
		var untraced string
		var unknownRel bool
		r.plan, untraced, unknownRel = m.plan(r.fields, r.plan, b.catalog, e.q.scopeOf(r.idx))
		r.planned, r.whole = true, make([]uint32, len(r.plan))
		if unknownRel {
			s.catalogOutdated.Store(true)
			return s.failMasking(ctx, b, e, fmt.Sprintf("result column %q comes from a relation made after this session read the catalog: "+
				"it is read again before the next statement (retry it)", untraced))
		}
		if untraced != "" {
			return s.failMasking(ctx, b, e, fmt.Sprintf("result column %q cannot be traced to a table's column (it is an expression, a view's column over a masked one, "+
				"or a function's result), and the statement may read masked columns (select the tables' columns by name, without expressions)", untraced))
		}
	}
	vals, changed, err := m.row(r.plan, b.row.Values, &b.scratch, r.counts, r.whole)
	if err != nil {
		return s.failMasking(ctx, b, e, err.Error())
	}
	if !changed {
		s.keepRow(b, vals, body, true)
		return s.relay(pgwire.TypeDataRow, body)
	}
	s.keepRow(b, vals, body, true)
	b.row.Values = vals
	b.out = b.row.Encode(b.out[:0])
	return s.relayRaw(b.out)
}

// origBatch is the size of the pieces of row bodies given to the
// recording's hash.
const origBatch = 32 << 10

// keepRow records a row: its wire bytes are hashed, its masked values kept
// as a JSON line while under the cap.
func (s *session) keepRow(b *backendState, vals [][]byte, body []byte, decoded bool) {
	r := &b.res
	r.orig = append(r.orig, body...)
	if len(r.orig) >= origBatch {
		_, _ = r.body.Original().Write(r.orig)
		r.orig = r.orig[:0]
	}
	if r.kept > s.h.cfg.RecordCap {
		return
	}
	if !decoded {
		if b.row.Decode(body) != nil {
			return
		}
		vals = b.row.Values
	}
	line := make([]any, len(vals))
	for i, v := range vals {
		switch {
		case v == nil:
			line[i] = nil
		case i < len(r.fields) && r.fields[i].Format == 1 && !textLike(r.fields[i].TypeOID):
			line[i] = "base64:" + base64.StdEncoding.EncodeToString(v)
		default:
			line[i] = string(v)
		}
	}
	js, _ := json.Marshal(line)
	js = append(js, '\n')
	r.kept += len(js)
	_, _ = r.body.Masked().Write(js)
}

// onCopyData relays COPY TO STDOUT data, through the detectors when the
// decision has some.
func (s *session) onCopyData(ctx context.Context, b *backendState, e *expect, body []byte) error {
	r := &b.res
	if r.body == nil {
		r.body = record.NewBody(s.h.cfg.RecordCap)
		r.counts = maskCounts{}
	}
	if !r.copyOut {
		if r.e == e && e.q != nil {
			r.rows++
			_, _ = r.body.Original().Write(body)
			_, _ = r.body.Masked().Write(body)
		}
		return s.relay(pgwire.TypeCopyData, body)
	}
	r.rows++
	out, n, err := e.q.masker.scan(e.q.masker.global, body, &b.scratch, r.counts)
	if err != nil {
		return s.failMasking(ctx, b, e, err.Error())
	}
	_, _ = r.body.Original().Write(body)
	if n == 0 {
		_, _ = r.body.Masked().Write(body)
		return s.relay(pgwire.TypeCopyData, body)
	}
	_, _ = r.body.Masked().Write(out)
	b.out = pgwire.AppendRaw(b.out[:0], pgwire.TypeCopyData, out)
	return s.relayRaw(b.out)
}

// failMasking answers an error in place of a response that cannot be
// masked and swallows the rest of it, up to ReadyForQuery: fail closed.
func (s *session) failMasking(ctx context.Context, b *backendState, e *expect, why string) error {
	er := refusal(StateInsufficientPrivilege, CodeMaskFailed, "the result could not be masked as policy requires: "+why)
	b.out = er.Encode(b.out[:0])
	if err := s.relayRaw(b.out); err != nil {
		return err
	}
	s.finishResult(ctx, b, e, "", er, true)
	b.suppress = true
	s.h.log.Warn("masking failed: result withheld", "target", s.target.Name, "why", why)
	return nil
}

// finishResult records the result of the statement e answers.
func (s *session) finishResult(ctx context.Context, b *backendState, e *expect, tag string, er *pgwire.ErrorResponse, fromProxy bool) {
	r := &b.res
	if e.q == nil || len(e.q.ids) == 0 {
		*r = result{idx: r.idx}
		return
	}
	idx := min(r.idx, len(e.q.ids)-1)
	res := &interlockv1.PGResult{ExchangeId: e.q.ids[idx], CommandTag: tag, Rows: r.rows, FromProxy: fromProxy}
	if r.e != e && e.kind == expExecute {
		r.fields = e.portal.cols
	}
	for _, f := range r.fields {
		res.Columns = append(res.Columns, &interlockv1.PGColumn{Name: f.Name, TypeOid: f.TypeOID})
	}
	for i, n := range r.whole {
		if n > 0 && i < len(r.plan) {
			r.counts.add(maskKey{rule: r.plan[i].rule, column: r.plan[i].column}, n)
		}
	}
	if r.body != nil {
		_, _ = r.body.Original().Write(r.orig)
		if p, err := r.body.Payload(); err == nil && p.Size > 0 {
			p.ContentType = "application/x-ndjson"
			p.Masks = r.counts.proto()
			res.Data = p
			s.h.cfg.Observer.Masked(p.Masks)
		}
	}
	if er != nil {
		res.Error = &interlockv1.PGError{
			Severity: er.Get(pgwire.FieldSeverity), Sqlstate: er.Get(pgwire.FieldCode),
			Message: er.Get(pgwire.FieldMessage), Detail: er.Get(pgwire.FieldDetail),
		}
	}
	if !e.q.upStart.IsZero() {
		up := time.Since(e.q.upStart)
		res.UpstreamLatency = durationpb.New(up)
		res.ProxyLatency = durationpb.New(e.q.upStart.Sub(e.q.start))
		s.h.cfg.Observer.Latency(s.target.Name, up, e.q.upStart.Sub(e.q.start))
	} else {
		res.ProxyLatency = durationpb.New(time.Since(e.q.start))
	}
	// The result goes to the sink with the session's next decision, in
	// one write, or within record.SendDelay if none comes: its rows are
	// out already, and that decision waits until it is durable, and fails
	// if it could not be (nothing unrecorded passes). A session whose
	// recording failed before ends here.
	if err := s.sess.Stage(&interlockv1.SessionEvent{Event: &interlockv1.SessionEvent_PgResult{PgResult: res}}); err != nil {
		s.h.log.Error("record result", "err", err)
		_ = s.up.Close()
	}
	s.sess.SendWithin(record.SendDelay)
	*r = result{idx: idx + 1, fields: r.fields}
	if e.kind == expSimple {
		r.fields = nil
	}
}

// relay writes a server message to the client as it is.
func (s *session) relay(typ byte, body []byte) error {
	s.toCli.Add(int64(len(body) + 5))
	return writeMsg(s.cliW, typ, body)
}

// relayRaw writes an encoded message to the client.
func (s *session) relayRaw(msg []byte) error {
	s.toCli.Add(int64(len(msg)))
	_, err := s.cliW.Write(msg)
	return err
}

// writeFatalLocked writes a FATAL error to the client from the backend.
func (s *session) writeFatalLocked(b *backendState, e *pgwire.ErrorResponse) error {
	b.out = e.Encode(b.out[:0])
	return s.relayRaw(b.out)
}

// flushClient flushes what the backend wrote, within the idle timeout.
func (s *session) flushClient() error {
	if s.cliW.Buffered() == 0 {
		return nil
	}
	_ = s.cli.SetWriteDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
	return s.cliW.Flush()
}

// flushUp flushes what the frontend wrote upstream.
func (s *session) flushUp() error {
	if s.upW.Buffered() == 0 {
		return nil
	}
	_ = s.up.SetWriteDeadline(time.Now().Add(s.h.cfg.IdleTimeout))
	return s.upW.Flush()
}

func newUpWriter(s *session) *bufio.Writer { return bufio.NewWriterSize(s.up, 32<<10) }

// writeMsg writes a message header and body.
func writeMsg(w *bufio.Writer, typ byte, body []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(body)+4))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}
