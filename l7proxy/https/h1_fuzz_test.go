// SPDX-License-Identifier: Apache-2.0

// The HTTP/1.1 server against hostile bytes: whatever a workload sends,
// the proxy answers with HTTP/1.1 responses or closes the connection, in
// bounded time, and never crashes.

package https

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func FuzzH1Server(f *testing.F) {
	fx := newFixture(f, "passthrough")
	list := "/subscriptions/" + fx.srv.SubscriptionID() + "/resourcegroups?api-version=2021-04-01"
	get := "GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\n\r\n"
	for _, s := range []string{
		get,
		get + get,
		"HEAD " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\n\r\n" + get,
		"GET " + list + " HTTP/1.0\r\nAuthorization: Bearer TOKEN\r\n\r\n",
		"PUT " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nbad\r\n0\r\n\r\n",
		"PUT " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\nContent-Length: 99999\r\nExpect: 100-continue\r\n\r\n{",
		"POST " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
		"GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\nX-Folded: a\r\n b\r\n\r\n",
		"GET /\x00 HTTP/1.1\r\nHost: management.azure.com\r\n\r\n",
		"GET " + list + " HTTP/1.1\nHost: management.azure.com\nAuthorization: Bearer TOKEN\n\n",
		"CONNECT management.azure.com:443 HTTP/1.1\r\n\r\n",
		"\r\n\r\n\r\nGET / HTTP/9.9\r\n\r\n",
		"GET " + list + " HTTP/1.1\r\nHost: management.azure.com\r\nAuthorization: Bearer TOKEN\r\nConnection: close\r\n\r\n" + get,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		in = bytes.ReplaceAll(in, []byte("TOKEN"), []byte(fx.agentTok))
		c, err := tls.Dial("tcp", fx.proxy.Addr().String(), &tls.Config{
			ServerName: "management.azure.com", RootCAs: fx.nodeCA.Pool(), NextProtos: []string{"http/1.1"},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// Every request the proxy may still wait for ends here: it sees
		// the end of the stream once it has read in.
		_ = c.SetDeadline(time.Now().Add(20 * time.Second))
		_, _ = c.Write(in)
		_ = c.CloseWrite()
		out, err := io.ReadAll(c)
		if errors.Is(err, io.ErrUnexpectedEOF) || (err != nil && strings.Contains(err.Error(), "reset by peer")) {
			err = nil // closed without close_notify: an aborted response
		}
		if err != nil {
			t.Fatalf("reading the proxy's answer to %q: %v", in, err)
		}
		if len(out) == 0 {
			return // closed without a word: the request was malformed
		}
		// Responses, one after another, as a client reads them. HEAD's
		// bodies are empty, so parse for GET only while every response
		// before has had a body or none was declared.
		br := bufio.NewReader(bytes.NewReader(out))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("the proxy answered %q with %q: not HTTP (%v)", in, out, err)
		}
		if resp.ProtoMajor != 1 || resp.StatusCode < 100 || resp.StatusCode > 599 {
			t.Fatalf("the proxy answered %q with %s %d", in, resp.Proto, resp.StatusCode)
		}
	})
}
