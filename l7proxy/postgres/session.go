// SPDX-License-Identifier: Apache-2.0

// A session: one terminated client connection and its upstream, from the
// startup message to the end; recorded from open to close.

package postgres

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/sqlclass"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// session is one proxied PostgreSQL session. The frontend loop (the
// goroutine of Serve) owns the fields marked frontend; the backend loop
// owns those marked backend; mu guards the queue.
type session struct {
	h      *Handler
	c      *l7proxy.Conn
	dial   l7proxy.Dialer
	bundle *policy.Bundle // the bundle the session started with
	target *policy.Target
	name   string // server name routed by

	cli  *tls.Conn
	cliR *pgwire.Reader // frontend
	cliW *bufio.Writer  // backend (and the startup phase, before it runs)
	up   *tls.Conn
	upR  *pgwire.Reader // backend
	upW  *bufio.Writer  // frontend

	startup         pgwire.StartupMessage
	user, database  string // as the client gave them
	upUser          string // the user logged in as upstream
	inject          bool
	identity        policy.Identity
	sess            *record.Session
	opened          time.Time
	fromCli, toCli  atomic.Int64
	statements      atomic.Uint32
	fatalOnce       sync.Once
	running         atomic.Bool // the loops run: only the backend writes to the client
	upRef           atomic.Pointer[tls.Conn]
	cat             atomic.Pointer[catalog] // the last catalog read (backend writes); nil: unknown
	catalogOutdated atomic.Bool             // a result named a relation cat does not know (backend sets)
	catalogName     string                  // of the lookup's statement and portal
	// masksInTx: a statement with column masks went upstream in the
	// transaction (or since the session was last idle): its notices, and
	// those of deferred triggers at COMMIT, are withheld (backend clears).
	masksInTx     atomic.Bool
	closeReason   string // set by the frontend loop when it ends
	backendErr    error  // set by the backend loop before it ends
	backendDone   chan struct{}
	frontendState                               // frontend
	keyData       pgwire.BackendKeyData         // the server's, set by login: to cancel what it runs
	mu            sync.Mutex                    // guards queue and upArmed
	queue         []*expect                     // responses the server owes, in order
	upArmed       bool                          // the upstream read deadline is set (ResponseTimeout)
	txStatus      atomic.Uint32                 // last ReadyForQuery status (backend writes)
	sqlPrepared   map[string]sqlclass.Statement // frontend: SQL-level PREPARE n AS ...
	cursors       map[string]sqlclass.Statement // frontend: DECLARE c CURSOR FOR ...
}

