// SPDX-License-Identifier: Apache-2.0

// Handler: per connection, peek, route, terminate TLS and hand the
// connection to the HTTP server; per connection state for requests.

package https

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Handler serves intercepted HTTPS connections. It is safe for concurrent
// use; Close stops it.
type Handler struct {
	cfg   Config
	log   *slog.Logger
	redac *record.Redactor
	srv   *http.Server
	ln    *chanListener

	conns sync.Map // *tls.Conn → *conn, while served by the HTTP/2 server

	stop     context.Context // ends when the handler is closed
	stopping context.CancelFunc

	bufs sync.Pool // *[]byte of copyBufSize: response bodies copied unmasked

	hdrTimeout time.Duration // tests: headerTimeout instead of its default
}

// maxStreams is the number of requests an HTTP/2 workload connection may
// have in flight. Each has an upstream connection of its own (h1Pool), so
// this bounds what one workload connection costs Azure and the node;
// clients open another connection when they want more (Go's Transport
// and the Azure SDK do).
const maxStreams = 32

// copyBufSize is the size of the buffers unmasked bodies are copied with.
const copyBufSize = 32 << 10

// copyBuf returns a buffer from the pool; put it back with h.bufs.Put.
func (h *Handler) copyBuf() *[]byte {
	if b, ok := h.bufs.Get().(*[]byte); ok {
		return b
	}
	b := make([]byte, copyBufSize)
	return &b
}

// conn is the state of one terminated client connection.
type conn struct {
	l7       *l7proxy.Conn
	tls      *tls.Conn
	sess     *record.Session
	target   *policy.Target
	bundle   *policy.Bundle
	sni      string
	upstream roundTripper // keep-alive connection(s) to the original destination
	opened   time.Time
	done     chan struct{} // closed when the HTTP server is done with it

	exchanges atomic.Uint32
	fromCli   atomic.Int64
	toCli     atomic.Int64
}

type connKey struct{}

