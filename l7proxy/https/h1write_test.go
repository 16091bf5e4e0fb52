// SPDX-License-Identifier: Apache-2.0

// Tests of writeRequest: what it writes, read back by net/http's server
// side, is exactly the request meant, one request and nothing more; what it
// cannot write faithfully it refuses.

package https

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

func TestWriteRequest(t *testing.T) {
	tests := []struct {
		name   string
		method string
		uri    string
		host   string
		header http.Header
		body   io.Reader // nil: none
		length int64
		// want: the framing header expected, "" for none.
		wantFraming string
		wantErr     error // errors.Is target; errAny for any error
	}{
		{name: "GET", method: "GET", uri: "/subscriptions/s/resourcegroups?api-version=2021-04-01", host: "management.azure.com",
			header: http.Header{"Authorization": {"Bearer t"}, "Accept": {"application/json"}}},
		{name: "POST without body has Content-Length 0", method: "POST",
			uri:  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a/listKeys?api-version=2023-01-01",
			host: "management.azure.com", wantFraming: "Content-Length: 0"},
		{name: "PUT with body", method: "PUT", uri: "/x", host: "h", body: strings.NewReader(`{"location":"westeurope"}`), length: 25,
			header: http.Header{"Content-Type": {"application/json"}}, wantFraming: "Content-Length: 25"},
		{name: "unknown length is chunked", method: "PUT", uri: "/blob", host: "a.blob.core.windows.net",
			body: iotest.OneByteReader(strings.NewReader("hello, world")), length: -1, wantFraming: "Transfer-Encoding: chunked"},
		{name: "escaped path kept", method: "GET", uri: "/a%2Fb/c%20d?x=1%262", host: "h"},
		{name: "several values", method: "GET", uri: "/", host: "h", header: http.Header{"X-Ms-Thing": {"a", "b"}}},
		{name: "framing headers of the workload ignored", method: "GET", uri: "/", host: "h",
			header: http.Header{"Content-Length": {"99"}, "Transfer-Encoding": {"chunked"}, "Trailer": {"X"}}},
		{name: "empty User-Agent not sent", method: "GET", uri: "/", host: "h", header: http.Header{"User-Agent": {""}}},
		{name: "short body", method: "PUT", uri: "/", host: "h", body: strings.NewReader("abc"), length: 5, wantErr: errBodyLength},
		{name: "long body", method: "PUT", uri: "/", host: "h", body: strings.NewReader("abcdef"), length: 5, wantErr: errBodyLength},
		{name: "CRLF in a value", method: "GET", uri: "/", host: "h",
			header: http.Header{"Authorization": {"Bearer t\r\nX-Evil: 1"}}, wantErr: errAny},
		{name: "LF in a value", method: "GET", uri: "/", host: "h", header: http.Header{"X": {"a\nb"}}, wantErr: errAny},
		{name: "bad name", method: "GET", uri: "/", host: "h", header: http.Header{"X Y": {"1"}}, wantErr: errAny},
		{name: "bad method", method: "GE T", uri: "/", host: "h", wantErr: errAny},
		{name: "bad host", method: "GET", uri: "/", host: "h\r\nX: y", wantErr: errAny},
		{name: "body read error", method: "PUT", uri: "/", host: "h", body: iotest.ErrReader(errBoom), length: -1, wantErr: errBoom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tt.uri)
			if err != nil {
				t.Fatal(err)
			}
			req := &http.Request{Method: tt.method, URL: u, Host: tt.host, Header: tt.header, ContentLength: tt.length}
			if req.Header == nil {
				req.Header = http.Header{}
			}
			var want []byte
			if tt.body != nil {
				want, _ = io.ReadAll(tt.body)
				req.Body = io.NopCloser(bytes.NewReader(want))
				if tt.length < 0 {
					req.Body = io.NopCloser(iotest.OneByteReader(bytes.NewReader(want)))
				}
				if tt.wantErr == errBoom {
					req.Body = io.NopCloser(iotest.ErrReader(errBoom))
				}
			}
			var out bytes.Buffer
			bw := bufio.NewWriter(&out)
			err = writeRequest(bw, req)
			bw.Flush()
			switch {
			case tt.wantErr == errAny && err == nil:
				t.Fatalf("wrote %q, want an error", out.String())
			case tt.wantErr == errAny:
				if bytes.Contains(out.Bytes(), []byte("\r\n\r\n")) {
					t.Errorf("refused, but wrote a whole header first: %q", out.String())
				}
				return
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if tt.wantFraming != "" && !strings.Contains(out.String(), "\r\n"+tt.wantFraming+"\r\n") {
				t.Errorf("wrote %q, want %q in it", out.String(), tt.wantFraming)
			}
			if tt.wantFraming == "" && (strings.Contains(out.String(), "Content-Length") || strings.Contains(out.String(), "Transfer-Encoding")) {
				t.Errorf("wrote %q, want no framing header", out.String())
			}
			readBack(t, out.Bytes(), req, want)
		})
	}
}