// session serves a client whose TLS is terminated: startup, login,
// relay; recorded from open to close.
func (h *Handler) session(ctx context.Context, c *l7proxy.Conn, tc *tls.Conn, dial l7proxy.Dialer, bundle *policy.Bundle, target *policy.Target, name string) error {
	s := &session{
		h: h, c: c, dial: dial, bundle: bundle, target: target, name: name, cli: tc,
		cliR: pgwire.NewReader(tc, h.cfg.MaxMessage), cliW: bufio.NewWriterSize(tc, 32<<10),
		opened: time.Now(), backendDone: make(chan struct{}), catalogName: newCatalogName(), sqlPrepared: map[string]sqlclass.Statement{}, cursors: map[string]sqlclass.Statement{},
	}
	s.frontendState.init()
	s.txStatus.Store(pgwire.TxIdle)
	defer func() {
		tc.Close()
		if s.up != nil {
			s.up.Close()
		}
	}()
	stop := context.AfterFunc(ctx, func() {
		tc.Close()
		if up := s.upRef.Load(); up != nil {
			up.Close()
		}
	})
	defer stop()

	// The startup message, inside TLS: a session or a cancel.
	_ = tc.SetReadDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
	body, err := s.cliR.ReadStartup()
	if err != nil {
		return fmt.Errorf("startup in tls: %w", err)
	}
	msg, err := pgwire.DecodeStartup(body)
	if err != nil {
		s.fatal(fatal(StateProtocolViolation, "interlock: "+err.Error()))
		return fmt.Errorf("startup in tls: %w", err)
	}
	switch m := msg.(type) {
	case *pgwire.CancelRequest:
		return h.forwardCancel(ctx, c, dial, m)
	case *pgwire.StartupMessage:
		s.startup = *m
	default:
		s.fatal(fatal(StateProtocolViolation, "interlock: unexpected negotiation request inside TLS"))
		return errors.New("negotiation request inside tls")
	}
	s.user = s.startup.Get("user")
	s.database = s.startup.Get("database")
	if s.database == "" {
		s.database = s.user
	}
	s.inject = target.Credential.Mode == policy.CredentialInject
	s.upUser = s.user
	if s.inject && target.Credential.User != "" {
		s.upUser = target.Credential.User
	}

	// What the client proves comes first, so that the session opens with
	// its identity; a refusal is recorded once the session is open.
	password, loginErr := s.clientLogin(ctx)

	st := tc.ConnectionState()
	s.sess, err = h.cfg.Recorder.Open(ctx, &interlockv1.SessionOpen{
		Node: h.cfg.Node, Workload: record.Workload(c, h.cfg.Node), OriginalDestination: c.Original.Dst.String(),
		ClientAddress: c.RemoteAddr().String(), Protocol: interlockv1.Protocol_PROTOCOL_POSTGRES,
		Target: target.Name, ServerName: name,
		ClientTls: &interlockv1.TLSInfo{Version: tls.VersionName(st.Version), CipherSuite: tls.CipherSuiteName(st.CipherSuite), Alpn: st.NegotiatedProtocol},
		Identity:  record.Identity(s.identity), Database: s.database, User: s.user,
	})
	if err != nil {
		s.fatal(fatal(StateConnectionFailure, "interlock: recording failed: refused (nothing unrecorded passes)"))
		return fmt.Errorf("record session open: %w (refused)", err)
	}
	s.closeReason = "client closed"
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		reason := s.closeReason
		if ctx.Err() != nil {
			reason = "node agent stopping"
		}
		s.h.cfg.Observer.Closed(s.target.Name, c.Workload.Name, s.fromCli.Load(), s.toCli.Load())
		_ = s.sess.Close(cctx, &interlockv1.SessionClose{
			Reason: reason, BytesFromClient: uint64(s.fromCli.Load()), BytesToClient: uint64(s.toCli.Load()),
			Exchanges: s.statements.Load(), Duration: durationpb.New(time.Since(s.opened)),
		})
	}()

	if loginErr != nil {
		if ae := (*authError)(nil); errors.As(loginErr, &ae) {
			loginErr = s.refuseLogin(ctx, ae)
		}
		s.closeReason = loginErr.Error()
		return loginErr
	}
	if err := s.login(ctx, password); err != nil {
		s.closeReason = err.Error()
		return err
	}
	s.running.Store(true)
	go s.backend(ctx)
	err = s.frontend(ctx)
	// The frontend is done: end the backend (closing the upstream ends
	// its read) and wait for it.
	s.up.Close()
	tc.Close()
	<-s.backendDone
	if err != nil {
		s.closeReason = err.Error()
	} else if s.backendErr != nil {
		s.closeReason = "upstream: " + s.backendErr.Error()
	}
	return err
}

// clientLogin authenticates the client: it returns the password and
// sets s.identity, or returns an *authError to refuse the login with
// (recorded and answered by refuseLogin once the session is open), or
// another error when the client could not be talked to.
func (s *session) clientLogin(ctx context.Context) (string, error) {
	if v := s.startup.Get("replication"); v != "" && v != "false" && v != "off" && v != "0" && v != "no" {
		return "", &authError{StateFeatureNotSupported, "interlock: replication connections are not inspected: refused"}
	}
	// A client asking for a newer minor version or protocol options is
	// told what the proxy speaks, as a server would.
	var unknown []string
	for _, p := range s.startup.Params {
		if len(p.Name) > 5 && p.Name[:5] == "_pq_." {
			unknown = append(unknown, p.Name)
		}
	}
	if s.startup.ProtocolVersion != pgwire.ProtocolVersion30 || len(unknown) > 0 {
		_ = s.writeClient((&pgwire.NegotiateProtocolVersion{NewestMinor: 0, Unrecognized: unknown}).Encode(nil))
	}
	password, id, err := s.authenticate(ctx)
	if err != nil {
		return "", err
	}
	s.identity = id
	return password, nil
}

