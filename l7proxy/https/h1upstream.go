// SPDX-License-Identifier: Apache-2.0

// The upstream of an HTTP/1.1 workload connection: one keep-alive
// connection to the original destination, used by the goroutine that
// serves the workload's requests one after another — the request is
// written and the response read on that goroutine, with no pool and no
// hand-off between goroutines.

package https

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/interlockhq/interlock/l7proxy"
)

// upstreamHeaderTimeout bounds the wait for a response's headers, and
// then each read of its body.
const upstreamHeaderTimeout = 5 * time.Minute

// earlyResponseWait bounds the wait for the answer of a server that
// stopped reading a request's body.
const earlyResponseWait = 2 * time.Second

// roundTripper is how an exchange reaches the upstream: an h1Pool for
// HTTP/2 workloads, an h1Upstream for HTTP/1.1 ones.
type roundTripper interface {
	RoundTrip(*http.Request) (*http.Response, error)
	CloseIdleConnections()
}

// h1Upstream is one HTTP/1.1 connection to the original destination,
// dialed when first needed and again when the server closes it. It is
// used by one goroutine at a time.
type h1Upstream struct {
	h    *Handler
	c    *conn
	dial l7proxy.Dialer

	tc   *tls.Conn    // nil until dialed, and after it broke
	raw  *net.TCPConn // tc's socket
	in   *deadlineReader
	br   *bufio.Reader
	bw   *bufio.Writer
	hr   headerReader
	used bool  // a response came back on tc: it may have been closed since
	sent int64 // bytes of the current request that reached tc
	// sendFailed: writing the current request to tc failed (net/http
	// reports it as a body read error, whatever it was).
	sendFailed bool
	// watchCancel: a request's context ending closes the connection (an
	// HTTP/2 workload's streams end on their own; set by h1Pool).
	watchCancel bool
}

func newH1Upstream(h *Handler, c *conn, dial l7proxy.Dialer) *h1Upstream {
	return &h1Upstream{h: h, c: c, dial: dial}
}

// RoundTrip sends req and reads the response headers. The response body
// must be read to its end or closed before the next RoundTrip. A request
// that fails because the server had closed the kept-alive connection is
// sent again on a new one when it can be: when it has no body and either
// none of it was written or it is idempotent. A connection the server closed
// while it was idle is noticed before a request that could not be sent
// again is sent on it (peerClosed), so that only a close racing with such
// a request fails it.
func (u *h1Upstream) RoundTrip(req *http.Request) (*http.Response, error) {
	noBody := req.Body == nil || req.Body == http.NoBody
	replayable := noBody && idempotent(req.Method)
	// A request that could not be sent again is not sent on a connection
	// the server closed while it was idle: the kernel is asked first (a
	// system call). One that can be (a GET, most of ARM's requests) is
	// sent, and sent again on a new connection if the old one was closed.
	if u.tc != nil && u.used && (u.br.Buffered() > 0 || (!replayable && peerClosed(u.raw))) {
		// The server closed it while it was idle, or sent bytes nobody
		// asked for (more than a body's length, a body after HEAD): they
		// must not be read as the next request's response.
		u.drop()
	}
	for retried := false; ; retried = true {
		reused := u.tc != nil && u.used
		if u.tc == nil {
			if err := u.connect(req.Context()); err != nil {
				return nil, err
			}
		}
		resp, written, err := u.try(req)
		if err == nil {
			return resp, nil
		}
		u.drop()
		// Only a request without a body can be sent again: a body, once
		// read, is gone (and recorded as read).
		replay := replayable || (noBody && !written)
		if !reused || retried || !replay || req.Context().Err() != nil {
			return nil, err
		}
	}
}

