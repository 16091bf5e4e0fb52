// SPDX-License-Identifier: Apache-2.0

// The PostgreSQL enforcement benchmark: a one-row SELECT on keep-alive
// connections, direct to the server, through Interlock and through
// pgbouncer, in the same run with the same client; added latency
// unloaded and throughput at saturation, with the proxies' CPU time,
// peak memory and system calls.

package bench

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/testca"
)

// BenchmarkPostgres measures the paths of a small SELECT (one row, four
// columns, one of them an email the policy masks) over TLS on keep-alive
// connections, each iteration all paths in turn:
//
//   - direct: client → PostgreSQL 15 (pgtest: TLS, SCRAM password);
//   - interlock: client → l7proxy/postgres.Handler (TLS terminated with
//     a minted leaf, the password checked by logging in to the server
//     with it, every statement classified and decided by a policy with a
//     column mask rule, the email masked in every row, every statement
//     recorded into a real spool, which fsyncs) → server over verified
//     TLS;
//   - pgbouncer: client → Debian's pgbouncer (TLS, SCRAM password
//     checked against its auth_file, session pooling) → server over
//     verified TLS.
//
// The client is pgx with its default statement cache: the statement is
// parsed once per connection, then bound and executed. The client is a
// child process, so this process's CPU time is Interlock's (the server
// is a process of its own); pgbouncer's is read from /proc. Peak RSS is
// this process's VmHWM (the test harness included: an upper bound) and
// pgbouncer's.
func BenchmarkPostgres(b *testing.B) {
	srv := pgtest.Start(b, pgtest.Options{ServerNames: []string{pgServerName}})
	setupPG(b, srv)
	nodeCA, err := testca.New("bench-node")
	if err != nil {
		b.Fatal(err)
	}
	edgeCA, err := testca.New("bench-pgbouncer")
	if err != nil {
		b.Fatal(err)
	}
	il := startPGInterlock(b, srv, nodeCA)
	bouncer := startPgbouncer(b, echoproc.RandomLoopback(6432), srv, edgeCA)

	login := pgLoadSpec{User: srv.User(), Password: srv.Password(), Database: srv.Database(), Email: pgEmail}
	direct, through, pooled := login, login, login
	direct.Addr, direct.CAPEM = srv.Addr(), srv.CA().CertPEM
	through.Addr, through.CAPEM, through.Email = il.addr, nodeCA.CertPEM, pgMasked
	pooled.Addr, pooled.CAPEM = bouncer.addr, edgeCA.CertPEM
	sc := scenario{
		one: "query", many: "queries",
		ratios: [][2]string{{"interlock", "pgbouncer"}, {"interlock", "direct"}, {"pgbouncer", "direct"}},
		rss:    []string{"interlock", "pgbouncer"},
	}
	for _, p := range []struct {
		name  string
		load  pgLoadSpec
		proxy proxyProc
		il    *interlock
	}{
		{"direct", direct, nil, nil},
		{"interlock", through, selfProc{}, il},
		{"pgbouncer", pooled, bouncer, nil},
	} {
		bp := benchPath{name: p.name, proxy: p.proxy, il: p.il, run: func(b *testing.B, s loadShape) loadResult {
			l := p.load
			l.loadShape = s
			return runPGClient(b, l)
		}}
		// One query on each path first: it shows the path works and
		// returns the row as it should (masked through Interlock).
		bp.run(b, loadShape{Conns: 1, Requests: 1})
		sc.paths = append(sc.paths, bp)
	}
	sc = sc.selected()
	b.Run("latency", func(b *testing.B) { benchLatency(b, sc) })
	b.Run("throughput", func(b *testing.B) { benchThroughput(b, sc) })
}

// setupPG makes and fills the table on srv, directly.
func setupPG(b *testing.B, srv *pgtest.Server) {
	b.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	for _, s := range pgSchema {
		if _, err := c.Exec(ctx, s); err != nil {
			b.Fatalf("%s: %v", s, err)
		}
	}
}
