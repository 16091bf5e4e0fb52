// SPDX-License-Identifier: Apache-2.0

// Append throughput with realistic events, fsync on.

package spool_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
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

// BenchmarkAppendLatency appends one event at a time, as one proxied
// request does, with the node's SyncInterval: Appends write, and an fsync
// every SyncInterval runs beside them. It reports the p50 and p99 of an
// Append's latency; the p99 shows whether Appends wait for fsyncs.
func BenchmarkAppendLatency(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	ev := armEvent(r, "s", 1, 2048)
	sp, err := spool.Open(b.TempDir(), spool.Options{SyncInterval: 20 * time.Millisecond})
	if err != nil {
		b.Fatal(err)
	}
	defer sp.Close()
	lat := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if err := sp.Append(context.Background(), []*interlockv1.SessionEvent{ev}); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(sp.Stats().Syncs), "fsyncs")
}
