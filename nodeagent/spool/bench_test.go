// SPDX-License-Identifier: Apache-2.0

// Append throughput with realistic events, fsync on.

package spool_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/interlockhq/interlock/nodeagent/spool"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// BenchmarkAppend appends one event per Append — an ARM request or
// response with a 2 KiB body, as the recorder does — from 1 and 16
// concurrent writers, every Append fsync'd (grouped). It reports events/s
// and the compressed chunk bytes per event.
func BenchmarkAppend(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	evs := make([]*interlockv1.SessionEvent, 512)
	for i := range evs {
		evs[i] = armEvent(r, fmt.Sprintf("s%d", i/64), uint64(i%64+1), 2048)
	}
	for _, bc := range []struct {
		writers int
		delay   time.Duration
	}{{1, 0}, {16, 0}, {16, 200 * time.Microsecond}} {
		writers := bc.writers
		b.Run(fmt.Sprintf("writers=%d/commitdelay=%v", writers, bc.delay), func(b *testing.B) {
			sp, err := spool.Open(b.TempDir(), spool.Options{CommitDelay: bc.delay})
			if err != nil {
				b.Fatal(err)
			}
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if err := sp.Append(context.Background(), evs[i%int64(len(evs)):][:1]); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			if err := sp.Close(); err != nil { // seals the rest
				b.Fatal(err)
			}
			st := sp.Stats()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(st.CompressedBytes)/float64(st.Events), "zstd-B/event")
			b.ReportMetric(float64(st.UncompressedBytes)/float64(st.Events), "raw-B/event")
			b.ReportMetric(float64(st.Events)/float64(max(st.Syncs, 1)), "events/fsync")
		})
	}
}
