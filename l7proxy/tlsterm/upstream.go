// SPDX-License-Identifier: Apache-2.0

// Upstream: the TLS client configuration of the proxy's own connections
// to the original servers.

package tlsterm

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
)

// UpstreamOptions adjust Upstream's configuration. The zero value verifies
// against the system roots and offers h2 and HTTP/1.1.
type UpstreamOptions struct {
	// RootCAs verify the server; nil means the system roots.
	RootCAs *x509.CertPool
	// NextProtos are offered by ALPN; nil means h2 then http/1.1. Pass
	// the agent's own offer to negotiate what it would have.
	NextProtos []string
	// SessionCache lets connections to the same server resume TLS
	// sessions; nil means none. Share one per (target, identity) pool.
	SessionCache tls.ClientSessionCache
}

// Upstream returns a TLS client configuration that verifies the server's
// certificate chain against o.RootCAs (or the system roots) and its name
// against serverName: the client's SNI or, when it sent none, the original
// destination's IP address. It never skips verification.
func Upstream(serverName string, o UpstreamOptions) *tls.Config {
	protos := o.NextProtos
	if protos == nil {
		protos = serverProtos
	}
	return &tls.Config{
		ServerName:         serverName,
		RootCAs:            o.RootCAs,
		NextProtos:         slices.Clone(protos),
		ClientSessionCache: o.SessionCache,
		MinVersion:         tls.VersionTLS12,
	}
}
