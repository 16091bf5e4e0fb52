// SPDX-License-Identifier: Apache-2.0

// Tests of Peek on real ClientHellos (openssl, curl, crypto/tls), on
// fragmented ones, on other protocols and on hostile input.

package tlsterm

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"testing"
	"time"
)

func TestPeekCaptured(t *testing.T) {
	files := helloFiles(t)
	tests := []struct {
		file string
		sni  string
		alpn []string
	}{
		{"openssl-sni-alpn.bin", "management.azure.com", []string{"h2", "http/1.1"}},
		{"openssl-tls12-nosni.bin", "", nil},
		{"curl-h2.bin", "myvault.vault.azure.net", []string{"h2", "http/1.1"}},
		{"go-default.bin", "management.azure.com", []string{"h2", "http/1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw, ok := files[tt.file]
			if !ok {
				t.Fatalf("no testdata/hello/%s", tt.file)
			}
			for _, chunk := range []int{0, 1, 7} {
				h, err := Peek(&memConn{data: raw, chunk: chunk}, time.Second)
				if err != nil {
					t.Fatalf("chunk %d: %v", chunk, err)
				}
				if h.ServerName != tt.sni || !slices.Equal(h.ALPN, tt.alpn) {
					t.Errorf("chunk %d: got SNI %q ALPN %q, want %q %q", chunk, h.ServerName, h.ALPN, tt.sni, tt.alpn)
				}
				if !bytes.Equal(h.Raw, raw) {
					t.Errorf("chunk %d: Raw is %d bytes, want the %d of the hello", chunk, len(h.Raw), len(raw))
				}
			}
		})
	}
}

func TestPeekGoClient(t *testing.T) {
	tests := []struct {
		name string
		cfg  *tls.Config
		sni  string
		alpn []string
	}{
		{"sni and alpn", &tls.Config{ServerName: "management.azure.com", NextProtos: []string{"h2", "http/1.1"}}, "management.azure.com", []string{"h2", "http/1.1"}},
		{"http1 only", &tls.Config{ServerName: "x.blob.core.windows.net", NextProtos: []string{"http/1.1"}}, "x.blob.core.windows.net", []string{"http/1.1"}},
		{"no alpn", &tls.Config{ServerName: "Vault.Vault.Azure.Net"}, "Vault.Vault.Azure.Net", nil},
		{"ip: no sni", &tls.Config{ServerName: "10.0.0.1"}, "", nil},
		{"tls12", &tls.Config{ServerName: "a.example", MaxVersion: tls.VersionTLS12}, "a.example", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := net.Dial("tcp", ln.Addr().String())
				if err != nil {
					return
				}
				defer c.Close()
				_ = tls.Client(c, tt.cfg).Handshake() // ends when the server closes
			}()
			c, err := ln.Accept()
			if err != nil {
				t.Fatal(err)
			}
			h, err := Peek(c, 5*time.Second)
			c.Close()
			<-done
			if err != nil {
				t.Fatal(err)
			}
			if h.ServerName != tt.sni || !slices.Equal(h.ALPN, tt.alpn) {
				t.Errorf("got SNI %q ALPN %q, want %q %q", h.ServerName, h.ALPN, tt.sni, tt.alpn)
			}
		})
	}
}

func TestPeekFragmented(t *testing.T) {
	raw := helloFiles(t)["curl-h2.bin"]
	for _, size := range []int{1, 2, 3, 4, 5, 100, 16384} {
		h, err := Peek(&memConn{data: refragment(t, raw, size)}, time.Second)
		if err != nil {
			t.Fatalf("records of %d: %v", size, err)
		}
		if h.ServerName != "myvault.vault.azure.net" || len(h.ALPN) != 2 {
			t.Errorf("records of %d: got %q %q", size, h.ServerName, h.ALPN)
		}
	}
}

// hello builds a ClientHello record around extensions.
func hello(exts ...[]byte) []byte {
	body := []byte{3, 3}
	body = append(body, make([]byte, 32)...)
	body = append(body, 0)                // session id
	body = append(body, 0, 2, 0x13, 0x01) // cipher suites
	body = append(body, 1, 0)             // compression
	var e []byte
	for _, x := range exts {
		e = append(e, x...)
	}
	body = append(body, byte(len(e)>>8), byte(len(e)))
	body = append(body, e...)
	msg := append([]byte{1, 0, byte(len(body) >> 8), byte(len(body))}, body...)
	return append([]byte{0x16, 3, 1, byte(len(msg) >> 8), byte(len(msg))}, msg...)
}

// sni builds a server_name extension with one host name.
func sni(name string) []byte {
	n := len(name)
	return append([]byte{0, 0, byte((n + 5) >> 8), byte(n + 5), byte((n + 3) >> 8), byte(n + 3), 0, byte(n >> 8), byte(n)}, name...)
}

