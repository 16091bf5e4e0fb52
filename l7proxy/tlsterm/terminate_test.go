// SPDX-License-Identifier: Apache-2.0

// End-to-end termination: real clients (crypto/tls, openssl s_client,
// curl) through Peek, Replay and a minted leaf, verified against the
// workload root; and upstream verification.

package tlsterm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// termListener terminates TLS on accepted connections the way the proxy
// does: Peek, Replay, tls.Server with the Minter's configuration. The
// original destination is the listener's own address.
type termListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *termListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		h, err := Peek(c, 5*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		dst := c.LocalAddr().(*net.TCPAddr).AddrPort()
		return tls.Server(Replay(c, h.Raw, dst), l.cfg), nil
	}
}

// startTerminating serves HTTP (h2 and HTTP/1.1) behind termination,
// answering every request with its protocol and host; closed when t ends.
func startTerminating(t *testing.T, m *Minter) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", r.Proto, r.Host)
		}),
		ReadHeaderTimeout: 5 * time.Second,
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(&termListener{Listener: ln, cfg: m.ServerConfig()})
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
	return ln.Addr().String()
}

func TestTerminateGoClient(t *testing.T) {
	ca := newNodeCA(t, 0)
	m := newMinter(t, ca, nil)
	addr := startTerminating(t, m)
	tests := []struct {
		name       string
		serverName string
		protos     []string
		want       string
		ipSAN      bool
	}{
		{"h2 and http1", "management.azure.com", []string{"h2", "http/1.1"}, "h2", false},
		{"http1 first", "management.azure.com", []string{"http/1.1", "h2"}, "h2", false},
		{"http1 only", "myvault.vault.azure.net", []string{"http/1.1"}, "http/1.1", false},
		{"no alpn", "acct.blob.core.windows.net", nil, "", false},
		{"no sni: destination IP", "127.0.0.1", []string{"h2"}, "h2", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tls.Dialer{Config: &tls.Config{ServerName: tt.serverName, RootCAs: ca.roots, NextProtos: tt.protos}}
			c, err := d.DialContext(t.Context(), "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			st := c.(*tls.Conn).ConnectionState()
			if st.NegotiatedProtocol != tt.want {
				t.Errorf("ALPN %q, want %q", st.NegotiatedProtocol, tt.want)
			}
			leaf := st.PeerCertificates[0]
			if tt.ipSAN != (len(leaf.IPAddresses) == 1 && len(leaf.DNSNames) == 0) {
				t.Errorf("SANs: DNS %q IP %v", leaf.DNSNames, leaf.IPAddresses)
			}
			if len(st.VerifiedChains) != 1 || len(st.VerifiedChains[0]) != 3 {
				t.Errorf("verified chains %d, want one of leaf, node CA and root", len(st.VerifiedChains))
			}
		})
	}
}

// TestTerminateHTTP: crypto/tls's HTTP client over h2 and HTTP/1.1, many
// requests on one connection.
func TestTerminateHTTP(t *testing.T) {
	ca := newNodeCA(t, 0)
	addr := startTerminating(t, newMinter(t, ca, nil))
	for _, h2 := range []bool{true, false} {
		tr := &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", addr)
			},
			TLSClientConfig:   &tls.Config{RootCAs: ca.roots},
			ForceAttemptHTTP2: h2,
		}
		if !h2 {
			tr.TLSClientConfig.NextProtos = []string{"http/1.1"}
		}
		want := map[bool]string{true: "HTTP/2.0", false: "HTTP/1.1"}[h2]
		for range 3 {
			body := get(t, &http.Client{Transport: tr}, "https://management.azure.com/subscriptions?api-version=2022-12-01")
			if body != want+" management.azure.com" {
				t.Errorf("got %q, want %s", body, want)
			}
		}
		tr.CloseIdleConnections()
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tool returns the path of a command-line tool or skips (fails under CI).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		testenv.Skip(t, "%s is not installed (Debian package %s)", name, name)
	}
	return p
}

