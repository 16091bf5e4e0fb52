// SPDX-License-Identifier: Apache-2.0

// The upstream of an HTTP/2 workload connection: HTTP/1.1 connections to
// the original destination, one per request in flight, kept alive between
// requests. Each request is written and its response read on the
// goroutine that serves it, with no hand-off to a connection's reader
// goroutine, no second layer of flow control and no HPACK state: what
// HTTP/2 to the upstream would cost per request.

package https

import (
	"io"
	"net/http"
	"sync"

	"github.com/interlockhq/interlock/l7proxy"
)

// maxIdleUpstreams bounds the idle connections an h1Pool keeps.
const maxIdleUpstreams = 16

// h1Pool hands each request an idle h1Upstream, or a new one, and takes it
// back once the response body is read to its end or closed.
type h1Pool struct {
	h    *Handler
	c    *conn
	dial l7proxy.Dialer

	mu     sync.Mutex
	idle   []*h1Upstream
	closed bool // CloseIdleConnections was called: nothing is kept from now
}

func newH1Pool(h *Handler, c *conn, dial l7proxy.Dialer) *h1Pool {
	return &h1Pool{h: h, c: c, dial: dial}
}

// RoundTrip sends req on a connection of its own; see h1Upstream.RoundTrip.
func (p *h1Pool) RoundTrip(req *http.Request) (*http.Response, error) {
	u := p.get()
	resp, err := u.RoundTrip(req)
	if err != nil {
		p.put(u) // dropped by RoundTrip: the next request dials again
		return nil, err
	}
	if resp.Body == http.NoBody || resp.Body == nil {
		p.put(u)
		return resp, nil
	}
	resp.Body = &pooledBody{ReadCloser: resp.Body, p: p, u: u}
	return resp, nil
}

func (p *h1Pool) get() *h1Upstream {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := len(p.idle); n > 0 {
		u := p.idle[n-1]
		p.idle[n-1] = nil
		p.idle = p.idle[:n-1]
		return u
	}
	u := newH1Upstream(p.h, p.c, p.dial)
	u.watchCancel = true
	return u
}

func (p *h1Pool) put(u *h1Upstream) {
	p.mu.Lock()
	keep := !p.closed && len(p.idle) < maxIdleUpstreams
	if keep {
		p.idle = append(p.idle, u)
	}
	p.mu.Unlock()
	if !keep {
		u.drop()
	}
}

// CloseIdleConnections closes the idle connections; those in use are
// closed when their responses are done.
func (p *h1Pool) CloseIdleConnections() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, u := range idle {
		u.drop()
	}
}

// pooledBody gives its connection back to the pool when closed: reusable
// if the body was read to its end (upBody decides), redialed otherwise.
type pooledBody struct {
	io.ReadCloser
	p    *h1Pool
	u    *h1Upstream
	once sync.Once
}

func (b *pooledBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.p.put(b.u) })
	return err
}
