// SPDX-License-Identifier: Apache-2.0

// Tests of the Minter: names, caching, renewal with an injected clock,
// shared signing, the cache bound and the CA checks.

package tlsterm

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/tls"
	"crypto/x509"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

// clock is a settable time source.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.set(time.Now())
	return c
}
func (c *clock) set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *clock) now() time.Time          { return time.Unix(0, c.ns.Load()) }
func serialOf(c *tls.Certificate) string { return c.Leaf.SerialNumber.String() }

func TestMinterNames(t *testing.T) {
	ca := newNodeCA(t, 0)
	m := newMinter(t, ca, nil)
	long := "a123456789012345678901234567890123456789012345678901234567890.example.com"
	tests := []struct {
		name    string
		dns     []string
		ip      string
		cn      string
		wantErr bool
	}{
		{name: "Management.Azure.COM", dns: []string{"management.azure.com"}, cn: "management.azure.com"},
		{name: "x_y.vault.azure.net", dns: []string{"x_y.vault.azure.net"}, cn: "x_y.vault.azure.net"},
		{name: "10.1.2.3", ip: "10.1.2.3", cn: "10.1.2.3"},
		{name: "::ffff:10.1.2.4", ip: "10.1.2.4", cn: "10.1.2.4"},
		{name: "fd00::1", ip: "fd00::1", cn: "fd00::1"},
		{name: long, dns: []string{long}},
		{name: "*.vault.azure.net", wantErr: true},
		{name: "a..b", wantErr: true},
		{name: "", wantErr: true},
		{name: "a.example.", wantErr: true},
		{name: "-a.example", wantErr: true},
		{name: "fe80::1%eth0", wantErr: true},
		{name: "a b", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := m.Certificate(t.Context(), tt.name)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("minted for %q", tt.name)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l := c.Leaf
			var ips []string
			for _, ip := range l.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(l.DNSNames, tt.dns) || (tt.ip != "" && !slices.Equal(ips, []string{tt.ip})) || (tt.ip == "" && len(ips) > 0) {
				t.Errorf("SANs: DNS %q IP %q, want %q %q", l.DNSNames, ips, tt.dns, tt.ip)
			}
			if l.Subject.CommonName != tt.cn {
				t.Errorf("CN %q, want %q", l.Subject.CommonName, tt.cn)
			}
			pub, ok := l.PublicKey.(*ecdsa.PublicKey)
			if !ok || pub.Curve != elliptic.P256() {
				t.Errorf("key %T, want ECDSA P-256", l.PublicKey)
			}
			if l.IsCA || !slices.Equal(l.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
				t.Errorf("IsCA %v, ExtKeyUsage %v", l.IsCA, l.ExtKeyUsage)
			}
			if len(c.Certificate) != 2 {
				t.Errorf("chain of %d certificates, want leaf and intermediate", len(c.Certificate))
			}
			inter, _ := x509.ParseCertificate(ca.cert.Certificate[0])
			opts := x509.VerifyOptions{Roots: ca.roots, Intermediates: x509.NewCertPool()}
			opts.Intermediates.AddCert(inter)
			if _, err := l.Verify(opts); err != nil {
				t.Errorf("verify against the workload root: %v", err)
			}
			if err := l.VerifyHostname(tt.name); err != nil && tt.ip == "" {
				t.Errorf("hostname: %v", err)
			}
		})
	}
}

