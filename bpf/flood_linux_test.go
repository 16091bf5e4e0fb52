// SPDX-License-Identifier: Apache-2.0

// flood_test.go tests that the connection maps stay bounded: after many
// redirected connections they hold only live entries.

package bpf

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/podsim"
)

func TestMapsHoldOnlyLiveEntries(t *testing.T) {
	tests := []struct {
		name   string
		count  int
		linger bool // client closes with RST; else FIN and TIME_WAIT
	}{
		{"100k rst", 100_000, true},
		{"10k fin", 10_000, false},
	}
	if testing.Short() {
		tests = tests[1:]
	}
	o := newObjects(t, Config{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := podsim.Start(t, podsim.Options{Name: "bpf-flood"})
			proxy := listen(t, w, "127.0.0.1:0")
			if err := o.Attach(w.CgroupPath(), Workload{ProxyPort4: listenerPort(proxy), Ready: true}); err != nil {
				t.Fatal(err)
			}
			var accepted atomic.Int64
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					c, err := proxy.AcceptTCP()
					if err != nil {
						return
					}
					accepted.Add(1)
					c.Close()
				}
			}()
			t.Cleanup(func() {
				proxy.Close()
				wg.Wait()
			})
			before, err := o.Counters()
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			res := startChild(t, w, "flood", dialReq{Dst: "127.0.0.9:443", Count: tt.count, Linger: tt.linger}).wait(t, 2*time.Minute)
			if res.Done != tt.count {
				t.Fatalf("flood: %+v", res)
			}
			t.Logf("%d connections in %v (%v per connect+close, child's clock)", tt.count, time.Since(start).Round(time.Millisecond),
				time.Duration(res.Nanos/int64(tt.count)))
			deadline := time.Now().Add(10 * time.Second)
			var sizes MapSizes
			for {
				sizes, err = o.MapSizes()
				if err != nil {
					t.Fatal(err)
				}
				if (sizes.SockOrig == 0 && sizes.ConnOrig == 0 && accepted.Load() == int64(tt.count)) || time.Now().After(deadline) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if sizes.SockOrig != 0 || sizes.ConnOrig != 0 {
				t.Errorf("after all connections closed: %+v, want no connection entries", sizes)
			}
			if n := accepted.Load(); n != int64(tt.count) {
				t.Errorf("proxy accepted %d, want %d", n, tt.count)
			}
			after, err := o.Counters()
			if err != nil {
				t.Fatal(err)
			}
			if d := after.Redirected - before.Redirected; d != uint64(tt.count) || after.MapUpdateErrors != 0 {
				t.Errorf("redirected %d (want %d), counters %+v", d, tt.count, after)
			}
		})
	}
}