// New returns a Handler.
func New(cfg Config) (*Handler, error) {
	switch {
	case cfg.Policy == nil, cfg.ServerTLS == nil, cfg.UpstreamTLS == nil, cfg.Identify == nil,
		cfg.Recorder == nil, cfg.Passthrough == nil:
		return nil, errors.New("https: Config needs Policy, ServerTLS, UpstreamTLS, Identify, Recorder and Passthrough")
	}
	if cfg.RecordCap == 0 {
		cfg.RecordCap = DefaultRecordCap
	}
	if cfg.PeekTimeout == 0 {
		cfg.PeekTimeout = DefaultPeekTimeout
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	red := cfg.Redactor
	if red == nil {
		red = record.NewRedactor()
	}
	if cfg.Observer == nil {
		cfg.Observer = NopObserver{}
	}
	h := &Handler{cfg: cfg, log: log, redac: red, ln: newChanListener()}
	h.stop, h.stopping = context.WithCancel(context.Background())
	h.srv = &http.Server{
		Handler:           http.HandlerFunc(h.serveHTTP),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       DefaultIdleTimeout,
		MaxHeaderBytes:    1 << 20,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if v, ok := h.conns.Load(c); ok {
				return context.WithValue(ctx, connKey{}, v)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if st == http.StateClosed || st == http.StateHijacked {
				if v, ok := h.conns.LoadAndDelete(c); ok {
					close(v.(*conn).done)
				}
			}
		},
	}
	// The server serves connections that negotiated HTTP/2; serveH1 the
	// others.
	h.srv.Protocols = new(http.Protocols)
	h.srv.Protocols.SetHTTP2(true)
	h.srv.HTTP2 = &http.HTTP2Config{MaxConcurrentStreams: maxStreams}
	// The server sets up its copy (NextProtos): the caller's config may be
	// shared with other handlers.
	h.srv.TLSConfig = cfg.ServerTLS.Clone()
	go func() { _ = h.srv.Serve(h.ln) }()
	return h, nil
}

// Close stops serving; connections being served are closed.
func (h *Handler) Close() error {
	h.stopping()
	h.ln.Close()
	return h.srv.Close()
}

// Serve serves one intercepted connection and returns when it is done. It
// owns c.
func (h *Handler) Serve(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
	if err := h.serve(ctx, c, dial); err != nil {
		h.log.Info("https connection ended", "workload", c.Workload.Name, "dst", c.Original.Dst, "err", err)
	}
}

func (h *Handler) serve(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) error {
	bundle := h.cfg.Policy()
	if bundle == nil {
		c.Close()
		return errors.New("no policy loaded: refused (fail closed)")
	}
	hello, err := tlsterm.Peek(c.TCPConn, h.cfg.PeekTimeout)
	peeked := append(c.Peeked, hello.Raw...)
	if err != nil {
		// Not TLS (or not a ClientHello we can read): nothing to route on.
		// It cannot be an https target, so it passes untouched.
		c.Peeked = peeked
		h.cfg.Passthrough(ctx, c, dial)
		return nil
	}
	sni := strings.ToLower(hello.ServerName)
	if sni == "" {
		sni = c.ServerName
	}
	target, err := bundle.Target(sni, c.Original.Dst.Port(), policy.ProtocolHTTPS)
	if errors.Is(err, policy.ErrProtocolMismatch) {
		c.Close()
		return fmt.Errorf("%s is a target of another protocol: refused", sni)
	}
	if err != nil || target == nil {
		c.Peeked = peeked
		h.cfg.Passthrough(ctx, c, dial)
		return nil
	}

	tc := tls.Server(tlsterm.Replay(c.TCPConn, peeked, c.Original.Dst), h.cfg.ServerTLS)
	hctx, cancel := context.WithTimeout(ctx, h.cfg.HandshakeTimeout)
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		c.Close()
		return fmt.Errorf("tls handshake with workload for %s: %w", sni, err)
	}
	st := tc.ConnectionState()
	sess, err := h.cfg.Recorder.Open(ctx, &interlockv1.SessionOpen{
		Node:                h.cfg.Node,
		Workload:            record.Workload(c, h.cfg.Node),
		OriginalDestination: c.Original.Dst.String(),
		ClientAddress:       c.RemoteAddr().String(),
		Protocol:            interlockv1.Protocol_PROTOCOL_HTTPS,
		Target:              target.Name,
		ServerName:          sni,
		ClientTls: &interlockv1.TLSInfo{
			Version: tls.VersionName(st.Version), CipherSuite: tls.CipherSuiteName(st.CipherSuite), Alpn: st.NegotiatedProtocol,
		},
	})
	if err != nil {
		tc.Close()
		return fmt.Errorf("record session open: %w (refused: nothing unrecorded passes)", err)
	}
	cs := &conn{l7: c, tls: tc, sess: sess, target: target, bundle: bundle, sni: sni, opened: time.Now(), done: make(chan struct{})}
	if st.NegotiatedProtocol == "h2" {
		h.serveH2(ctx, cs, dial)
	} else {
		h.serveH1(ctx, cs, dial)
	}
	reason := "connection closed"
	if ctx.Err() != nil {
		reason = "node agent stopping"
	}
	h.cfg.Observer.Closed(target.Name, c.Workload.Name, cs.fromCli.Load(), cs.toCli.Load())
	cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer ccancel()
	return sess.Close(cctx, &interlockv1.SessionClose{
		Reason:          reason,
		BytesFromClient: uint64(cs.fromCli.Load()),
		BytesToClient:   uint64(cs.toCli.Load()),
		Exchanges:       cs.exchanges.Load(),
		Duration:        durationpb.New(time.Since(cs.opened)),
	})
}

// serveH2 hands a connection that negotiated HTTP/2 to net/http's server
// and waits until it is done with it.
func (h *Handler) serveH2(ctx context.Context, cs *conn, dial l7proxy.Dialer) {
	cs.upstream = newH1Pool(h, cs, dial)
	defer cs.upstream.CloseIdleConnections()
	h.conns.Store(cs.tls, cs)
	if !h.ln.push(ctx, cs.tls) {
		h.conns.Delete(cs.tls)
		cs.tls.Close()
		close(cs.done)
	}
	select {
	case <-cs.done:
	case <-ctx.Done():
		cs.tls.Close()
		<-cs.done
	}
}

// chanListener hands connections that Serve terminated to the HTTP server.
type chanListener struct {
	ch     chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newChanListener() *chanListener {
	return &chanListener{ch: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *chanListener) push(ctx context.Context, c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.closed:
		return false
	case <-ctx.Done():
		return false
	}
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return &net.TCPAddr{} }