func TestMinterCacheAndRenewal(t *testing.T) {
	ck := newClock()
	start := ck.now()
	m := newMinter(t, newNodeCA(t, 0), ck.now)
	ctx := t.Context()
	first, err := m.Certificate(ctx, "management.azure.com")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := first.Leaf.NotAfter, start.Add(DefaultLeafLifetime).Truncate(time.Second); !got.Equal(want) {
		t.Errorf("NotAfter %v, want %v", got, want)
	}
	if nb := first.Leaf.NotBefore; nb.After(start) || start.Sub(nb) > 6*time.Minute {
		t.Errorf("NotBefore %v, want shortly before %v", nb, start)
	}
	steps := []struct {
		at   time.Duration
		name string
		same bool
	}{
		{0, "MANAGEMENT.azure.com", true},
		{time.Hour, "management.azure.com", true},
		{16*time.Hour - time.Second, "management.azure.com", true},
		{16*time.Hour + time.Second, "management.azure.com", false}, // two thirds of 24 h passed
	}
	for _, s := range steps {
		ck.set(start.Add(s.at))
		c, err := m.Certificate(ctx, s.name)
		if err != nil {
			t.Fatal(err)
		}
		if (c == first) != s.same {
			t.Errorf("at +%v: same leaf %v, want %v", s.at, c == first, s.same)
		}
		if !s.same && !c.Leaf.NotAfter.After(first.Leaf.NotAfter) {
			t.Errorf("at +%v: renewed leaf expires %v, not after the old one's %v", s.at, c.Leaf.NotAfter, first.Leaf.NotAfter)
		}
	}
	if m.Len() != 1 {
		t.Errorf("cache holds %d names, want 1", m.Len())
	}
}

// TestMinterCAExpiry: leaves never outlive the CA, and an expired CA mints
// nothing.
func TestMinterCAExpiry(t *testing.T) {
	ca := newNodeCA(t, 2*time.Hour) // valid from an hour ago for two hours
	inter, _ := x509.ParseCertificate(ca.cert.Certificate[0])
	ck := newClock()
	m := newMinter(t, ca, ck.now)
	c, err := m.Certificate(t.Context(), "a.example")
	if err != nil {
		t.Fatal(err)
	}
	if !c.Leaf.NotAfter.Equal(inter.NotAfter) {
		t.Errorf("leaf NotAfter %v, want the CA's %v", c.Leaf.NotAfter, inter.NotAfter)
	}
	ck.set(inter.NotAfter.Add(time.Minute))
	if _, err := m.Certificate(t.Context(), "b.example"); err == nil {
		t.Error("minted with an expired CA")
	}
}

func TestMinterSharedSigning(t *testing.T) {
	m := newMinter(t, newNodeCA(t, 0), nil)
	const n = 64
	certs := make([]*tls.Certificate, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			c, err := m.Certificate(context.Background(), "same.example")
			if err != nil {
				t.Error(err)
			}
			certs[i] = c
		})
	}
	close(start)
	wg.Wait()
	for i, c := range certs {
		if c != certs[0] {
			t.Fatalf("caller %d got serial %s, caller 0 %s: two signings", i, serialOf(c), serialOf(certs[0]))
		}
	}
}

func TestMinterBounded(t *testing.T) {
	m, err := NewMinter(MinterConfig{CA: newNodeCA(t, 0).cert, CacheSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	first, err := m.Certificate(ctx, "n0.example")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"n1.example", "n2.example", "n3.example"} {
		if _, err := m.Certificate(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 3 {
		t.Errorf("cache holds %d names, want 3", m.Len())
	}
	again, err := m.Certificate(ctx, "n0.example")
	if err != nil {
		t.Fatal(err)
	}
	if again == first {
		t.Error("the least recently used name was not evicted")
	}
}

func TestNewMinterRejects(t *testing.T) {
	ca := newNodeCA(t, 0)
	tca, err := testca.New("not a node CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := tca.Issue("a.example")
	if err != nil {
		t.Fatal(err)
	}
	other := newNodeCA(t, 0)
	tests := []struct {
		name string
		ca   tls.Certificate
	}{
		{"empty", tls.Certificate{}},
		{"leaf, not a CA", leaf},
		{"key of another CA", tls.Certificate{Certificate: ca.cert.Certificate, PrivateKey: other.cert.PrivateKey}},
		{"no key", tls.Certificate{Certificate: ca.cert.Certificate}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMinter(MinterConfig{CA: tt.ca}); err == nil {
				t.Error("accepted")
			}
		})
	}
}
