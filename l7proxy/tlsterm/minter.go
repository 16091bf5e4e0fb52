// SPDX-License-Identifier: Apache-2.0

// Minter: leaves for the names clients ask for, signed by the node's
// intermediate CA, cached per name, renewed before they expire.

package tlsterm

import (
	"container/list"
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Minter defaults.
const (
	// DefaultLeafLifetime is how long a minted leaf is valid.
	DefaultLeafLifetime = 24 * time.Hour
	// DefaultCacheSize is how many names' leaves a Minter keeps.
	DefaultCacheSize = 1024
)

// ServerProtos are the application protocols a terminating server offers,
// in its order of preference: h2 when the client offers it, else HTTP/1.1.
var serverProtos = []string{"h2", "http/1.1"}

// ErrNoServerName: the client sent no SNI and the connection carries no
// original destination to mint for.
var ErrNoServerName = errors.New("no server name and no destination address")

// MinterConfig configures a Minter.
type MinterConfig struct {
	// CA is the node's intermediate CA: Certificate[0] is its certificate
	// (DER), followed by any further intermediates up to, not including,
	// the root; all are sent after each leaf. PrivateKey must be a
	// crypto.Signer for Certificate[0]'s public key.
	CA tls.Certificate
	// Lifetime of a leaf; zero means DefaultLeafLifetime. Leaves never
	// outlive the CA.
	Lifetime time.Duration
	// CacheSize bounds the names cached, least recently used first out;
	// zero means DefaultCacheSize.
	CacheSize int
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Minter mints leaves with the node's intermediate CA. It is safe for
// concurrent use.
type Minter struct {
	ca       *x509.Certificate
	signer   crypto.Signer
	chain    [][]byte // the CA's chain, sent after each leaf; read-only
	lifetime time.Duration
	size     int
	now      func() time.Time

	mu      sync.Mutex
	entries map[string]*entry // guarded by mu
	lru     list.List         // of *entry, most recently used first; guarded by mu
}

// entry is one name's leaf; its fields are guarded by Minter.mu.
type entry struct {
	name   string
	elem   *list.Element
	leaf   *issued // nil until the first mint succeeds
	flight *flight // the mint under way, if any
}

// issued is a leaf and when to replace it.
type issued struct {
	cert             *tls.Certificate
	renewAt, expires time.Time
}

// flight is one signing that concurrent callers for the same name share.
type flight struct {
	done chan struct{} // closed when leaf or err is set
	leaf *issued
	err  error
}

// NewMinter checks cfg's CA and returns a Minter with an empty cache.
func NewMinter(cfg MinterConfig) (*Minter, error) {
	if len(cfg.CA.Certificate) == 0 {
		return nil, errors.New("tlsterm: minter: no CA certificate")
	}
	ca, err := x509.ParseCertificate(cfg.CA.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("tlsterm: minter: parse CA: %w", err)
	}
	if !ca.IsCA || !ca.BasicConstraintsValid || (ca.KeyUsage != 0 && ca.KeyUsage&x509.KeyUsageCertSign == 0) {
		return nil, fmt.Errorf("tlsterm: minter: %q is not a CA that signs certificates", ca.Subject.CommonName)
	}
	signer, ok := cfg.CA.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("tlsterm: minter: CA key is not a crypto.Signer")
	}
	if pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(ca.PublicKey) {
		return nil, errors.New("tlsterm: minter: CA key does not match its certificate")
	}
	m := &Minter{
		ca:       ca,
		signer:   signer,
		chain:    cfg.CA.Certificate,
		lifetime: cfg.Lifetime,
		size:     cfg.CacheSize,
		now:      cfg.Now,
		entries:  map[string]*entry{},
	}
	if m.lifetime <= 0 {
		m.lifetime = DefaultLeafLifetime
	}
	if m.size <= 0 {
		m.size = DefaultCacheSize
	}
	if m.now == nil {
		m.now = time.Now
	}
	return m, nil
}

// ServerConfig returns a new TLS server configuration that presents a
// leaf minted for the client's server name (GetCertificate) and offers h2
// and HTTP/1.1 by ALPN, h2 first: the client gets h2 if it offers it,
// HTTP/1.1 if it offers only that, and no ALPN if it offers none. Build it
// once and share it; do not modify it once in use.
func (m *Minter) ServerConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: m.GetCertificate,
		NextProtos:     serverProtos,
		MinVersion:     tls.VersionTLS12,
	}
}

