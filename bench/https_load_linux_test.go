// SPDX-License-Identifier: Apache-2.0

// The HTTPS benchmark's load client: keep-alive connections that GET the
// resource group list, one request at a time each (runConns).

package bench

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
)

// loadSpec is what an HTTPS load client does.
type loadSpec struct {
	Addr  string `json:"addr"`  // where every connection goes
	CAPEM []byte `json:"caPEM"` // the CA that issued the certificate for armHost
	Token string `json:"token"` // the bearer token sent
	H2    bool   `json:"h2"`    // HTTP/2 (net/http) instead of HTTP/1.1
	loadShape
}

func runLoad(ctx context.Context, l loadSpec) (loadResult, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(l.CAPEM) {
		return loadResult{}, errors.New("no CA certificate")
	}
	return runConns(ctx, l.loadShape, func(ctx context.Context) (doer, error) { return dial(ctx, l, pool) })
}

func dial(ctx context.Context, l loadSpec, pool *x509.CertPool) (doer, error) {
	cfg := &tls.Config{ServerName: armHost, RootCAs: pool}
	if l.H2 {
		return dialH2(l, cfg), nil
	}
	cfg.NextProtos = []string{"http/1.1"}
	d := tls.Dialer{Config: cfg}
	c, err := d.DialContext(ctx, "tcp", l.Addr)
	if err != nil {
		return nil, err
	}
	return &h1Conn{c: c, br: bufio.NewReader(c), req: listRequest(l.Token)}, nil
}

// h1Conn speaks HTTP/1.1 on one connection with as little as it takes:
// a fixed request, and the response parsed by net/http.
type h1Conn struct {
	c   net.Conn
	br  *bufio.Reader
	req []byte
}

func (h *h1Conn) do(context.Context) error {
	if _, err := h.c.Write(h.req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(h.br, nil)
	if err != nil {
		return err
	}
	return check(resp)
}

func (h *h1Conn) close() { h.c.Close() }

// h2Conn is net/http's HTTP/2 client on a connection of its own.
type h2Conn struct {
	tr  *http.Transport
	req *http.Request
}

func dialH2(l loadSpec, cfg *tls.Config) *h2Conn {
	tr := &http.Transport{
		TLSClientConfig: cfg,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, l.Addr)
		},
		Protocols: new(http.Protocols),
	}
	tr.Protocols.SetHTTP2(true)
	req, _ := http.NewRequest(http.MethodGet, "https://"+armHost+listPath, nil)
	req.Header.Set("User-Agent", "azsdk-go-armresources/v3.0.0 (go1.26; linux)")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+l.Token)
	return &h2Conn{tr: tr, req: req}
}

func (h *h2Conn) do(context.Context) error {
	resp, err := h.tr.RoundTrip(h.req)
	if err != nil {
		return err
	}
	if resp.ProtoMajor != 2 {
		resp.Body.Close()
		return fmt.Errorf("answered over %s, want HTTP/2", resp.Proto)
	}
	return check(resp)
}

func (h *h2Conn) close() { h.tr.CloseIdleConnections() }

// check reads and closes resp's body, and says whether it is the list.
func check(resp *http.Response) error {
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	n, err := io.Copy(io.Discard, resp.Body)
	switch {
	case err != nil:
		return fmt.Errorf("read body: %w", err)
	case n != int64(len(listJSON)):
		return fmt.Errorf("body of %d bytes, want %d", n, len(listJSON))
	}
	return nil
}