func TestPeekErrors(t *testing.T) {
	sslRequest := []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}
	tests := []struct {
		name    string
		in      []byte
		want    error
		wantRaw int // bytes of Raw; -1: all of in
	}{
		{"postgres SSLRequest", sslRequest, ErrNotTLS, -1},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), ErrNotTLS, -1},
		{"ssh", []byte("SSH-2.0-OpenSSH_9.2\r\n"), ErrNotTLS, -1},
		{"sslv2 hello", []byte{0x80, 0x2e, 0x01, 0x00, 0x02}, ErrNotTLS, -1},
		{"handshake byte, then not tls", []byte{0x16, 0x47, 0x45, 0x54, 0x20}, ErrNotTLS, -1},
		{"empty", nil, io.EOF, 0},
		{"truncated header", []byte{0x16, 3, 1}, io.ErrUnexpectedEOF, -1},
		{"truncated record", []byte{0x16, 3, 1, 0, 10, 1, 0}, io.ErrUnexpectedEOF, -1},
		{"record overflow", []byte{0x16, 3, 1, 0x40, 0x01}, ErrMalformed, -1},
		{"empty record", []byte{0x16, 3, 1, 0, 0}, ErrMalformed, -1},
		{"server hello", []byte{0x16, 3, 3, 0, 4, 2, 0, 0, 0}, ErrMalformed, -1},
		{"hello too large", []byte{0x16, 3, 1, 0, 4, 1, 0xff, 0xff, 0xff}, ErrTooLarge, -1},
		{"alert inside hello", []byte{0x16, 3, 1, 0, 2, 1, 0, 0x15, 3, 1, 0, 2, 2, 40}, ErrMalformed, -1},
		{"short body", []byte{0x16, 3, 1, 0, 6, 1, 0, 0, 2, 3, 3}, ErrMalformed, -1},
		{"sni trailing dot", hello(sni("management.azure.com.")), ErrMalformed, -1},
		{"sni empty name", hello(sni("")), ErrMalformed, -1},
		{"duplicate sni", hello(sni("a.example"), sni("b.example")), ErrMalformed, -1},
		{"empty alpn list", hello([]byte{0, 16, 0, 2, 0, 0}), ErrMalformed, -1},
		{"empty alpn name", hello([]byte{0, 16, 0, 3, 0, 1, 0}), ErrMalformed, -1},
		{"extension overruns", hello([]byte{0, 16, 0, 9, 0, 1}), ErrMalformed, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := Peek(&memConn{data: tt.in}, time.Second)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			want := tt.wantRaw
			if want < 0 {
				want = len(tt.in)
			}
			if !bytes.Equal(h.Raw, tt.in[:want]) {
				t.Errorf("Raw: got %x, want %x", h.Raw, tt.in[:want])
			}
		})
	}
}

func TestPeekValidBuilt(t *testing.T) {
	h, err := Peek(&memConn{data: hello(sni("A.Example"), []byte{0, 16, 0, 5, 0, 3, 2, 'h', '2'})}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if h.ServerName != "A.Example" || !slices.Equal(h.ALPN, []string{"h2"}) {
		t.Errorf("got %q %q", h.ServerName, h.ALPN)
	}
}

// TestPeekLimit feeds an endless hello in one-byte records: Peek stops at
// MaxHelloSize bytes.
func TestPeekLimit(t *testing.T) {
	in := []byte{0x16, 3, 1, 0, 4, 1, 0, 0xff, 0x00} // a 65280-byte hello
	for len(in) < 2*MaxHelloSize {
		in = append(in, 0x16, 3, 1, 0, 1, 0)
	}
	c := &memConn{data: in}
	_, err := Peek(c, time.Second)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
	if c.off > MaxHelloSize {
		t.Errorf("read %d bytes, more than MaxHelloSize", c.off)
	}
}

// TestPeekTimeout: a client that stalls mid-hello gets a deadline error,
// and the deadline is cleared for what comes next.
func TestPeekTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if _, err := client.Write([]byte{0x16, 3, 1}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	h, err := Peek(server, 200*time.Millisecond)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("got %v, want a deadline error", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("Peek returned after %v, want about 200ms", d)
	}
	if len(h.Raw) != 3 {
		t.Errorf("Raw: got %d bytes, want 3", len(h.Raw))
	}
	time.Sleep(50 * time.Millisecond)
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := server.Read(b); err != nil {
		t.Fatalf("read after Peek: %v (deadline not cleared?)", err)
	}
}

func TestReplay(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	go func() { _, _ = a.Write([]byte("world")) }()
	c := Replay(b, []byte("hello "), netip.AddrPort{})
	got := make([]byte, 0, 11)
	buf := make([]byte, 4)
	for len(got) < 11 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello world" {
		t.Errorf("got %q", got)
	}
	if c.NetConn() != b {
		t.Error("NetConn is not the underlying connection")
	}
}
