// SPDX-License-Identifier: Apache-2.0

// The HTTP/1.1 upstream connection: reuse, and a request sent again when
// the server had closed the kept-alive connection — only when that is safe.

package https

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/test/testca"
)

// oneShotServer answers requests on a TLS listener, perConn of them per
// connection; then it closes the connection without saying so — at once,
// as a server whose idle timeout fired would, or (racing) only when the
// next request has arrived, unanswered. It counts requests and
// connections.
type oneShotServer struct {
	ln                 net.Listener
	requests, accepted atomic.Int32
}

func startOneShot(t *testing.T, ca *testca.CA, perConn int, racing bool) *oneShotServer {
	t.Helper()
	ln := listenTLS(t, ca)
	s := &oneShotServer{ln: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.accepted.Add(1)
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				for range perConn {
					r, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					_, _ = io.Copy(io.Discard, r.Body)
					n := s.requests.Add(1)
					body := r.Method + " " + r.URL.Path + " " + strconv.Itoa(int(n))
					_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body)
				}
				if racing {
					_, _ = http.ReadRequest(br)
				}
			}()
		}
	}()
	return s
}

// upTLSListener returns a CA and a TLS listener on loopback with its
// certificate for up.test, closed when t ends.
func upTLSListener(t *testing.T) (*testca.CA, net.Listener) {
	t.Helper()
	ca, err := testca.New("up")
	if err != nil {
		t.Fatal(err)
	}
	return ca, listenTLS(t, ca)
}

// listenTLS listens on loopback with a certificate from ca for up.test,
// until t ends.
func listenTLS(t *testing.T, ca *testca.CA) net.Listener {
	t.Helper()
	cert, err := ca.Issue("up.test")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// upstreamOf returns a Handler and a workload connection whose upstream
// is the server at addr, with a certificate from ca for up.test.
func upstreamOf(ca *testca.CA, addr net.Addr) (*Handler, *conn) {
	h := &Handler{cfg: Config{
		UpstreamTLS:      func(sni string) *tls.Config { return &tls.Config{ServerName: sni, RootCAs: ca.Pool()} },
		HandshakeTimeout: 5 * time.Second,
	}}
	dst := addr.(*net.TCPAddr).AddrPort()
	return h, &conn{l7: &l7proxy.Conn{Original: bpf.Original{Dst: dst}}, sni: "up.test"}
}

func newTestUpstream(t *testing.T, ca *testca.CA, addr net.Addr) *h1Upstream {
	h, c := upstreamOf(ca, addr)
	u := newH1Upstream(h, c, dialTCP)
	t.Cleanup(u.CloseIdleConnections)
	return u
}

func roundTrip(t *testing.T, u *h1Upstream, method, body string) (string, error) {
	t.Helper()
	var rb io.ReadCloser
	if body != "" {
		rb = io.NopCloser(strings.NewReader(body))
	}
	req, _ := http.NewRequestWithContext(t.Context(), method, "https://up.test/x", rb)
	if body != "" {
		req.ContentLength = int64(len(body))
	}
	resp, err := u.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestH1UpstreamReusesItsConnection(t *testing.T) {
	ca, err := testca.New("up")
	if err != nil {
		t.Fatal(err)
	}
	s := startOneShot(t, ca, 100, false)
	u := newTestUpstream(t, ca, s.ln.Addr())
	for range 5 {
		if _, err := roundTrip(t, u, "GET", ""); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.accepted.Load(); got != 1 {
		t.Fatalf("5 sequential requests used %d connections, want 1", got)
	}
}

// TestH1UpstreamNoticesAnIdleClose: a connection the server closed while
// it was idle is not used: every method goes out on a new one.
func TestH1UpstreamNoticesAnIdleClose(t *testing.T) {
	ca, err := testca.New("up")
	if err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"GET", "POST", "PUT", "DELETE"} {
		t.Run(method, func(t *testing.T) {
			s := startOneShot(t, ca, 1, false)
			u := newTestUpstream(t, ca, s.ln.Addr())
			if _, err := roundTrip(t, u, "GET", ""); err != nil {
				t.Fatal(err)
			}
			time.Sleep(50 * time.Millisecond) // the server has closed it
			got, err := roundTrip(t, u, method, "{}")
			if err != nil || !strings.HasPrefix(got, method) {
				t.Fatalf("%s after the server closed the idle connection: %q, %v", method, got, err)
			}
			if n := s.requests.Load(); n != 2 {
				t.Fatalf("the server saw %d requests, want 2", n)
			}
		})
	}
}

// TestH1UpstreamRetriesOnlyWhatIsSafe: when the server closes the
// connection as a request arrives, the request is sent again on a new
// connection only if that cannot do twice what the workload asked once.
func TestH1UpstreamRetriesOnlyWhatIsSafe(t *testing.T) {
	ca, err := testca.New("up")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, body string
		retried      bool
	}{
		{"GET", "", true},    // idempotent, no body: sent again
		{"DELETE", "", true}, // idempotent
		{"POST", "", false},  // may have run: the workload decides
		{"PUT", "{}", false}, // its body is gone
	}
	for _, tt := range tests {
		t.Run(tt.method, func(t *testing.T) {
			s := startOneShot(t, ca, 1, true)
			u := newTestUpstream(t, ca, s.ln.Addr())
			if _, err := roundTrip(t, u, "GET", ""); err != nil {
				t.Fatal(err)
			}
			got, err := roundTrip(t, u, tt.method, tt.body)
			if tt.retried {
				if err != nil || !strings.HasPrefix(got, tt.method) {
					t.Fatalf("%s when the server closed as it arrived: %q, %v; want it sent again", tt.method, got, err)
				}
				if n := s.accepted.Load(); n != 2 {
					t.Fatalf("%d connections, want 2", n)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s succeeded (%q) after the server closed as it arrived: it must not be sent twice", tt.method, got)
			}
			// The next request dials a new connection.
			if _, err := roundTrip(t, u, "GET", ""); err != nil {
				t.Fatalf("after the failure: %v", err)
			}
		})
	}
}

// A server that answers before it has read a large body, and closes, gets
// its answer to the workload (not a 502), and the connection is not
// reused.
func TestH1UpstreamEarlyResponse(t *testing.T) {
	ca, ln := upTLSListener(t)
	var accepted atomic.Int32
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				r, err := http.ReadRequest(bufio.NewReader(c))
				if err != nil {
					return
				}
				if r.Method == "PUT" { // too large: refused before reading it
					_, _ = io.WriteString(c, "HTTP/1.1 413 Request Entity Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big\n")
					return
				}
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}()
		}
	}()
	u := newTestUpstream(t, ca, ln.Addr())
	body := strings.Repeat("x", 32<<20)
	got, err := roundTrip(t, u, "PUT", body)
	if err != nil || got != "too big\n" {
		t.Fatalf("PUT of 32 MiB refused early: %q, %v; want the server's 413 body", got, err)
	}
	if got, err := roundTrip(t, u, "GET", ""); err != nil || got != "ok" {
		t.Fatalf("the next request: %q, %v", got, err)
	}
	if n := accepted.Load(); n != 2 {
		t.Errorf("%d connections, want 2: the one with a half-sent body must not be reused", n)
	}
}
