// SPDX-License-Identifier: Apache-2.0

// Server: start, stop, addresses and the routing of requests by host name.

package azurefake

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

// Host names served, and their URL forms.
const (
	LoginHost   = "login.microsoftonline.com"
	ARMHost     = "management.azure.com"
	VaultSuffix = ".vault.azure.net"
	loginURL    = "https://" + LoginHost
	armURL      = "https://" + ARMHost
)

// Server is a running fake Azure. It is safe for concurrent use.
type Server struct {
	opts   Options // with defaults; read-only after Start
	ca     *testca.CA
	addr   netip.AddrPort
	http   *http.Server
	served chan struct{} // closed when the serve goroutine returns

	signer *signingKey   // signs issued tokens
	keys   []*signingKey // published in the JWKS: signer and a rotated key
	k8s    *signingKey   // the Kubernetes service account issuer's key

	forgeMu sync.Mutex
	forger  *signingKey // guarded by forgeMu; made on first ForgeToken

	state *state

	recMu    sync.Mutex
	requests []Request // guarded by recMu

	closeOnce sync.Once
}

// Start listens and serves until [Server.Close]. ctx bounds only the
// startup (listening); the server lives until Close.
func Start(ctx context.Context, opts Options) (*Server, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("azurefake: %w", err)
	}
	s := &Server{opts: opts, ca: opts.CA, served: make(chan struct{})}
	if s.ca == nil {
		if s.ca, err = testca.New("azurefake root"); err != nil {
			return nil, fmt.Errorf("azurefake: %w", err)
		}
	}
	if err := s.makeKeys(); err != nil {
		return nil, fmt.Errorf("azurefake: %w", err)
	}
	if s.state, err = newState(opts); err != nil {
		return nil, fmt.Errorf("azurefake: %w", err)
	}
	ln, err := listen(ctx, opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("azurefake: %w", err)
	}
	s.addr = ln.Addr().(*net.TCPAddr).AddrPort()
	s.addr = netip.AddrPortFrom(s.addr.Addr().Unmap(), s.addr.Port())
	cert, err := s.ca.Issue(LoginHost, ARMHost, "*"+VaultSuffix, "*"+BlobSuffix, s.addr.Addr().String())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("azurefake: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s.http = &http.Server{
		Handler:           s,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	go func() {
		defer close(s.served)
		_ = s.http.ServeTLS(ln, "", "") // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

func (s *Server) makeKeys() error {
	var err error
	if s.signer, err = newSigningKey("accounts.accesscontrol.windows.net"); err != nil {
		return err
	}
	rotated, err := newSigningKey("accounts.accesscontrol.windows.net")
	if err != nil {
		return err
	}
	s.keys = []*signingKey{rotated, s.signer}
	if s.k8s, err = newSigningKey("kubernetes service account issuer"); err != nil {
		return err
	}
	return nil
}

// Close stops the server and closes its connections. A second call
// returns net.ErrClosed.
func (s *Server) Close() error {
	err := net.ErrClosed
	s.closeOnce.Do(func() {
		err = s.http.Close()
		<-s.served
	})
	if err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("azurefake: close: %w", err)
	}
	return err
}

// Addr is the address the server listens on.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// CA is the authority that issued the server's certificate.
func (s *Server) CA() *testca.CA { return s.ca }

// TenantID is the Entra tenant.
func (s *Server) TenantID() string { return s.opts.TenantID }

// SubscriptionID is the one subscription ARM knows.
func (s *Server) SubscriptionID() string { return s.opts.SubscriptionID }

// Clients are the configured clients with their defaults (IDs, secrets,
// object IDs) filled in.
func (s *Server) Clients() []Client {
	out := make([]Client, len(s.opts.Clients))
	copy(out, s.opts.Clients)
	return out
}

// Hosts maps every host name a program resolves to reach the server
// (login, management, each vault and each seeded storage account's Blob
// endpoint) to the server's IP address, for a hosts file.
func (s *Server) Hosts() map[string]string {
	ip := s.addr.Addr().String()
	m := map[string]string{LoginHost: ip, ARMHost: ip}
	for _, v := range s.opts.Vaults {
		m[strings.ToLower(v)+VaultSuffix] = ip
	}
	for _, a := range s.blobAccounts() {
		m[a+BlobSuffix] = ip
	}
	return m
}

// client returns the configured client with this ID (case-insensitive,
// as Entra compares GUIDs).
func (s *Server) client(id string) (Client, bool) {
	for _, c := range s.opts.Clients {
		if strings.EqualFold(c.ID, id) {
			return c, true
		}
	}
	return Client{}, false
}

// ServeHTTP routes by host name and records the request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	host := strings.ToLower(r.Host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	rec := &Request{
		Time:   time.Now(),
		Method: r.Method,
		Proto:  r.Proto,
		Host:   host,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
	}
	sw := &statusWriter{ResponseWriter: w}
	switch {
	case host == LoginHost:
		s.serveEntra(sw, r, rec)
	case host == ARMHost:
		s.serveARM(sw, r, rec)
	case strings.HasSuffix(host, VaultSuffix) && s.state.hasVault(strings.TrimSuffix(host, VaultSuffix)):
		s.serveVault(sw, r, rec, strings.TrimSuffix(host, VaultSuffix))
	case strings.HasSuffix(host, BlobSuffix) && s.hasBlobAccount(strings.TrimSuffix(host, BlobSuffix)):
		s.serveBlob(sw, r, rec, strings.TrimSuffix(host, BlobSuffix))
	default:
		http.Error(sw, "azurefake: unknown host "+host, http.StatusMisdirectedRequest)
	}
	rec.Status = sw.status()
	s.record(*rec)
}
