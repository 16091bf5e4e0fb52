// SPDX-License-Identifier: Apache-2.0

package l7proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReadConnect(t *testing.T) {
	ports := []uint16{443, 5432}
	tests := []struct {
		req        string
		host       string
		port       uint16
		wantStatus int
	}{
		{"CONNECT management.azure.com:443 HTTP/1.1\r\nHost: management.azure.com:443\r\n\r\n", "management.azure.com", 443, 0},
		{"CONNECT [::1]:5432 HTTP/1.1\r\n\r\n", "::1", 5432, 0},
		{"CONNECT 10.0.0.1:22 HTTP/1.1\r\n\r\n", "", 0, http.StatusForbidden},
		{"CONNECT :443 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"CONNECT host:0 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"CONNECT host:99999 HTTP/1.1\r\n\r\n", "", 0, http.StatusBadRequest},
		{"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", 0, http.StatusMethodNotAllowed},
		{"\x16\x03\x01\x02\x00\x01", "", 0, http.StatusBadRequest},
		{"garbage\r\n\r\n", "", 0, http.StatusBadRequest},
	}
	for _, tt := range tests {
		host, port, err := readConnect(bufio.NewReader(strings.NewReader(tt.req)), ports)
		if tt.wantStatus != 0 {
			if err == nil || err.Status != tt.wantStatus {
				t.Errorf("%q: %v, want status %d", tt.req, err, tt.wantStatus)
			}
			continue
		}
		if err != nil || host != tt.host || port != tt.port {
			t.Errorf("%q = %q %d %v, want %q %d", tt.req, host, port, err, tt.host, tt.port)
		}
	}
}

func FuzzReadConnect(f *testing.F) {
	f.Add("CONNECT management.azure.com:443 HTTP/1.1\r\nHost: management.azure.com:443\r\n\r\n")
	f.Add("CONNECT [::1]:5432 HTTP/1.1\r\nProxy-Authorization: Basic eA==\r\n\r\n")
	f.Add("\x16\x03\x01")
	f.Fuzz(func(t *testing.T, req string) {
		host, port, err := readConnect(bufio.NewReader(strings.NewReader(req)), []uint16{443})
		if err != nil {
			if err.Status < 400 || err.Reason == "" {
				t.Fatalf("refusal without status or reason: %+v", err)
			}
			return
		}
		if host == "" || port != 443 {
			t.Fatalf("accepted %q: host %q port %d", req, host, port)
		}
	})
}

// Connect asks Admit before opening a tunnel: refused, the client reads
// why in a 503; admitted, it gets its tunnel.
func TestConnectAdmit(t *testing.T) {
	tests := []struct {
		name       string
		admit      func() error
		wantStatus int
		wantBody   string
	}{
		{"admitted", func() error { return nil }, http.StatusOK, ""},
		{"no admission check", nil, http.StatusOK, ""},
		{"refused", func() error { return errors.New("this node has no policy yet") }, http.StatusServiceUnavailable, "this node has no policy yet\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			type result struct {
				conn *Conn
				err  error
			}
			done := make(chan result, 1)
			go func() {
				c, err := ln.AcceptTCP()
				if err != nil {
					done <- result{err: err}
					return
				}
				conn, err := Connect(t.Context(), c, ConnectConfig{Ports: []uint16{443}, Admit: tt.admit})
				done <- result{conn, err}
			}()
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, "CONNECT 127.0.0.9:443 HTTP/1.1\r\nHost: 127.0.0.9:443\r\n\r\n"); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
			if err != nil {
				t.Fatal(err)
			}
			var body []byte
			if resp.StatusCode != http.StatusOK {
				body, _ = io.ReadAll(resp.Body) // a tunnel's body never ends
			}
			r := <-done
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				var ce *ConnectError
				if string(body) != tt.wantBody || !errors.As(r.err, &ce) || ce.Status != tt.wantStatus {
					t.Fatalf("body %q, error %v: want %q and a ConnectError", body, r.err, tt.wantBody)
				}
				return
			}
			if r.err != nil || r.conn.Original.Dst.String() != "127.0.0.9:443" {
				t.Fatalf("tunnel %+v, %v: want one to 127.0.0.9:443", r.conn, r.err)
			}
			r.conn.Close()
		})
	}
}
