// SPDX-License-Identifier: Apache-2.0

// Benchmarks of Peek on a real hello and of GetCertificate on a cached
// name.

package tlsterm

import (
	"context"
	"crypto/tls"
	"testing"
	"time"
)

func BenchmarkPeek(b *testing.B) {
	raw := helloFiles(b)["go-default.bin"]
	c := &memConn{data: raw}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		c.off = 0
		if _, err := Peek(c, time.Second); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGetCertificateCached(b *testing.B) {
	m := newMinter(b, newNodeCA(b, 0), nil)
	chi := &tls.ClientHelloInfo{ServerName: "management.azure.com"}
	chi.Conn = &memConn{}
	if _, err := m.Certificate(context.Background(), chi.ServerName); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.GetCertificate(chi); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMint(b *testing.B) {
	m := newMinter(b, newNodeCA(b, 0), nil)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.mint("management.azure.com", time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAllocs pins the hot paths' allocations: a cached GetCertificate
// makes none, and Peek makes its buffer, the Hello and its strings.
func TestAllocs(t *testing.T) {
	if raceEnabled {
		t.Log("allocation counts are not checked under the race detector")
		return
	}
	m := newMinter(t, newNodeCA(t, 0), nil)
	chi := &tls.ClientHelloInfo{ServerName: "management.azure.com"}
	if _, err := m.GetCertificate(chi); err != nil {
		t.Fatal(err)
	}
	if n := testing.AllocsPerRun(100, func() { _, _ = m.GetCertificate(chi) }); n != 0 {
		t.Errorf("cached GetCertificate: %v allocations, want 0", n)
	}
	raw := helloFiles(t)["go-default.bin"]
	c := &memConn{data: raw}
	n := testing.AllocsPerRun(100, func() {
		c.off = 0
		_, _ = Peek(c, time.Second)
	})
	if n > 7 { // buffer, Hello, server name, ALPN slice (grown once), two protocol names
		t.Errorf("Peek: %v allocations, want at most 7", n)
	}
}