var (
	errAny  = errors.New("any error")
	errBoom = errors.New("boom")
)

// readBack reads wire with net/http and checks that it is exactly one
// request, the one meant: method, URI, Host, headers and body.
func readBack(t *testing.T, wire []byte, req *http.Request, body []byte) {
	t.Helper()
	br := bufio.NewReader(bytes.NewReader(wire))
	got, err := http.ReadRequest(br)
	if err != nil {
		t.Fatalf("net/http cannot read %q: %v", wire, err)
	}
	gotBody, err := io.ReadAll(got.Body)
	if err != nil {
		t.Fatalf("net/http cannot read the body of %q: %v", wire, err)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Fatalf("%q left after the request in %q", rest, wire)
	}
	if got.Method != req.Method || got.RequestURI != req.URL.RequestURI() || got.Host != req.Host {
		t.Errorf("read back %s %s Host %s, want %s %s Host %s", got.Method, got.RequestURI, got.Host, req.Method, req.URL.RequestURI(), req.Host)
	}
	if !bytes.Equal(gotBody, body) {
		t.Errorf("body read back %q, want %q", gotBody, body)
	}
	want := http.Header{}
	for k, vs := range req.Header {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length", "Transfer-Encoding", "Trailer":
			continue
		}
		for _, v := range vs {
			if http.CanonicalHeaderKey(k) == "User-Agent" && v == "" {
				continue
			}
			want.Add(k, v)
		}
	}
	got.Header.Del("Content-Length")
	got.Header.Del("Transfer-Encoding")
	for k, vs := range got.Header {
		// net/http trims a value's surrounding spaces: so does every server.
		for i := range vs {
			vs[i] = strings.Trim(vs[i], " \t")
		}
		got.Header[k] = vs
	}
	for k, vs := range want {
		for i := range vs {
			vs[i] = strings.Trim(vs[i], " \t")
		}
		want[k] = vs
	}
	if !reflect.DeepEqual(got.Header, want) {
		t.Errorf("headers read back %v, want %v", got.Header, want)
	}
}

// FuzzWriteRequest: whatever writeRequest agrees to write is read back by
// net/http as exactly one request, the one meant — no header, CR or LF
// of the input can make a second request or change the framing.
func FuzzWriteRequest(f *testing.F) {
	f.Add("GET", "/subscriptions?api-version=1", "management.azure.com", "Authorization", "Bearer x", []byte(nil), int64(0))
	f.Add("POST", "/x", "h", "X-Ms-Client-Request-Id", "1", []byte("{}"), int64(2))
	f.Add("PUT", "/y", "h:443", "Content-Type", "a\r\nb", []byte("body"), int64(-1))
	f.Add("PATCH", "/%zz", "h", "Transfer-Encoding", "chunked", []byte("0\r\n\r\nGET / HTTP/1.1\r\n\r\n"), int64(3))
	f.Fuzz(func(t *testing.T, method, uri, host, name, value string, body []byte, length int64) {
		u, err := url.ParseRequestURI(uri)
		if err != nil {
			return
		}
		if length > int64(len(body)) || length < -1 {
			length = int64(len(body))
		}
		req := &http.Request{Method: method, URL: u, Host: host, Header: http.Header{name: {value}}, ContentLength: length}
		if len(body) > 0 || length != 0 {
			req.Body = io.NopCloser(bytes.NewReader(body))
		}
		var out bytes.Buffer
		bw := bufio.NewWriter(&out)
		if err := writeRequest(bw, req); err != nil {
			return
		}
		bw.Flush()
		want := body
		if length >= 0 {
			want = body[:length]
		}
		readBack(t, out.Bytes(), req, want)
	})
}
