// SPDX-License-Identifier: Apache-2.0

// Interlock as the HTTPS benchmark's proxy: l7proxy/https.Handler with a
// leaf from tlsterm.Minter, a policy with a mask rule, tokens verified
// against azurefake's keys, recording into a nodeagent/spool, upstream TLS
// verified; its listener hands every connection over as the kernel's
// redirect would, with the upstream as the original destination.

package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"testing"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/l7proxy/identity"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/testca"
)

// benchPolicy: the list is allowed by a rule found through the index, a
// deny rule and a mask rule (for listKeys, which the benchmark does not
// call) are there as in a real policy.
const benchPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: bench}
targets:
  - name: arm
    protocol: https
    hosts: [` + armHost + `]
identity:
  issuers:
    - {issuer: "%s", audience: "https://management.core.windows.net/"}
rules:
  - name: no-rg-delete
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
    message: Agents may not delete resource groups.
  - name: mask-storage-keys
    when: arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action"
    action: allow
    mask: [{jsonPath: "$.keys[*].value"}]
  - name: allow-reads
    when: request.method == "GET"
    action: allow
defaultAction: deny
`

// entra is what Interlock needs of Entra ID: azurefake's token signing
// keys (fetched once, then cached) and a token for the client.
type entra struct {
	srv *azurefake.Server
	hc  *http.Client // reaches azurefake for every name
}

func startEntra(b *testing.B) *entra {
	b.Helper()
	srv, err := azurefake.Start(context.Background(), azurefake.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Close() })
	hc := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: srv.CA().Pool()},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, srv.Addr().String())
		},
	}}
	return &entra{srv: srv, hc: hc}
}

// discardSink is a record.Sink that keeps nothing: it shows what the
// proxy costs without the spool's fsyncs.
type discardSink struct{}

func (discardSink) Append(context.Context, []*interlockv1.SessionEvent) error { return nil }

// startInterlock starts a Handler in front of upstream (whose certificate
// upstreamCA issued), minting leaves with nodeCA, recording into a spool in
// a temporary directory, or nowhere when spooled is false, and stops
// everything on cleanup.
func startInterlock(b *testing.B, e *entra, upstream netip.AddrPort, upstreamCA, nodeCA *testca.CA, spooled bool) *interlock {
	b.Helper()
	bundle, err := policy.Load([]policy.Document{{Name: "bench.yaml", YAML: fmt.Appendf(nil, benchPolicy, e.srv.IssuerV1())}}, policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	minter, err := tlsterm.NewMinter(tlsterm.MinterConfig{CA: nodeCA.Signer()})
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	var sink record.Sink = discardSink{}
	var sp *spool.Spool
	if spooled {
		sp = openSpool(b)
		sink = sp
	}
	h, err := https.New(https.Config{
		Node:      "bench-node",
		Policy:    func() *policy.Bundle { return bundle },
		ServerTLS: minter.ServerConfig(),
		UpstreamTLS: func(sni string) *tls.Config {
			return tlsterm.Upstream(sni, tlsterm.UpstreamOptions{RootCAs: upstreamCA.Pool()})
		},
		Identify:  https.Verifiers(identity.Options{HTTPClient: e.hc}),
		Mask:      https.Masks(mask.NewPool()),
		Operation: https.AzureOperations,
		Recorder:  record.New(sink, record.Options{}),
		Passthrough: func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
			c.Close() // the benchmark makes no connection that passes through
		},
		Logger: quiet,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return &interlock{addr: listenRedirected(b, upstream, h.Serve), spool: sp}
}
