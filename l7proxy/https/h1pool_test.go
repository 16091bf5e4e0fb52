// SPDX-License-Identifier: Apache-2.0

// The upstream of an HTTP/2 workload: one HTTP/1.1 connection per request
// in flight, reused once a response is read, dropped when it was not.

package https

import (
	"io"
	"net"
	"net/http"
	"testing"

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
