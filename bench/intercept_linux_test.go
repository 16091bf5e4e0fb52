// SPDX-License-Identifier: Apache-2.0

// Interception benchmarks: connect() latency in an intercepted cgroup
// against a plain one, and passthrough throughput against a direct
// connection.

package bench

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/bpf/bpftest"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/workload"
	"github.com/interlockhq/interlock/test/echoproc"
	"github.com/interlockhq/interlock/test/podsim"
)

// acceptAndClose accepts on ln and closes every connection until ln closes.
func acceptAndClose(b *testing.B, ln net.Listener) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	b.Cleanup(func() { ln.Close(); <-done })
}

// connects is how many connect()+close() each side of BenchmarkConnect
// times per iteration.
const connects = 20000

// BenchmarkConnect times connect()+close() from a process in a plain
// cgroup and from one in an intercepted cgroup, 20,000 each per iteration,
// in the same run, and reports percentiles of the last iteration.
// The intercepted connect is redirected to a listener that accepts and
// closes, as the proxy's would; what is timed is the kernel path where the
// BPF programs run.
func BenchmarkConnect(b *testing.B) {
	objs := bpftest.Load(b, bpf.Config{})
	dst := echoproc.RandomLoopback(443)
	lnDst, err := net.Listen("tcp", dst.String())
	if err != nil {
		b.Fatal(err)
	}
	acceptAndClose(b, lnDst)
	lnProxy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	acceptAndClose(b, lnProxy)

	plain := podsim.Start(b, podsim.Options{Name: "bench-plain", HostNetwork: true})
	icpt := podsim.Start(b, podsim.Options{Name: "bench-icpt", HostNetwork: true})
	if err := objs.Attach(icpt.CgroupPath(), bpf.Workload{ID: 1, ProxyPort4: uint16(lnProxy.Addr().(*net.TCPAddr).Port), Ready: true}); err != nil {
		b.Fatal(err)
	}
	run := func(w *podsim.Workload) echoproc.ConnsResult {
		cmd := echoproc.Conns(dst, connects)
		var out strings.Builder
		cmd.Stdout = &out
		if err := w.Start(cmd); err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		r, err := echoproc.ParseConns([]byte(out.String()))
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	before, err := objs.Counters()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var p, i echoproc.ConnsResult
	for range b.N {
		p = run(plain)
		i = run(icpt)
	}
	b.StopTimer()
	after, err := objs.Counters()
	if err != nil {
		b.Fatal(err)
	}
	if got := after.Redirected - before.Redirected; got != uint64(b.N*connects) {
		b.Fatalf("%d of %d intercepted connects were redirected", got, b.N*connects)
	}
	b.ReportMetric(float64(p.P50Ns), "plain-p50-ns")
	b.ReportMetric(float64(p.P99Ns), "plain-p99-ns")
	b.ReportMetric(float64(i.P50Ns), "icpt-p50-ns")
	b.ReportMetric(float64(i.P99Ns), "icpt-p99-ns")
	b.ReportMetric(float64(i.P50Ns-p.P50Ns), "added-p50-ns")
	b.ReportMetric(float64(i.P50Ns)/float64(p.P50Ns), "p50-ratio")
	b.ReportMetric(0, "ns/op")
}

// cpuTime returns this process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPassthrough streams 1 GiB from a process to a sink directly,
// then from a process in an intercepted cgroup through the node agent's
// passthrough (spliced), in the same run, and reports both throughputs,
// their ratio, and the node agent's CPU time per GiB. The sender and the
// sink are processes of their own, so this process's CPU time is the
// agent's.
func BenchmarkPassthrough(b *testing.B) {
	bpftest.Require(b)
	const size = 1 << 30
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := uint16(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	a, err := nodeagent.New(nodeagent.Config{BPF: bpf.Config{PinDir: bpftest.PinDir()}, ProxyPort: port, DetachOnExit: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })

	direct := podsim.Start(b, podsim.Options{Name: "bench-direct", HostNetwork: true})
	icpt := podsim.Start(b, podsim.Options{Name: "bench-pass", HostNetwork: true})
	w := workload.Workload{Kind: workload.KindVM, Name: "bench", CgroupPath: icpt.CgroupPath(), CgroupID: icpt.CgroupID()}
	if _, err := a.Attach(ctx, w); err != nil {
		b.Fatal(err)
	}
	dst := echoproc.RandomLoopback(443)
	echoproc.StartSink(b, dst)
	send := func(w *podsim.Workload) echoproc.SendResult {
		cmd := echoproc.Send(dst, size)
		var out strings.Builder
		cmd.Stdout = &out
		if err := w.Start(cmd); err != nil {
			b.Fatal(err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
		r, err := echoproc.ParseSend([]byte(out.String()))
		if err != nil {
			b.Fatal(err)
		}
		return r
	}
	b.ResetTimer()
	var dNs, iNs int64
	var cpu time.Duration
	for range b.N {
		dNs += send(direct).Ns
		c0 := cpuTime(b)
		iNs += send(icpt).Ns
		cpu += cpuTime(b) - c0
	}
	b.StopTimer()
	if a.Accepted() != uint64(b.N) {
		b.Fatalf("the agent accepted %d connections, want %d", a.Accepted(), b.N)
	}
	gib := float64(b.N) // GiB sent each way
	b.ReportMetric(gib*1024/(float64(dNs)/1e9), "direct-MiB/s")
	b.ReportMetric(gib*1024/(float64(iNs)/1e9), "spliced-MiB/s")
	b.ReportMetric(float64(dNs)/float64(iNs), "ratio")
	b.ReportMetric(cpu.Seconds()/gib, "agent-cpu-s/GiB")
	b.ReportMetric(0, "ns/op")
}
