// SPDX-License-Identifier: Apache-2.0

// Tests of the HTTP/1.1 parsers: the request parser against net/http's
// (differentially, and fuzzed), the response parser on the framings a
// server uses, and both on hostile input.

package https

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name    string
		wire    string
		wantErr error // nil: accepted; errAny: any error
		body    string
		length  int64
		close   bool
	}{
		{name: "GET", wire: "GET /subscriptions?api-version=2022-12-01 HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer x\r\n\r\n"},
		{name: "bare LF", wire: "GET / HTTP/1.1\nHost: h\n\n"},
		{name: "Content-Length", wire: "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello", body: "hello", length: 5},
		{name: "repeated equal Content-Length", wire: "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", body: "hello", length: 5},
		{name: "chunked", wire: "PUT /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n", body: "hello", length: -1},
		{name: "HTTP/1.0 closes", wire: "GET / HTTP/1.0\r\n\r\n", close: true},
		{name: "Connection: close", wire: "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, close\r\n\r\n", close: true},
		{name: "absolute form", wire: "GET https://management.azure.com/x HTTP/1.1\r\nHost: other\r\n\r\n"},
		{name: "lower-case names", wire: "GET / HTTP/1.1\r\nhost: h\r\nx-ms-client-request-id: 1\r\ncontent-type: a\r\n\r\n"},

		{name: "differing Content-Length", wire: "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!", wantErr: errMalformed},
		{name: "signed Content-Length", wire: "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: +5\r\n\r\nhello", wantErr: errMalformed},
		{name: "Content-Length and chunked", wire: "PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", wantErr: errFramingConflict},
		{name: "gzip coding", wire: "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", wantErr: errUnsupportedTE},
		{name: "chunked twice", wire: "PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errUnsupportedTE},
		{name: "Transfer-Encoding in 1.0", wire: "PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", wantErr: errMalformed},
		{name: "obs-fold", wire: "GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", wantErr: errObsFold},
		{name: "space before colon", wire: "GET / HTTP/1.1\r\nHost : h\r\n\r\n", wantErr: errMalformed},
		{name: "no colon", wire: "GET / HTTP/1.1\r\nHost h\r\n\r\n", wantErr: errMalformed},
		{name: "CR inside a value", wire: "GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", wantErr: errMalformed},
		{name: "NUL in a value", wire: "GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n", wantErr: errMalformed},
		{name: "two Hosts", wire: "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", wantErr: errMalformed},
		{name: "bad Host", wire: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", wantErr: errMalformed},
		{name: "HTTP/2.0 line", wire: "GET / HTTP/2.0\r\nHost: h\r\n\r\n", wantErr: errMalformed},
		{name: "lower-case version", wire: "GET / http/1.1\r\nHost: h\r\n\r\n", wantErr: errMalformed},
		{name: "CONNECT", wire: "CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n", wantErr: errMalformed},
		{name: "relative target", wire: "GET x HTTP/1.1\r\nHost: h\r\n\r\n", wantErr: errMalformed},
		{name: "leading blank line", wire: "\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", wantErr: errMalformed},
		{name: "extra space", wire: "GET  / HTTP/1.1\r\nHost: h\r\n\r\n", wantErr: errMalformed},
		{name: "too large", wire: "GET / HTTP/1.1\r\nX: " + strings.Repeat("a", 5000) + "\r\n\r\n", wantErr: errHeaderTooLarge},
		{name: "cut short", wire: "GET / HTTP/1.1\r\nHost: h\r\n", wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hr headerReader
			br := bufio.NewReaderSize(strings.NewReader(tt.wire), 64) // small: long lines come in pieces
			r, err := hr.readRequest(br, 4096)
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(r.Body)
			if err != nil {
				t.Fatal(err)
			}
			if string(body) != tt.body || r.ContentLength != tt.length || r.Close != tt.close {
				t.Errorf("body %q length %d close %v, want %q %d %v", body, r.ContentLength, r.Close, tt.body, tt.length, tt.close)
			}
			if rest, _ := io.ReadAll(br); len(rest) > 0 {
				t.Errorf("%q left after the request", rest)
			}
			compareWithNetHTTP(t, []byte(tt.wire), r, body)
		})
	}
}

// compareWithNetHTTP reads wire with net/http and requires that it read
// the same request as ours: method, target, Host, headers, body.
func compareWithNetHTTP(t *testing.T, wire []byte, ours *http.Request, body []byte) {
	t.Helper()
	theirs, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(wire)))
	if err != nil {
		t.Fatalf("we read a request net/http refuses (%v): %q", err, wire)
	}
	theirBody, err := io.ReadAll(theirs.Body)
	if err != nil {
		t.Fatalf("we read a body net/http refuses (%v): %q", err, wire)
	}
	if !bytes.Equal(body, theirBody) {
		t.Errorf("body %q, net/http's %q", body, theirBody)
	}
	if ours.Method != theirs.Method || ours.RequestURI != theirs.RequestURI || ours.Host != theirs.Host ||
		ours.URL.String() != theirs.URL.String() || ours.ProtoMinor != theirs.ProtoMinor || ours.Close != theirs.Close {
		t.Errorf("read %s %s (%s) Host %q 1.%d close=%v; net/http %s %s (%s) Host %q 1.%d close=%v",
			ours.Method, ours.RequestURI, ours.URL, ours.Host, ours.ProtoMinor, ours.Close,
			theirs.Method, theirs.RequestURI, theirs.URL, theirs.Host, theirs.ProtoMinor, theirs.Close)
	}
	if !reflect.DeepEqual(ours.Header, theirs.Header) {
		t.Errorf("headers %v, net/http's %v", ours.Header, theirs.Header)
	}
}