// GetCertificate is the tls.Config hook: it returns the leaf for the
// client's server name or, when there is none and the connection is a
// *Conn with a destination, for the destination's IP address.
func (m *Minter) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	name := hello.ServerName
	if name == "" {
		c, ok := hello.Conn.(*Conn)
		if !ok || !c.Dst.IsValid() {
			return nil, fmt.Errorf("tlsterm: %w", ErrNoServerName)
		}
		name = c.Dst.Addr().Unmap().String()
	}
	ctx := hello.Context()
	if ctx == nil { // a ClientHelloInfo not made by crypto/tls
		ctx = context.Background()
	}
	return m.Certificate(ctx, name)
}

// Certificate returns the cached leaf for name, a host name or an IP
// address, minting it on first use and again once two thirds of its
// lifetime have passed. Concurrent calls for one name share one signing;
// while a leaf is being renewed, the current one is returned as long as it
// is valid. ctx bounds only the wait for another caller's signing. The
// returned certificate must not be modified.
func (m *Minter) Certificate(ctx context.Context, name string) (*tls.Certificate, error) {
	now := m.now()
	m.mu.Lock()
	e := m.entries[name]
	if e == nil {
		norm, err := normalizeName(name)
		if err != nil {
			m.mu.Unlock()
			return nil, fmt.Errorf("tlsterm: mint %q: %w", name, err)
		}
		if e = m.entries[norm]; e == nil {
			e = m.insert(norm)
		}
	}
	m.lru.MoveToFront(e.elem)
	if e.leaf != nil && now.Before(e.leaf.renewAt) {
		c := e.leaf.cert
		m.mu.Unlock()
		return c, nil
	}
	f := e.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		e.flight = f
		m.mu.Unlock()
		m.fly(e, f, now)
		return f.result(name)
	}
	if e.leaf != nil && now.Before(e.leaf.expires) {
		c := e.leaf.cert
		m.mu.Unlock()
		return c, nil
	}
	m.mu.Unlock()
	select {
	case <-f.done:
		return f.result(name)
	case <-ctx.Done():
		return nil, fmt.Errorf("tlsterm: mint %q: %w", name, ctx.Err())
	}
}

// insert adds an empty entry for name, evicting the least recently used
// entries beyond the cache size. m.mu must be held.
func (m *Minter) insert(name string) *entry {
	e := &entry{name: name}
	e.elem = m.lru.PushFront(e)
	m.entries[name] = e
	for m.lru.Len() > m.size {
		old := m.lru.Back().Value.(*entry)
		m.lru.Remove(old.elem)
		delete(m.entries, old.name)
	}
	return e
}

// fly signs e's leaf, stores it (a failure is not cached: the next call
// tries again) and releases f's waiters.
func (m *Minter) fly(e *entry, f *flight, now time.Time) {
	f.leaf, f.err = m.mint(e.name, now)
	m.mu.Lock()
	if e.flight == f {
		e.flight = nil
		if f.err == nil {
			e.leaf = f.leaf
		}
	}
	m.mu.Unlock()
	close(f.done)
}

func (f *flight) result(name string) (*tls.Certificate, error) {
	if f.err != nil {
		return nil, fmt.Errorf("tlsterm: mint %q: %w", name, f.err)
	}
	return f.leaf.cert, nil
}

// Len returns how many names are cached.
func (m *Minter) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
