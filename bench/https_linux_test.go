// SPDX-License-Identifier: Apache-2.0

// The HTTPS enforcement benchmark: a small ARM GET on keep-alive
// connections, direct to the upstream, through Interlock and through
// nginx, in the same run with the same client; added latency unloaded and
// throughput at saturation, with the proxies' CPU time and peak memory.

package bench

import (
	"slices"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/azurefake"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/testca"
	"github.com/interlockhq/interlock/test/testenv"
)

// What each iteration of BenchmarkHTTPS's sub-benchmarks does per path.
const (
	latencyWarmup   = 200         // requests before timing
	latencyRequests = 1000        // timed one by one on one connection
	loadConns       = 16          // connections at saturation
	loadWarmup      = 20          // requests per connection before counting
	loadDuration    = time.Second // counted
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
// Interlock speaks HTTP/2 to the upstream when it offers it (as ARM
// does); nginx speaks HTTP/1.1. The client and the upstream are child
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
	for i := range paths {
		paths[i].load.Token = token
		// One request on each path first: it shows the path works, and
		// Interlock fetches Entra's signing keys for the first token it
		// verifies, which is no part of the figures.
		l := paths[i].load
		l.Conns, l.Requests = 1, 1
		runClient(b, l)
	}
	b.Run("latency", func(b *testing.B) { benchLatency(b, paths) })
	b.Run("throughput", func(b *testing.B) { benchThroughput(b, paths) })
}

// benchLatency times sequential requests on one connection per path and
// reports p50 and p99 of each path, and what each proxy adds to direct's.
func benchLatency(b *testing.B, paths []httpsPath) {
	lat := make([][]int64, len(paths))
	syncs := make([]uint64, len(paths))
	all := make([]int, len(paths))
	b.ResetTimer()
	for range b.N {
		for i, p := range paths {
			l := p.load
			l.Conns, l.Warmup, l.Requests = 1, latencyWarmup, latencyRequests
			s0 := p.il.syncs()
			r := runClient(b, l)
			syncs[i] += p.il.syncs() - s0
			all[i] += r.Requests
			lat[i] = append(lat[i], r.LatencyNs...)
		}
	}
	b.StopTimer()
	reportSyncs(b, paths, syncs, all)
	var base [2]int64
	for i, p := range paths {
		q := percentiles(lat[i], 50, 99)
		b.ReportMetric(float64(q[0]), p.name+"-p50-ns")
		b.ReportMetric(float64(q[1]), p.name+"-p99-ns")
		if i == 0 {
			base = [2]int64{q[0], q[1]}
			continue
		}
		b.ReportMetric(float64(q[0]-base[0]), p.name+"-added-p50-ns")
		b.ReportMetric(float64(q[1]-base[1]), p.name+"-added-p99-ns")
	}
	b.ReportMetric(0, "ns/op")
}

// benchThroughput runs loadConns connections per path for loadDuration
// and reports requests/s, the ratios to nginx and to direct, and each
// proxy's CPU time per 1,000 requests and peak RSS.
func benchThroughput(b *testing.B, paths []httpsPath) {
	type total struct {
		measured, all int
		elapsed, cpu  time.Duration
		syncs         uint64
		syscalls      int64
	}
	tot := make([]total, len(paths))
	for _, p := range paths {
		if p.proxy != nil {
			p.proxy.resetPeak(b)
		}
	}
	b.ResetTimer()
	for range b.N {
		for i, p := range paths {
			l := p.load
			l.Conns, l.Warmup, l.Duration = loadConns, loadWarmup, loadDuration
			var c0, c1 time.Duration
			var sc0, sc1 int64
			if p.proxy != nil {
				c0, sc0 = p.proxy.cpu(b), p.proxy.rwSyscalls(b)
			}
			s0 := p.il.syncs()
			r := runClient(b, l)
			if p.proxy != nil {
				c1, sc1 = p.proxy.cpu(b), p.proxy.rwSyscalls(b)
			}
			tot[i].syscalls += sc1 - sc0
			tot[i].syncs += p.il.syncs() - s0
			tot[i].cpu += c1 - c0
			tot[i].measured += r.Measured
			tot[i].all += r.Requests
			tot[i].elapsed += time.Duration(r.ElapsedNs)
		}
	}
	b.StopTimer()
	syncs, all := make([]uint64, len(paths)), make([]int, len(paths))
	for i, t := range tot {
		syncs[i], all[i] = t.syncs, t.all
	}
	reportSyncs(b, paths, syncs, all)
	rate := make(map[string]float64, len(paths))
	for i, p := range paths {
		t := tot[i]
		rate[p.name] = float64(t.measured) / t.elapsed.Seconds()
		b.ReportMetric(rate[p.name], p.name+"-req/s")
		if p.proxy != nil {
			b.ReportMetric(t.cpu.Seconds()/float64(t.all)*1000, p.name+"-cpu-s/1k-req")
			b.ReportMetric(float64(t.syscalls)/float64(t.all), p.name+"-rw-syscalls/req")
		}
	}
	b.ReportMetric(rate["interlock"]/rate["nginx"], "interlock/nginx")
	b.ReportMetric(rate["interlock-h2"]/rate["nginx"], "interlock-h2/nginx")
	b.ReportMetric(rate["interlock"]/rate["direct"], "interlock/direct")
	b.ReportMetric(rate["nginx"]/rate["direct"], "nginx/direct")
	b.ReportMetric(rate["interlock-nospool"]/rate["nginx"], "interlock-nospool/nginx")
	// This process's peak covers every Interlock path: reported once.
	for _, p := range paths {
		if p.name == "interlock" || p.name == "nginx" {
			b.ReportMetric(float64(p.proxy.peakRSS(b))/(1<<20), p.name+"-rss-MiB")
		}
	}
	b.ReportMetric(0, "ns/op")
}

// reportSyncs reports the spool's fsyncs per request of each path that
// records into one: every request waits for its events to be durable, and
// concurrent requests share group commits.
func reportSyncs(b *testing.B, paths []httpsPath, syncs []uint64, requests []int) {
	for i, p := range paths {
		if p.il != nil && p.il.spool != nil {
			b.ReportMetric(float64(syncs[i])/float64(requests[i]), p.name+"-fsyncs/req")
		}
	}
}

// percentiles returns the ps-th percentiles of ns (nearest rank); ns is
// sorted in place.
func percentiles(ns []int64, ps ...int) []int64 {
	slices.Sort(ns)
	out := make([]int64, len(ps))
	if len(ns) == 0 {
		return out
	}
	for i, p := range ps {
		k := (len(ns)*p + 99) / 100 // rank, 1-based
		out[i] = ns[max(k, 1)-1]
	}
	return out
}