func TestTerminateOpenSSL(t *testing.T) {
	openssl := tool(t, "openssl")
	ca := newNodeCA(t, 0)
	addr := startTerminating(t, newMinter(t, ca, nil))
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"tls13 h2", []string{"-servername", "management.azure.com", "-verify_hostname", "management.azure.com", "-alpn", "h2,http/1.1"},
			[]string{"Verify return code: 0 (ok)", "ALPN protocol: h2", "TLSv1.3"}},
		{"tls12 http1", []string{"-tls1_2", "-servername", "myvault.vault.azure.net", "-verify_hostname", "myvault.vault.azure.net", "-alpn", "http/1.1"},
			[]string{"Verify return code: 0 (ok)", "ALPN protocol: http/1.1", "TLSv1.2"}},
		{"no sni", []string{"-noservername", "-verify_ip", "127.0.0.1"},
			[]string{"Verify return code: 0 (ok)", "No ALPN negotiated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			args := append([]string{"s_client", "-connect", addr, "-CAfile", ca.rootPath, "-verify_return_error"}, tt.args...)
			cmd := exec.CommandContext(ctx, openssl, args...)
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput() // stdin is empty: s_client quits after the handshake
			if err != nil {
				t.Fatalf("openssl s_client: %v\n%s", err, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

func TestTerminateCurl(t *testing.T) {
	curl := tool(t, "curl")
	ca := newNodeCA(t, 0)
	addr := startTerminating(t, newMinter(t, ca, nil))
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		flag, want string
	}{
		{"--http2", "HTTP/2.0"},
		{"--http1.1", "HTTP/1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.flag, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			host := "management.azure.com"
			cmd := exec.CommandContext(ctx, curl, "-sS", "--noproxy", "*", tt.flag,
				"--cacert", ca.rootPath, "--resolve", host+":"+port+":127.0.0.1",
				"https://"+host+":"+port+"/subscriptions")
			cmd.Env = []string{"PATH=/usr/bin:/bin"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("curl: %v\n%s", err, out)
			}
			if want := tt.want + " " + host + ":" + port; string(out) != want {
				t.Errorf("got %q, want %q", out, want)
			}
		})
	}
}

func TestUpstream(t *testing.T) {
	ca, err := testca.New("upstream test root")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("management.azure.com", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.(*tls.Conn).Handshake()
			c.Close()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	tests := []struct {
		name       string
		serverName string
		opts       UpstreamOptions
		wantProto  string
		wantErr    func(error) bool
	}{
		{"sni", "management.azure.com", UpstreamOptions{RootCAs: ca.Pool()}, "h2", nil},
		{"agent offered http1", "management.azure.com", UpstreamOptions{RootCAs: ca.Pool(), NextProtos: []string{"http/1.1"}}, "http/1.1", nil},
		{"ip", "127.0.0.1", UpstreamOptions{RootCAs: ca.Pool()}, "h2", nil},
		{"wrong name", "evil.example", UpstreamOptions{RootCAs: ca.Pool()}, "", isErr[x509.HostnameError]},
		{"system roots", "management.azure.com", UpstreamOptions{}, "", isErr[x509.UnknownAuthorityError]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tls.Dialer{Config: Upstream(tt.serverName, tt.opts)}
			c, err := d.DialContext(t.Context(), "tcp", ln.Addr().String())
			if tt.wantErr != nil {
				if err == nil {
					c.Close()
					t.Fatal("connected")
				}
				if !tt.wantErr(err) {
					t.Fatalf("got %v (%T)", err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != tt.wantProto {
				t.Errorf("ALPN %q, want %q", p, tt.wantProto)
			}
		})
	}
}

// isErr reports whether err is or wraps an E.
func isErr[E error](err error) bool {
	_, ok := errors.AsType[E](err)
	return ok
}
