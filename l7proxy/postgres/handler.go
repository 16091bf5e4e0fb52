// SPDX-License-Identifier: Apache-2.0

// Handler: per connection, the startup phase — SSLRequest, GSSENCRequest,
// CancelRequest or a plaintext startup — routing by server name, TLS
// termination, and passthrough of non-targets.

package postgres

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
)

// Handler serves intercepted PostgreSQL connections. It is safe for
// concurrent use and holds no state between connections.
type Handler struct {
	cfg Config
	log *slog.Logger
}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Policy == nil || cfg.ServerTLS == nil || cfg.UpstreamTLS == nil || cfg.Recorder == nil {
		return nil, errors.New("postgres: Config needs Policy, ServerTLS, UpstreamTLS and Recorder")
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.ResponseTimeout == 0 {
		cfg.ResponseTimeout = DefaultResponseTimeout
	}
	if cfg.MaxMessage == 0 {
		cfg.MaxMessage = DefaultMaxMessage
	}
	if cfg.RecordCap == 0 {
		cfg.RecordCap = DefaultRecordCap
	}
	if cfg.Observer == nil {
		cfg.Observer = https.NopObserver{}
	}
	if cfg.Passthrough == nil {
		cfg.Passthrough = plainPassthrough
	}
	server := cfg.ServerTLS.Clone()
	server.NextProtos = []string{alpnPostgres}
	cfg.ServerTLS = server
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Handler{cfg: cfg, log: log}, nil
}

// alpnPostgres is PostgreSQL's ALPN protocol name (PostgreSQL 17 and later
// require it on direct TLS connections).
const alpnPostgres = "postgresql"

// Serve serves one intercepted connection and returns when it is done. It
// owns c: when it returns, c is closed. Cancelling ctx closes both sides.
func (h *Handler) Serve(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
	if err := h.serve(ctx, c, dial); err != nil {
		h.log.Info("postgres connection ended", "workload", c.Workload.Name, "dst", c.Original.Dst, "err", err)
	}
}

func (h *Handler) serve(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) error {
	bundle := h.cfg.Policy()
	if bundle == nil {
		c.Close()
		return errors.New("no policy loaded: refused (fail closed)")
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	// Direct TLS (PostgreSQL 17's sslnegotiation=direct) starts with a
	// TLS handshake record instead of a startup packet.
	first, err := h.firstByte(c)
	if err != nil {
		c.Close()
		return fmt.Errorf("first byte: %w", err)
	}
	if first == 0x16 {
		return h.serveTLS(ctx, c, dial, bundle, c.Peeked, nil)
	}
	pr := &prefixReader{b: c.Peeked, r: c.TCPConn}
	rd := pgwire.NewReader(pr, h.cfg.MaxMessage)
	for range 3 { // GSSENCRequest, then SSLRequest, then a startup
		_ = c.SetReadDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
		body, err := rd.ReadStartup()
		if err != nil {
			c.Close()
			return fmt.Errorf("startup: %w", err)
		}
		raw := append(appendLen(nil, len(body)+4), body...)
		msg, err := pgwire.DecodeStartup(body)
		if err != nil {
			h.sendFatal(c, fatal(StateProtocolViolation, "interlock: "+err.Error()))
			return fmt.Errorf("startup: %w", err)
		}
		switch m := msg.(type) {
		case pgwire.GSSENCRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				c.Close()
				return err
			}
		case pgwire.SSLRequest:
			if rd.Buffered() > 0 || len(pr.b) > 0 {
				// Bytes sent after SSLRequest before the handshake would be
				// taken as encrypted ones (CVE-2021-23214).
				h.sendFatal(c, fatal(StateProtocolViolation, "interlock: unencrypted data after SSLRequest"))
				return errors.New("data after SSLRequest: refused")
			}
			_ = c.SetReadDeadline(time.Time{})
			return h.serveTLS(ctx, c, dial, bundle, nil, []byte{'S'})
		case *pgwire.CancelRequest:
			c.Close()
			return h.forwardCancel(ctx, c, dial, m)
		case *pgwire.StartupMessage:
			_ = c.SetReadDeadline(time.Time{})
			name := routeName("", c)
			target, err := bundle.Target(name, c.Original.Dst.Port(), policy.ProtocolPostgres)
			if err != nil {
				h.sendFatal(c, fatal(StateInvalidAuthorization, "interlock: "+name+" is not a PostgreSQL target"))
				return fmt.Errorf("plaintext startup: %w", err)
			}
			if target != nil {
				h.sendFatal(c, fatal(StateInvalidAuthorization, fmt.Sprintf(
					"interlock: connections to %s must use TLS (sslmode=require or stronger)", name)))
				return fmt.Errorf("plaintext startup to target %s: refused (fail closed)", target.Name)
			}
			c.Peeked = append(append(raw, rd.Pending()...), pr.b...)
			h.cfg.Passthrough(ctx, c, dial)
			return nil
		}
	}
	c.Close()
	return errors.New("startup: too many negotiation requests")
}

// firstByte returns the first byte of the client's stream, reading it
// into c.Peeked when it is not there yet.
func (h *Handler) firstByte(c *l7proxy.Conn) (byte, error) {
	if len(c.Peeked) > 0 {
		return c.Peeked[0], nil
	}
	_ = c.SetReadDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
	defer c.SetReadDeadline(time.Time{})
	var b [1]byte
	if _, err := io.ReadFull(c.TCPConn, b[:]); err != nil {
		return 0, err
	}
	c.Peeked = append(c.Peeked, b[0])
	return b[0], nil
}

