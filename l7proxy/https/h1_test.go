// SPDX-License-Identifier: Apache-2.0

// The HTTP/1.1 server on the wire: pipelining, Expect: 100-continue,
// HTTP/1.0, chunked uploads, unread bodies and malformed requests, with a
// raw TLS connection as the client.

package https

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// rawConn is an HTTP/1.1 client connection to the fixture's proxy that
// writes exactly the bytes a test gives it.
type rawConn struct {
	t  *testing.T
	c  *tls.Conn
	br *bufio.Reader
}

func (f *fixture) raw(t *testing.T) *rawConn {
	t.Helper()
	c, err := tls.Dial("tcp", f.proxy.Addr().String(), &tls.Config{
		ServerName: "management.azure.com", RootCAs: f.nodeCA.Pool(), NextProtos: []string{"http/1.1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

func (r *rawConn) send(s string) {
	r.t.Helper()
	if _, err := io.WriteString(r.c, s); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rawConn) response(method string) (*http.Response, string) {
	r.t.Helper()
	resp, err := http.ReadResponse(r.br, &http.Request{Method: method})
	if err != nil {
		r.t.Fatalf("read response: %v", err)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("read body: %v", err)
	}
	return resp, string(b)
}

func TestH1Wire(t *testing.T) {
	f := newFixture(t, "passthrough")
	sub := f.srv.SubscriptionID()
	list := "/subscriptions/" + sub + "/resourcegroups?api-version=2021-04-01"
	rg := "/subscriptions/" + sub + "/resourcegroups/rg-new?api-version=2021-04-01"
	auth := "Authorization: Bearer " + f.agentTok + "\r\n"
	get := "GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\n" + auth + "\r\n"
	putBody := `{"location":"westeurope"}`

	t.Run("pipelined requests are answered in order", func(t *testing.T) {
		r := f.raw(t)
		r.send(get + get)
		for i := range 2 {
			resp, body := r.response("GET")
			if resp.StatusCode != 200 || !strings.Contains(body, "rg-a") {
				t.Fatalf("response %d: %d %s", i, resp.StatusCode, body)
			}
		}
	})

	t.Run("Expect: 100-continue is answered before the body is sent", func(t *testing.T) {
		r := f.raw(t)
		r.send(fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: management.azure.com\r\n%sContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n", rg, auth, len(putBody)))
		line, err := r.br.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 ") {
			t.Fatalf("first line %q, %v: want 100 Continue", line, err)
		}
		if blank, _ := r.br.ReadString('\n'); blank != "\r\n" {
			t.Fatalf("100 Continue followed by %q", blank)
		}
		r.send(putBody)
		resp, body := r.response("PUT")
		if resp.StatusCode/100 != 2 || !strings.Contains(body, "rg-new") {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("a chunked upload goes through", func(t *testing.T) {
		r := f.raw(t)
		r.send(fmt.Sprintf("PUT %s HTTP/1.1\r\nHost: management.azure.com\r\n%sContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", rg, auth, len(putBody), putBody))
		resp, body := r.response("PUT")
		if resp.StatusCode/100 != 2 {
			t.Fatalf("PUT: %d %s", resp.StatusCode, body)
		}
		r.send(get) // and the connection goes on
		if resp, _ := r.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("GET after a chunked upload: %d", resp.StatusCode)
		}
	})

	t.Run("a denied request's unread body does not break the next request", func(t *testing.T) {
		r := f.raw(t)
		del := "DELETE " + rg + " HTTP/1.1\r\nHost: management.azure.com\r\n" + auth + "Content-Length: 10\r\n\r\n0123456789"
		r.send(del + get)
		resp, body := r.response("DELETE")
		if resp.StatusCode != 403 || !strings.Contains(body, CodeDisallowed) {
			t.Fatalf("DELETE: %d %s", resp.StatusCode, body)
		}
		if resp, body := r.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("GET after a denied request with a body: %d %s", resp.StatusCode, body)
		}
	})

	t.Run("HTTP/1.0 gets its response and the connection closes", func(t *testing.T) {
		r := f.raw(t)
		r.send("GET " + list + " HTTP/1.0\r\nHost: management.azure.com\r\n" + auth + "\r\n")
		resp, body := r.response("GET")
		if resp.StatusCode != 200 || !strings.Contains(body, "rg-a") || !resp.Close {
			t.Fatalf("HTTP/1.0: %d close=%v %s", resp.StatusCode, resp.Close, body)
		}
		if n, err := r.br.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("after an HTTP/1.0 response: read %d, %v; want EOF", n, err)
		}
	})

	t.Run("Connection: close is honoured", func(t *testing.T) {
		r := f.raw(t)
		r.send(strings.Replace(get, "\r\n\r\n", "\r\nConnection: close\r\n\r\n", 1))
		resp, _ := r.response("GET")
		if resp.StatusCode != 200 || !resp.Close {
			t.Fatalf("%d close=%v", resp.StatusCode, resp.Close)
		}
		if _, err := r.br.Read(make([]byte, 1)); err != io.EOF {
			t.Fatalf("connection still open: %v", err)
		}
	})

	bad := []struct{ name, req string }{
		{"garbage request line", "GARBAGE\r\n\r\n"},
		{"missing Host", "GET " + list + " HTTP/1.1\r\n" + auth + "\r\n"},
		{"bad header", "GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nNo colon here\r\n\r\n"},
		{"unknown expectation", "GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nExpect: teapot\r\n\r\n"},
	}
	for _, tt := range bad {
		t.Run("refused: "+tt.name, func(t *testing.T) {
			r := f.raw(t)
			r.send(tt.req)
			resp, _ := r.response("GET")
			if resp.StatusCode/100 != 4 || !resp.Close {
				t.Fatalf("%d close=%v, want a 4xx that closes", resp.StatusCode, resp.Close)
			}
		})
	}

	t.Run("headers trickled past the header timeout end the connection", func(t *testing.T) {
		f.h.hdrTimeout = 300 * time.Millisecond
		defer func() { f.h.hdrTimeout = 0 }()
		r := f.raw(t)
		start := time.Now()
		r.send("GET " + list + " HTTP/1.1\r\n")
		// A byte every 100 ms: each read is quick, all of them are not.
		for i := 0; time.Since(start) < 2*time.Second; i++ {
			if _, err := io.WriteString(r.c, "X"); err != nil {
				break // the proxy closed the connection
			}
			time.Sleep(100 * time.Millisecond)
		}
		// The proxy closes, answering at most a 4xx.
		_ = r.c.SetReadDeadline(time.Now().Add(time.Second))
		if resp, err := http.ReadResponse(r.br, &http.Request{Method: "GET"}); err == nil && (resp.StatusCode/100 != 4 || !resp.Close) {
			t.Fatalf("the proxy answered %d (close %v) to headers that never ended", resp.StatusCode, resp.Close)
		}
		if _, err := r.br.ReadByte(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the connection is still open after the header timeout: %v", err)
		}
		if el := time.Since(start); el > 1900*time.Millisecond {
			t.Errorf("the connection lasted %v, want it closed near the 300 ms header timeout", el)
		}
	})

	t.Run("request headers past the limit are refused", func(t *testing.T) {
		r := f.raw(t)
		r.send("GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\n")
		big := "X-Big: " + strings.Repeat("a", 64<<10) + "\r\n"
		go func() {
			for range (maxRequestHeader / len(big)) + 2 {
				if _, err := io.WriteString(r.c, big); err != nil {
					return
				}
			}
		}()
		resp, _ := r.response("GET")
		if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
			t.Fatalf("%d, want 431", resp.StatusCode)
		}
	})
}
