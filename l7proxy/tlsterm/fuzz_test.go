// SPDX-License-Identifier: Apache-2.0

// FuzzClientHello: Peek on arbitrary bytes never panics, never reads past
// MaxHelloSize, and agrees with crypto/tls's own parser on every hello both
// accept.

package tlsterm

import (
	"bytes"
	"crypto/tls"
	"errors"
	"slices"
	"testing"
	"time"
)

// errSeen stops crypto/tls's handshake once it has parsed the hello.
var errSeen = errors.New("hello seen")

func FuzzClientHello(f *testing.F) {
	for _, raw := range helloFiles(f) {
		f.Add(raw)
		f.Add(refragment(f, raw, 100))
	}
	for _, cfg := range []*tls.Config{
		{ServerName: "management.azure.com", NextProtos: []string{"h2", "http/1.1"}},
		{ServerName: "x.vault.azure.net", MaxVersion: tls.VersionTLS12},
		{ServerName: "10.0.0.1", NextProtos: []string{"http/1.1"}},
	} {
		f.Add(goHello(f, cfg))
	}
	f.Add(hello(sni("a.example"), []byte{0, 16, 0, 5, 0, 3, 2, 'h', '2'}))
	f.Add([]byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := &memConn{data: data}
		h, err := Peek(c, time.Second)
		if c.off > MaxHelloSize {
			t.Fatalf("read %d bytes", c.off)
		}
		if !bytes.Equal(h.Raw, data[:c.off]) {
			t.Fatalf("Raw is not what was read")
		}
		if err != nil {
			return
		}
		var seen *tls.ClientHelloInfo
		srv := tls.Server(&memConn{data: data}, &tls.Config{
			GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
				seen = chi
				return nil, errSeen
			},
		})
		_ = srv.Handshake()
		if seen == nil {
			return // crypto/tls refused something Peek does not look at
		}
		if seen.ServerName != h.ServerName || !slices.Equal(seen.SupportedProtos, h.ALPN) {
			t.Fatalf("Peek: %q %q; crypto/tls: %q %q", h.ServerName, h.ALPN, seen.ServerName, seen.SupportedProtos)
		}
	})
}
