// SPDX-License-Identifier: Apache-2.0

// The upstream of an HTTP/2 workload: one HTTP/1.1 connection per request
// in flight, reused once a response is read, dropped when it was not.

package https

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

func newTestPool(t *testing.T, ca *testca.CA, addr net.Addr) *h1Pool {
	h, c := upstreamOf(ca, addr)
	p := newH1Pool(h, c, dialTCP)
	t.Cleanup(p.CloseIdleConnections)
	return p
}

// poolGet sends a GET through p and returns the response, its body unread.
func poolGet(t *testing.T, p *h1Pool) *http.Response {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", "https://up.test/x", nil)
	resp, err := p.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func readClose(t *testing.T, resp *http.Response) {
	t.Helper()
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	if err := resp.Body.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestH1Pool(t *testing.T) {
	ca, err := testca.New("up")
	if err != nil {
		t.Fatal(err)
	}
	s := startOneShot(t, ca, 1000, false)
	p := newTestPool(t, ca, s.ln.Addr())
	accepted := func(want int32, what string) {
		t.Helper()
		if got := s.accepted.Load(); got != want {
			t.Fatalf("%s: %d connections, want %d", what, got, want)
		}
	}

	for range 3 {
		readClose(t, poolGet(t, p))
	}
	accepted(1, "3 sequential requests")

	// Two responses in flight at once: two connections.
	a, b := poolGet(t, p), poolGet(t, p)
	accepted(2, "2 requests in flight")
	readClose(t, a)
	readClose(t, b)
	for range 3 {
		readClose(t, poolGet(t, p))
	}
	accepted(2, "3 more sequential requests")

	// A body closed before its end leaves bytes on its connection: that
	// connection is closed, and the next request in its place dials.
	c := poolGet(t, p)
	d := poolGet(t, p)
	if err := c.Body.Close(); err != nil {
		t.Fatal(err)
	}
	readClose(t, d)
	readClose(t, poolGet(t, p))
	readClose(t, poolGet(t, p))
	accepted(2, "after an unread body, one connection of two kept")
	e, f := poolGet(t, p), poolGet(t, p)
	accepted(3, "two in flight again")
	readClose(t, e)
	readClose(t, f)

	// Once the workload's connection is done, nothing is kept: a response
	// finishing afterwards closes its connection rather than idling it.
	g := poolGet(t, p)
	p.CloseIdleConnections()
	readClose(t, g)
	p.mu.Lock()
	idle := len(p.idle)
	p.mu.Unlock()
	if idle != 0 {
		t.Fatalf("%d idle connections kept after CloseIdleConnections", idle)
	}
	if g.Body.(*pooledBody).u.tc != nil {
		t.Fatal("the connection of a response finished after CloseIdleConnections is still open")
	}
}

// A request the workload gives up on (its HTTP/2 stream reset cancels the
// request's context) closes its upstream connection at once: the
// goroutine waiting for the response returns, and the upstream stops
// working for nobody. A cancellation after the response is done changes
// nothing.
func TestH1PoolCancel(t *testing.T) {
	ca, ln := upTLSListener(t)
	closed := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		for {
			if _, err := c.Read(buf); err != nil { // never answers
				close(closed)
				return
			}
		}
	}()
	p := newTestPool(t, ca, ln.Addr())
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://up.test/x", nil)
	done := make(chan error, 1)
	go func() {
		_, err := p.RoundTrip(req)
		done <- err
	}()
	time.Sleep(100 * time.Millisecond) // the request is out, waiting
	cancel()
	select {
	case err := <-done:
		if err == nil {
			t.Error("RoundTrip of a cancelled request returned a response")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("RoundTrip still waits 5 s after its request was cancelled")
	}
	select {
	case <-closed:
	case <-time.After(5 * time.Second):
		t.Error("the upstream connection of a cancelled request stays open")
	}

	// Done, then cancelled: the connection is kept for the next request.
	s := startOneShot(t, ca, 100, false)
	p = newTestPool(t, ca, s.ln.Addr())
	ctx, cancel = context.WithCancel(t.Context())
	req, _ = http.NewRequestWithContext(ctx, "GET", "https://up.test/x", nil)
	resp, err := p.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	readClose(t, resp)
	cancel()
	readClose(t, poolGet(t, p))
	if got := s.accepted.Load(); got != 1 {
		t.Errorf("%d connections after a request cancelled once done, want 1", got)
	}
}
