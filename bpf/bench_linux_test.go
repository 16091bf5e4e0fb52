// SPDX-License-Identifier: Apache-2.0

// bench_linux_test.go measures connect()+close() in an intercepted pod
// against a plain one.

package bpf

import (
	"sync"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
)

// BenchmarkConnect reports ns/op as measured by the child around its
// connect+close loop (SO_LINGER 0), without the child's start-up.
func BenchmarkConnect(b *testing.B) {
	o := newObjects(b, Config{})
	for _, intercepted := range []bool{false, true} {
		name := "plain"
		if intercepted {
			name = "intercepted"
		}
		b.Run(name, func(b *testing.B) {
			w := podsim.Start(b, podsim.Options{Name: "bpf-bench"})
			addr := "127.0.0.9:443"
			if intercepted {
				addr = "127.0.0.1:0"
			}
			ln := listen(b, w, addr)
			if intercepted {
				if err := o.Attach(w.CgroupPath(), Workload{ProxyPort4: listenerPort(ln), Ready: true}); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { o.Detach(w.CgroupPath()) })
			}
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := ln.AcceptTCP()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
			b.Cleanup(func() {
				ln.Close()
				wg.Wait()
			})
			res := startChild(b, w, "flood", dialReq{Dst: "127.0.0.9:443", Count: b.N, Linger: true}).wait(b, 5*time.Minute)
			if res.Done != b.N {
				b.Fatalf("flood: %+v", res)
			}
			b.ReportMetric(float64(res.Nanos)/float64(b.N), "ns/op")
		})
	}
}