// login logs in upstream with the client's password (or the node's
// credential), and relays the server's startup messages up to its first
// ReadyForQuery.
func (s *session) login(ctx context.Context, password string) (err error) {
	id := s.identity
	if s.inject {
		if s.h.cfg.Credentials == nil {
			return s.refuseLogin(ctx, &authError{StateInvalidAuthorization, "interlock: target " + s.target.Name + " injects the node's credential, but the node has none"})
		}
		password, err = s.h.cfg.Credentials(ctx, s.target, s.name)
		if err != nil {
			s.h.log.Error("node credential", "target", s.target.Name, "host", s.name, "err", err)
			return s.refuseLogin(ctx, &authError{StateConnectionFailure, "interlock: the node could not get its own credential for " + s.name})
		}
	}
	reason := "password forwarded (credential: passthrough)"
	if s.inject {
		reason = "node credential injected for user " + s.upUser
	}
	if id.Subject != "" || id.AppID != "" {
		reason += "; token verified (the identity is the session's, in its open event)"
	}
	if err := s.sess.Decision(ctx, &interlockv1.Decision{
		Action: interlockv1.Action_ACTION_ALLOW, Outcome: interlockv1.Action_ACTION_ALLOW,
		Message: fmt.Sprintf("login as %s to database %s", s.user, s.database), Reason: reason,
	}); err != nil {
		return s.refuseLogin(ctx, &authError{StateConnectionFailure, "interlock: recording failed: refused"})
	}
	if err := s.connectUpstream(ctx, password); err != nil {
		var ue *upstreamError
		if errors.As(err, &ue) {
			s.fatal(ue.e)
			return err
		}
		s.fatal(fatal(StateConnectionFailure, "interlock: could not log in to "+s.name+": "+err.Error()))
		return err
	}
	// AuthenticationOk, then the server's ParameterStatus, BackendKeyData
	// and notices, up to ReadyForQuery.
	out := (&pgwire.Authentication{Code: pgwire.AuthOK}).Encode(nil)
	_ = s.up.SetReadDeadline(time.Now().Add(s.h.cfg.HandshakeTimeout))
	for {
		typ, body, err := s.upR.Next()
		if err != nil {
			s.fatal(fatal(StateConnectionFailure, "interlock: upstream: "+err.Error()))
			return fmt.Errorf("upstream startup: %w", err)
		}
		out = pgwire.AppendRaw(out, typ, body)
		if typ == pgwire.TypeBackendKeyData {
			_ = s.keyData.Decode(body) // malformed: no cancel on a response timeout
		}
		if typ == pgwire.TypeErrorResponse {
			s.writeClient(out)
			return errors.New("upstream refused the session after login")
		}
		if typ == pgwire.TypeReadyForQuery {
			_ = s.up.SetReadDeadline(time.Time{})
			return s.writeClient(out)
		}
	}
}

// refuseLogin records and answers a refused login; nothing reached the
// server.
func (s *session) refuseLogin(ctx context.Context, ae *authError) error {
	s.h.cfg.Observer.Decision(s.target.Name, interlockv1.Action_ACTION_DENY.String(), "")
	_ = s.sess.Decision(ctx, &interlockv1.Decision{
		Action: interlockv1.Action_ACTION_DENY, Outcome: interlockv1.Action_ACTION_DENY,
		Message: fmt.Sprintf("login as %s to database %s", s.user, s.database), ErrorCode: ae.state, Reason: ae.msg,
	})
	s.fatal(fatal(ae.state, ae.msg))
	return fmt.Errorf("login refused: %s", ae.msg)
}

// writeClient writes to the client and flushes (startup phase only).
func (s *session) writeClient(b []byte) error {
	_ = s.cli.SetWriteDeadline(time.Now().Add(s.h.cfg.HandshakeTimeout))
	defer s.cli.SetWriteDeadline(time.Time{})
	if _, err := s.cliW.Write(b); err != nil {
		return err
	}
	s.toCli.Add(int64(len(b)))
	return s.cliW.Flush()
}

// fatal sends a FATAL error to the client (once), unless the loops run:
// then the connection is only closed.
func (s *session) fatal(e *pgwire.ErrorResponse) {
	if s.running.Load() {
		return
	}
	s.fatalOnce.Do(func() { _ = s.writeClient(e.Encode(nil)) })
}