// serveTLS answers the client's SSLRequest with answer (nil for direct
// TLS), reads its ClientHello and either passes the connection through
// (not a target) or terminates TLS and serves the session.
func (h *Handler) serveTLS(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer, bundle *policy.Bundle, peeked, answer []byte) error {
	if answer != nil {
		if _, err := c.Write(answer); err != nil {
			c.Close()
			return fmt.Errorf("answer SSLRequest: %w", err)
		}
	}
	hello, err := tlsterm.Peek(tlsterm.Replay(c.TCPConn, peeked, c.Original.Dst), h.cfg.HandshakeTimeout)
	if err != nil {
		c.Close()
		return fmt.Errorf("client hello: %w", err)
	}
	name := routeName(strings.ToLower(hello.ServerName), c)
	target, err := bundle.Target(name, c.Original.Dst.Port(), policy.ProtocolPostgres)
	if err != nil {
		c.Close()
		return fmt.Errorf("%s is a target of another protocol: refused", name)
	}
	if target == nil {
		return h.passTLS(ctx, c, dial, hello.Raw, answer != nil)
	}
	tc := tls.Server(tlsterm.Replay(c.TCPConn, hello.Raw, c.Original.Dst), h.cfg.ServerTLS)
	hctx, cancel := context.WithTimeout(ctx, h.cfg.HandshakeTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		c.Close()
		return fmt.Errorf("tls handshake with workload for %s: %w", name, err)
	}
	return h.session(ctx, c, tc, dial, bundle, target, name)
}

// passTLS passes a TLS connection to a non-target through. After an
// SSLRequest the server must be asked too, and its 'S' is the client's
// already: the passthrough gets the connection positioned after it.
func (h *Handler) passTLS(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer, hello []byte, sslRequest bool) error {
	c.Peeked = hello
	if !sslRequest {
		h.cfg.Passthrough(ctx, c, dial)
		return nil
	}
	up, err := h.sslRequest(ctx, dial, c.Upstream())
	if err != nil {
		c.Close()
		return fmt.Errorf("passthrough: %w", err)
	}
	h.cfg.Passthrough(ctx, c, func(context.Context, netip.AddrPort) (*net.TCPConn, error) { return up, nil })
	return nil
}

// sslRequest dials dst and asks for TLS; it fails unless the server
// answers 'S'.
func (h *Handler) sslRequest(ctx context.Context, dial l7proxy.Dialer, dst netip.AddrPort) (*net.TCPConn, error) {
	dctx, cancel := context.WithTimeout(ctx, h.cfg.HandshakeTimeout)
	defer cancel()
	up, err := dial(dctx, dst)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", dst, err)
	}
	_ = up.SetDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
	var b [1]byte
	if _, err = up.Write(pgwire.SSLRequest{}.Encode(nil)); err == nil {
		_, err = io.ReadFull(up, b[:]) // one byte, nothing buffered (CVE-2021-23222)
	}
	if err == nil && b[0] != 'S' {
		err = fmt.Errorf("%s does not accept TLS (answered %q)", dst, b[0])
	}
	if err != nil {
		up.Close()
		return nil, fmt.Errorf("ssl request: %w", err)
	}
	_ = up.SetDeadline(time.Time{})
	return up, nil
}

// forwardCancel sends a CancelRequest, unchanged, to the original
// destination: the key is the server's, which the handler relayed.
func (h *Handler) forwardCancel(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer, m *pgwire.CancelRequest) error {
	dctx, cancel := context.WithTimeout(ctx, h.cfg.HandshakeTimeout)
	defer cancel()
	up, err := dial(dctx, c.Upstream())
	if err != nil {
		return fmt.Errorf("cancel request: dial: %w", err)
	}
	defer up.Close()
	_ = up.SetDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
	if _, err := up.Write(m.Encode(nil)); err != nil {
		return fmt.Errorf("cancel request: %w", err)
	}
	// The server closes without answering; wait for that so that the
	// cancel is delivered before this returns.
	_, _ = io.Copy(io.Discard, up)
	h.log.Debug("forwarded cancel request", "workload", c.Workload.Name, "dst", c.Original.Dst, "pid", m.PID)
	return nil
}

// routeName is the name a connection is routed by: the SNI, else the
// name the client gave before TLS (proxy mode), else the original
// destination's address.
func routeName(sni string, c *l7proxy.Conn) string {
	switch {
	case sni != "":
		return sni
	case c.ServerName != "":
		return strings.ToLower(c.ServerName)
	}
	return c.Upstream().Addr().String()
}

// sendFatal writes a FATAL error to a plaintext client and closes it.
func (h *Handler) sendFatal(c net.Conn, e *pgwire.ErrorResponse) {
	_ = c.SetWriteDeadline(time.Now().Add(h.cfg.HandshakeTimeout))
	_, _ = c.Write(e.Encode(nil))
	_ = c.Close()
}

// plainPassthrough relays c to its original destination, c.Peeked first.
func plainPassthrough(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
	up, err := dial(ctx, c.Upstream())
	if err != nil {
		c.Close()
		return
	}
	if len(c.Peeked) > 0 {
		if _, err := up.Write(c.Peeked); err != nil {
			c.Close()
			up.Close()
			return
		}
	}
	_, _ = l7proxy.Passthrough(ctx, c.TCPConn, up)
}

// prefixReader reads b, then r.
type prefixReader struct {
	b []byte
	r io.Reader
}

func (p *prefixReader) Read(dst []byte) (int, error) {
	if len(p.b) > 0 {
		n := copy(dst, p.b)
		p.b = p.b[n:]
		return n, nil
	}
	return p.r.Read(dst)
}

func appendLen(dst []byte, n int) []byte {
	return append(dst, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
