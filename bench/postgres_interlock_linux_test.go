// SPDX-License-Identifier: Apache-2.0

// Interlock as the PostgreSQL benchmark's proxy: l7proxy/postgres.Handler
// with a leaf from tlsterm.Minter, the client's password checked by the
// server it logs in to, a policy with a column mask rule, recording into
// a nodeagent/spool, upstream TLS verified; its listener hands every
// connection over as the kernel's redirect would, with the server as the
// original destination.

package bench

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net/netip"
	"testing"

	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/policy"
	"github.com/interlockhq/interlock/l7proxy/postgres"
	"github.com/interlockhq/interlock/l7proxy/record"
	"github.com/interlockhq/interlock/l7proxy/tlsterm"
	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/testca"
)

// pgPolicy: the SELECT of customers is allowed with its email column
// masked; a deny rule for DDL is there as in a real policy. %s is the
// target's host:port.
const pgPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: bench-pg}
targets:
  - name: orders-db
    protocol: postgres
    hosts: ["%s"]
rules:
  - name: no-ddl
    when: sql.statementType in ["DROP", "TRUNCATE", "ALTER"]
    action: deny
    message: Agents may not change the schema.
  - name: mask-customer-email
    when: '"customers" in sql.tables'
    action: allow
    mask: [{column: email}]
  - name: allow-reads
    when: sql.statementType == "SELECT"
    action: allow
defaultAction: deny
`

// startPGInterlock starts a Handler in front of srv, minting leaves with
// nodeCA and recording into a spool in a temporary directory, and stops
// both on cleanup.
func startPGInterlock(b *testing.B, srv *pgtest.Server, nodeCA *testca.CA) *interlock {
	b.Helper()
	host := fmt.Sprintf("%s:%d", pgServerName, srv.Port())
	bundle, err := policy.Load([]policy.Document{{Name: "bench-pg.yaml", YAML: fmt.Appendf(nil, pgPolicy, host)}}, policy.Options{})
	if err != nil {
		b.Fatal(err)
	}
	minter, err := tlsterm.NewMinter(tlsterm.MinterConfig{CA: nodeCA.Signer()})
	if err != nil {
		b.Fatal(err)
	}
	sp := openSpool(b)
	h, err := postgres.New(postgres.Config{
		Node:      "bench-node",
		Policy:    func() *policy.Bundle { return bundle },
		ServerTLS: minter.ServerConfig(),
		UpstreamTLS: func(sni string) *tls.Config {
			return tlsterm.Upstream(sni, tlsterm.UpstreamOptions{RootCAs: srv.CA().Pool()})
		},
		MaskPool: mask.NewPool(),
		Recorder: record.New(sp, record.Options{}),
		Passthrough: func(ctx context.Context, c *l7proxy.Conn, dial l7proxy.Dialer) {
			c.Close() // the benchmark makes no connection that passes through
		},
		Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		b.Fatal(err)
	}
	dst, err := netip.ParseAddrPort(srv.Addr())
	if err != nil {
		b.Fatal(err)
	}
	return &interlock{addr: listenRedirected(b, dst, h.Serve), spool: sp}
}
