// SPDX-License-Identifier: Apache-2.0

// The shape the proxy benchmarks share: paths from the same load client
// to the same server, direct and through each proxy, measured in turn
// within each iteration, unloaded (latency) and at saturation
// (throughput), with what each proxy's processes spent.

package bench

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// pathsEnv, when set, names the paths a scenario runs (comma-separated,
// e.g. "direct,interlock"), so that one path can be profiled or traced
// alone. The first path of a scenario is always run: latency is added
// to it.
const pathsEnv = "INTERLOCK_BENCH_PATHS"

// What each iteration of a scenario's sub-benchmarks does per path.
const (
	latencyWarmup   = 200         // requests before timing
	latencyRequests = 1000        // timed one by one on one connection
	loadConns       = 16          // connections at saturation
	loadWarmup      = 20          // requests per connection before counting
	loadDuration    = time.Second // counted
)

// benchPath is one way from a load client to the server.
type benchPath struct {
	name  string
	run   func(b *testing.B, s loadShape) loadResult // runs the client child
	proxy proxyProc                                  // nil for direct
	il    *interlock                                 // nil but for Interlock's paths
}

// scenario is the paths of one benchmark and how its figures are named.
type scenario struct {
	paths []benchPath // the first is direct: latency is added to it
	// one and many name what the client makes in metric names:
	// "-rw-syscalls/"+one, "-"+many+"/s", "-cpu-s/1k-"+many.
	one, many string
	ratios    [][2]string // throughputs reported as a/b, by path name
	rss       []string    // paths whose proxy's peak RSS is reported, one per process
}

// selected returns sc with only the paths that pathsEnv names (and the
// first), and the ratios and peaks among them.
func (sc scenario) selected() scenario {
	names := strings.Split(os.Getenv(pathsEnv), ",")
	if os.Getenv(pathsEnv) == "" {
		return sc
	}
	keep := func(name string) bool { return name == sc.paths[0].name || slices.Contains(names, name) }
	out := sc
	out.paths = nil
	for _, p := range sc.paths {
		if keep(p.name) {
			out.paths = append(out.paths, p)
		}
	}
	out.ratios = nil
	for _, r := range sc.ratios {
		if keep(r[0]) && keep(r[1]) {
			out.ratios = append(out.ratios, r)
		}
	}
	out.rss = slices.DeleteFunc(slices.Clone(sc.rss), func(n string) bool { return !keep(n) })
	return out
}

// benchLatency times sequential requests on one connection per path and
// reports p50 and p99 of each path, and what each proxy adds to direct's.
func benchLatency(b *testing.B, sc scenario) {
	lat := make([][]int64, len(sc.paths))
	syncs := make([]uint64, len(sc.paths))
	all := make([]int, len(sc.paths))
	b.ResetTimer()
	for range b.N {
		for i, p := range sc.paths {
			s0 := p.il.syncs()
			r := p.run(b, loadShape{Conns: 1, Warmup: latencyWarmup, Requests: latencyRequests})
			syncs[i] += p.il.syncs() - s0
			all[i] += r.Requests
			lat[i] = append(lat[i], r.LatencyNs...)
		}
	}
	b.StopTimer()
	reportSyncs(b, sc, syncs, all)
	var base [2]int64
	for i, p := range sc.paths {
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
// and reports the rate of each path, the scenario's ratios, and each
// proxy's CPU time per 1,000 requests, read/write system calls per
// request and peak RSS.
func benchThroughput(b *testing.B, sc scenario) {
	type total struct {
		measured, all int
		elapsed, cpu  time.Duration
		syncs         uint64
		syscalls      int64
	}
	tot := make([]total, len(sc.paths))
	for _, p := range sc.paths {
		if p.proxy != nil {
			p.proxy.resetPeak(b)
		}
	}
	b.ResetTimer()
	for range b.N {
		for i, p := range sc.paths {
			var c0, c1 time.Duration
			var sc0, sc1 int64
			if p.proxy != nil {
				c0, sc0 = p.proxy.cpu(b), p.proxy.rwSyscalls(b)
			}
			s0 := p.il.syncs()
			r := p.run(b, loadShape{Conns: loadConns, Warmup: loadWarmup, Duration: loadDuration})
			if p.proxy != nil {
				c1, sc1 = p.proxy.cpu(b), p.proxy.rwSyscalls(b)
			}
			if _, self := p.proxy.(selfProc); self {
				// The client, this process's child, was reaped meanwhile:
				// the kernel added its system calls to ours.
				sc1 -= r.RWSyscalls
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
	syncs, all := make([]uint64, len(sc.paths)), make([]int, len(sc.paths))
	for i, t := range tot {
		syncs[i], all[i] = t.syncs, t.all
	}
	reportSyncs(b, sc, syncs, all)
	rate := make(map[string]float64, len(sc.paths))
	for i, p := range sc.paths {
		t := tot[i]
		rate[p.name] = float64(t.measured) / t.elapsed.Seconds()
		b.ReportMetric(rate[p.name], p.name+"-"+sc.many+"/s")
		if p.proxy != nil {
			b.ReportMetric(t.cpu.Seconds()/float64(t.all)*1000, p.name+"-cpu-s/1k-"+sc.many)
			b.ReportMetric(float64(t.syscalls)/float64(t.all), p.name+"-rw-syscalls/"+sc.one)
		}
	}
	for _, r := range sc.ratios {
		b.ReportMetric(rate[r[0]]/rate[r[1]], r[0]+"/"+r[1])
	}
	for _, p := range sc.paths {
		if slices.Contains(sc.rss, p.name) {
			b.ReportMetric(float64(p.proxy.peakRSS(b))/(1<<20), p.name+"-rss-MiB")
		}
	}
	b.ReportMetric(0, "ns/op")
}

// reportSyncs reports the spool's fsyncs per request of each path that
// records into one: every request waits for its events to be durable, and
// concurrent requests share group commits.
func reportSyncs(b *testing.B, sc scenario, syncs []uint64, requests []int) {
	for i, p := range sc.paths {
		if p.il != nil && p.il.spool != nil {
			b.ReportMetric(float64(syncs[i])/float64(requests[i]), p.name+"-fsyncs/"+sc.one)
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
