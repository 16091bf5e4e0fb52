// SPDX-License-Identifier: Apache-2.0

// Benchmarks of Verify: a token seen before (the cache) and a new one
// (signature check).

package identity

import (
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/test/azurefake"
)

func benchVerifier(b *testing.B, cacheSize int) (*Verifier, string) {
	srv, err := azurefake.Start(b.Context(), azurefake.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = srv.Close() })
	v, err := NewVerifier([]policy.Issuer{{Issuer: srv.IssuerV1(), Audience: azurefake.ResourceARM}},
		Options{HTTPClient: fakeClient(b, srv), CacheSize: cacheSize})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := srv.MintToken(azurefake.TokenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := v.Verify(b.Context(), tok); err != nil {
		b.Fatal(err)
	}
	return v, tok
}

func BenchmarkVerifyCached(b *testing.B) {
	v, tok := benchVerifier(b, 0)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	v, tok := benchVerifier(b, -1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(b.Context(), tok); err != nil {
			b.Fatal(err)
		}
	}
}
