// SPDX-License-Identifier: Apache-2.0

// The HTTPS enforcement benchmark: a small ARM GET on keep-alive
// connections, direct to the upstream, through Interlock and through
// nginx, in the same run with the same client; added latency unloaded and
// throughput at saturation, with the proxies' CPU time and peak memory.

package bench

import (
	"testing"

	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// httpsPath is one way from the client to the upstream.
type httpsPath struct {
	name  string
	load  loadSpec   // Addr, CAPEM, Token, H2
	proxy proxyProc  // nil for direct
	il    *interlock // nil but for Interlock's paths
}

// BenchmarkHTTPS measures the paths of a small ARM-like JSON GET over
// TLS on keep-alive connections, each iteration all paths in turn:
//
//   - direct: client → upstream;
//   - interlock: client → l7proxy/https.Handler (TLS terminated with a
//     minted leaf, token verified, policy with a mask rule evaluated,
//     every request recorded into a real spool, which fsyncs) → upstream
//     over verified TLS;
//   - nginx: client → Debian's nginx (2 workers, TLS, upstream keep-alive,
//     upstream TLS verified) → upstream;
//   - interlock-h2: as interlock, the client speaking HTTP/2 (net/http's
//     client: not the same client as the HTTP/1.1 rows);
//   - interlock-nospool: as interlock, recording into a sink that keeps
//     nothing, to show what the spool's fsyncs cost.
//
// Interlock and nginx both speak HTTP/1.1 to the upstream, one
// connection per request in flight. The client and the upstream are child
// processes, so this process's CPU time is Interlock's; nginx's is read
// from /proc. Peak RSS is this process's VmHWM (azurefake and the test
// harness included: an upper bound) and the sum of nginx's processes'.
func BenchmarkHTTPS(b *testing.B) {
	testenv.RequireRoot(b, "the upstream listens on port 443, as ARM does; nginx runs as root")
	upstreamCA, err := testca.New("bench-upstream")
	if err != nil {
		b.Fatal(err)
	}
	edgeCA, err := testca.New("bench-nginx")
	if err != nil {
		b.Fatal(err)
	}
	nodeCA, err := testca.New("bench-node")
	if err != nil {
		b.Fatal(err)
	}
	leaf, err := upstreamCA.Issue(armHost)
	if err != nil {
		b.Fatal(err)
	}
	certPEM, keyPEM, err := testca.PEM(leaf)
	if err != nil {
		b.Fatal(err)
	}
	upstream := echoproc.RandomLoopback(443)
	startUpstream(b, upstream.String(), certPEM, keyPEM)
	ngx := startNginx(b, echoproc.RandomLoopback(8443).String(), upstream.String(), edgeCA, upstreamCA)
	e := startEntra(b)
	token, err := e.srv.MintToken(azurefake.TokenOptions{})
	if err != nil {
		b.Fatal(err)
	}
	spooled := startInterlock(b, e, upstream, upstreamCA, nodeCA, true)
	unspooled := startInterlock(b, e, upstream, upstreamCA, nodeCA, false)

	paths := []httpsPath{
		{name: "direct", load: loadSpec{Addr: upstream.String(), CAPEM: upstreamCA.CertPEM}},
		{name: "interlock", load: loadSpec{Addr: spooled.addr, CAPEM: nodeCA.CertPEM}, proxy: selfProc{}, il: spooled},
		{name: "nginx", load: loadSpec{Addr: ngx.addr, CAPEM: edgeCA.CertPEM}, proxy: ngx},
		{name: "interlock-h2", load: loadSpec{Addr: spooled.addr, CAPEM: nodeCA.CertPEM, H2: true}, proxy: selfProc{}, il: spooled},
		{name: "interlock-nospool", load: loadSpec{Addr: unspooled.addr, CAPEM: nodeCA.CertPEM}, proxy: selfProc{}, il: unspooled},
	}
	sc := scenario{
		one: "req", many: "req",
		ratios: [][2]string{
			{"interlock", "nginx"}, {"interlock-h2", "nginx"}, {"interlock", "direct"},
			{"nginx", "direct"}, {"interlock-nospool", "nginx"},
		},
		// This process's peak covers every Interlock path: reported once.
		rss: []string{"interlock", "nginx"},
	}
	for _, p := range paths {
		p.load.Token = token
		bp := benchPath{name: p.name, proxy: p.proxy, il: p.il, run: func(b *testing.B, s loadShape) loadResult {
			l := p.load
			l.loadShape = s
			return runClient(b, l)
		}}
		// One request on each path first: it shows the path works, and
		// Interlock fetches Entra's signing keys for the first token it
		// verifies, which is no part of the figures.
		bp.run(b, loadShape{Conns: 1, Requests: 1})
		sc.paths = append(sc.paths, bp)
	}
	sc = sc.selected()
	b.Run("latency", func(b *testing.B) { benchLatency(b, sc) })
	b.Run("throughput", func(b *testing.B) { benchThroughput(b, sc) })
}
