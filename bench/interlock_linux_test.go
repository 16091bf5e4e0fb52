// SPDX-License-Identifier: Apache-2.0

// What the benchmarks' Interlock proxies share: the spool they record
// into, and the loopback listener that hands each connection to a
// protocol handler as the node's listener hands over one the kernel
// redirected, with the server as the original destination.

package bench

import (
	"context"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"testing"

	"github.com/interlockhq/interlock/bpf"
	"github.com/interlockhq/interlock/l7proxy"
	"github.com/interlockhq/interlock/nodeagent"
	"github.com/interlockhq/interlock/nodeagent/spool"
	"github.com/interlockhq/interlock/test/echoproc"
)

// interlock is a running handler behind its listener.
type interlock struct {
	addr  string
	spool *spool.Spool // nil when recording goes nowhere
}

// syncs returns how many fsyncs the spool made so far (0 without one).
func (il *interlock) syncs() uint64 {
	if il == nil || il.spool == nil {
		return 0
	}
	return il.spool.Stats().Syncs
}

// openSpool opens a spool in a temporary directory with the node's sync
// interval, and closes it on cleanup.
func openSpool(b *testing.B) *spool.Spool {
	b.Helper()
	sp, err := spool.Open(b.TempDir(), spool.Options{Logger: slog.New(slog.DiscardHandler), SyncInterval: nodeagent.DefaultSpoolSyncInterval})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { sp.Close() })
	return sp
}

// listenRedirected listens on a random loopback address and hands every
// connection to serve, with dst as its original destination, and returns
// the address. On cleanup it closes the listener, cancels the
// connections' context and waits for every serve to return; cleanups
// registered before it (the handler's Close, the spool's) run after.
func listenRedirected(b *testing.B, dst netip.AddrPort, serve func(context.Context, *l7proxy.Conn, l7proxy.Dialer)) string {
	b.Helper()
	ln, err := net.Listen("tcp", echoproc.RandomLoopback(0).String())
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	b.Cleanup(func() {
		ln.Close()
		cancel()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			lc := &l7proxy.Conn{
				TCPConn:  c.(*net.TCPConn),
				Original: bpf.Original{Dst: dst, PID: 4242, UID: 1000},
				Workload: l7proxy.Workload{Kind: "vm", Name: "bench-agent"},
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				serve(ctx, lc, dialTCP)
			}()
		}
	}()
	return ln.Addr().String()
}

// dialTCP is the Dialer of a proxy on the host: a plain dial.
func dialTCP(ctx context.Context, dst netip.AddrPort) (*net.TCPConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return nil, err
	}
	return c.(*net.TCPConn), nil
}
