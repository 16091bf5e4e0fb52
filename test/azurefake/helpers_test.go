// SPDX-License-Identifier: Apache-2.0

// Test helpers: a server on 127.0.0.1:0 and a plain net/http client that
// dials it for every host name.

package azurefake

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// startTest starts a server on 127.0.0.1:0 and closes it when t ends.
func startTest(t *testing.T, opts Options) *Server {
	t.Helper()
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	srv, err := Start(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return srv
}

// client is a plain HTTP client that sends every request, whatever its
// host, to srv, trusting only srv's CA.
type client struct {
	t   *testing.T
	srv *Server
	hc  *http.Client
}

func newClient(t *testing.T, srv *Server) *client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", srv.Addr().String())
		},
		TLSClientConfig:   &tls.Config{RootCAs: srv.CA().Pool()},
		ForceAttemptHTTP2: true,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &client{t: t, srv: srv, hc: &http.Client{Transport: tr}}
}

// response is what a request got back; body is the decoded JSON, if any.
type response struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// do sends a request with an optional bearer token and JSON body.
func (c *client) do(method, u, token string, body any) response {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, u, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.send(req)
}

// form posts a form, as MSAL does to the token endpoint.
func (c *client) form(u string, v url.Values) response {
	c.t.Helper()
	req, err := http.NewRequestWithContext(c.t.Context(), http.MethodPost, u, strings.NewReader(v.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.send(req)
}

func (c *client) send(req *http.Request) response {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	r := response{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			r.body = nil
		}
	}
	return r
}

// armErrorCode returns error.code of an ARM or Key Vault error body.
func (r response) armErrorCode() string {
	e, _ := r.body["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// mint mints a token or fails t.
func mint(t *testing.T, srv *Server, o TokenOptions) string {
	t.Helper()
	tok, err := srv.MintToken(o)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// jwtKeySet is a JWKS read back from the server, to verify tokens the way
// a relying party does.
type jwtKeySet map[string]*rsa.PublicKey

func (s *jwtKeySet) add(t *testing.T, m map[string]any) {
	t.Helper()
	n, err1 := base64.RawURLEncoding.DecodeString(m["n"].(string))
	e, err2 := base64.RawURLEncoding.DecodeString(m["e"].(string))
	if err1 != nil || err2 != nil {
		t.Fatalf("key %v: %v %v", m["kid"], err1, err2)
	}
	if *s == nil {
		*s = jwtKeySet{}
	}
	(*s)[m["kid"].(string)] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
}

func (s jwtKeySet) keyfunc(tok *jwt.Token) (any, error) {
	kid, _ := tok.Header["kid"].(string)
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("no key %q", kid)
}