// FuzzReadRequest: the request parser accepts nothing net/http's refuses,
// and reads what both accept as net/http does.
func FuzzReadRequest(f *testing.F) {
	for _, s := range []string{
		"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
		"PUT /x?y=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc",
		"PUT /x HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET http://a/b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n",
		"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, wire []byte) {
		var hr headerReader
		r, err := hr.readRequest(bufio.NewReader(bytes.NewReader(wire)), 1<<20)
		if err != nil {
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // a body cut short; net/http's would fail too
		}
		compareWithNetHTTP(t, wire, r, body)
	})
}

func TestReadResponse(t *testing.T) {
	get := &http.Request{Method: "GET"}
	head := &http.Request{Method: "HEAD"}
	tests := []struct {
		name    string
		req     *http.Request
		wire    string
		wantErr error
		status  int
		body    string
		length  int64
		close   bool
		rest    string // what is left for the next response
	}{
		{name: "Content-Length", req: get, wire: "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}NEXT",
			status: 200, body: "{}", length: 2, rest: "NEXT"},
		{name: "chunked with trailer", req: get, wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\nX-T: 1\r\n\r\nNEXT",
			status: 200, body: "{}", length: -1, rest: "NEXT"},
		{name: "chunked wins over length, then closes", req: get, wire: "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
			status: 200, body: "{}", length: -1, close: true},
		{name: "until close", req: get, wire: "HTTP/1.1 200 OK\r\n\r\nall of it", status: 200, body: "all of it", length: -1, close: true},
		{name: "204 has no body", req: get, wire: "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\nNEXT", status: 204, length: 0, rest: "NEXT"},
		{name: "HEAD has no body", req: head, wire: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nNEXT", status: 200, length: 5, rest: "NEXT"},
		{name: "no reason phrase", req: get, wire: "HTTP/1.1 202\r\nContent-Length: 0\r\n\r\n", status: 202, length: 0},
		{name: "1.0 closes", req: get, wire: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", length: 1, close: true},
		{name: "Connection: close", req: get, wire: "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", status: 200, body: "x", length: 1, close: true},
		{name: "100 Continue", req: get, wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", status: 100, length: 0, rest: "HTTP/1.1 200 OK\r\n"},

		{name: "short body", req: get, wire: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nabc", status: 200, wantErr: io.ErrUnexpectedEOF},
		{name: "bad chunk", req: get, wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", status: 200, wantErr: errAny},
		{name: "differing lengths", req: get, wire: "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", wantErr: errMalformed},
		{name: "gzip coding", req: get, wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", wantErr: errUnsupportedTE},
		{name: "bad status", req: get, wire: "HTTP/1.1 2000 OK\r\n\r\n", wantErr: errMalformed},
		{name: "status 600", req: get, wire: "HTTP/1.1 600 Huh\r\n\r\n", wantErr: errMalformed},
		{name: "not HTTP", req: get, wire: "SSH-2.0-OpenSSH\r\n\r\n", wantErr: errMalformed},
		{name: "obs-fold", req: get, wire: "HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n", wantErr: errObsFold},
		{name: "huge trailer", req: get, wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: " + strings.Repeat("a", maxTrailer) + "\r\n\r\n",
			status: 200, wantErr: errHeaderTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hr headerReader
			br := bufio.NewReaderSize(strings.NewReader(tt.wire), 64)
			resp, err := hr.readResponse(br, tt.req)
			if err == nil && tt.status != 0 {
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d", resp.StatusCode, tt.status)
				}
				var body []byte
				body, err = io.ReadAll(resp.Body)
				if err == nil && (string(body) != tt.body || resp.ContentLength != tt.length || resp.Close != tt.close) {
					t.Errorf("body %q length %d close %v, want %q %d %v", body, resp.ContentLength, resp.Close, tt.body, tt.length, tt.close)
				}
			}
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
				t.Errorf("left %q for the next response, want %q", rest, tt.rest)
			}
		})
	}
}

// FuzzReadResponse: whatever a server sends, the response parser neither
// panics nor reads past what it was given, and a body it frames by length
// is exactly that long.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"), false)
	f.Add([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"), false)
	f.Add([]byte("HTTP/1.1 304 Not Modified\r\n\r\n"), true)
	f.Fuzz(func(t *testing.T, wire []byte, head bool) {
		req := &http.Request{Method: "GET"}
		if head {
			req.Method = "HEAD"
		}
		var hr headerReader
		resp, err := hr.readResponse(bufio.NewReader(bytes.NewReader(wire)), req)
		if err != nil {
			return
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, int64(len(wire))+1))
		if len(body) > len(wire) {
			t.Fatalf("read a %d-byte body from %d bytes", len(body), len(wire))
		}
		if err == nil && resp.ContentLength >= 0 && resp.Body != http.NoBody && int64(len(body)) != resp.ContentLength {
			t.Fatalf("body of %d bytes, Content-Length %d", len(body), resp.ContentLength)
		}
	})
}
