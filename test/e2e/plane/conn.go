// SPDX-License-Identifier: Apache-2.0

// Connecting to the plane as a person.

package plane

import (
	"context"
	"crypto/tls"
	"crypto/x509"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// bearer sends a token with every call, only over TLS.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }

// Person connects with a bearer token (a Token or the AdminToken); the
// connection is closed at the end of the test.
func (p *Plane) Person(token string) *grpc.ClientConn {
	p.t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(p.CAPEM)
	cc, err := grpc.NewClient(p.Addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS13})),
		grpc.WithPerRPCCredentials(bearer(token)))
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { cc.Close() })
	return cc
}