// try writes req and reads the response's headers. written says whether
// any of the request may have reached the server.
func (u *h1Upstream) try(req *http.Request) (resp *http.Response, written bool, err error) {
	u.in.timeout = upstreamHeaderTimeout
	u.sent, u.sendFailed = 0, false
	// A request the workload gives up on (an HTTP/2 stream reset) closes
	// its connection: the upstream stops working for nobody, and the
	// goroutine waiting on it returns at once. (An HTTP/1.1 workload gives
	// up by closing its connection, which ends its requests' too.)
	stop := func() bool { return true }
	if u.watchCancel {
		raw := u.raw
		stop = context.AfterFunc(req.Context(), func() { raw.Close() })
	}
	keep := false
	defer func() {
		if !keep && !stop() {
			u.drop()
		}
	}()
	werr := writeRequest(u.bw, req)
	if werr == nil {
		werr = u.bw.Flush()
	}
	if werr != nil {
		if u.sent == 0 || !u.sendFailed {
			return nil, u.sent > 0, fmt.Errorf("write request: %w", werr)
		}
		// The server stopped reading the body: it may have answered
		// already (413, 401 before a large upload) and closed. That
		// answer is the workload's, not a 502.
		u.in.timeout = earlyResponseWait
		resp, err := u.hr.readResponse(u.br, req)
		if err != nil || resp.StatusCode < 200 {
			return nil, true, fmt.Errorf("write request: %w", werr)
		}
		u.used = true
		resp.Close = true // the rest of the request is unsent: never reused
		if resp.Body == http.NoBody {
			u.drop()
			return resp, true, nil
		}
		keep = true
		resp.Body = &upBody{u: u, tc: u.tc, rc: resp.Body, stop: stop}
		return resp, true, nil
	}
	for {
		resp, err = u.hr.readResponse(u.br, req)
		if err != nil {
			return nil, true, fmt.Errorf("read response: %w", err)
		}
		// Informational responses (the request carried no Expect, but a
		// server may send 103 Early Hints) are not passed on.
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	if resp.StatusCode == http.StatusSwitchingProtocols {
		u.drop()
		return nil, true, errors.New("the server switched protocols, which Interlock does not inspect")
	}
	u.used = true
	if resp.Body == http.NoBody {
		if resp.Close {
			u.drop()
		}
		return resp, true, nil
	}
	keep = true // until the body is closed
	resp.Body = &upBody{u: u, tc: u.tc, rc: resp.Body, reuse: !resp.Close, stop: stop}
	return resp, true, nil
}

// connect dials the original destination from the workload's network
// namespace and verifies its certificate for the SNI.
func (u *h1Upstream) connect(ctx context.Context) error {
	dst := u.c.l7.Upstream()
	raw, err := u.dial(ctx, netip.AddrPortFrom(dst.Addr(), dst.Port()))
	if err != nil {
		return err
	}
	cfg := u.h.cfg.UpstreamTLS(u.c.sni).Clone()
	cfg.NextProtos = []string{"http/1.1"}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, u.h.cfg.HandshakeTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return fmt.Errorf("tls with %s (%s): %w", u.c.sni, dst, err)
	}
	u.tc, u.raw, u.used = tc, raw, false
	u.in = &deadlineReader{c: tc, timeout: upstreamHeaderTimeout}
	u.br = bufio.NewReaderSize(u.in, 8<<10)
	u.bw = bufio.NewWriterSize(&sentWriter{w: tc, n: &u.sent, failed: &u.sendFailed}, 4<<10)
	return nil
}

// drop closes the connection; the next request dials a new one.
func (u *h1Upstream) drop() {
	if u.tc != nil {
		u.tc.Close()
		u.tc = nil
	}
}

// CloseIdleConnections closes the connection.
func (u *h1Upstream) CloseIdleConnections() { u.drop() }

// upBody is a response body on an h1Upstream's connection. Read to its
// end, it leaves the connection for the next request; closed before, it
// closes the connection instead of reading what is left (a workload that
// gave up on a large download does not download it anyway).
type upBody struct {
	u      *h1Upstream
	tc     *tls.Conn
	rc     io.ReadCloser
	eof    bool
	reuse  bool
	stop   func() bool // the request's cancellation; false once it closed the connection
	closed bool
}

func (b *upBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *upBody) Close() error {
	if b.closed {
		return nil // a second Close must not drop a connection reused since
	}
	b.closed = true
	if !b.stop() {
		b.reuse = false // the request was cancelled: its connection is closed
	}
	if !b.eof || !b.reuse {
		if b.u.tc == b.tc {
			b.u.drop()
		}
	}
	return b.rc.Close()
}

// sentWriter counts the bytes that reached w.
type sentWriter struct {
	w      io.Writer
	n      *int64
	failed *bool // a write to w failed (not a read of the body)
}

func (s *sentWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	*s.n += int64(n)
	if err != nil {
		*s.failed = true
	}
	return n, err
}

func idempotent(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	return false
}
