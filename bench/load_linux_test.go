// SPDX-License-Identifier: Apache-2.0

// The load clients' common loop: keep-alive connections that each make
// one request at a time, either timing every request (latency) or
// counting them for a while (throughput). What a request is belongs to
// the protocol's client (https_load, postgres_load).

package bench

import (
	"context"
	"errors"
	"sync"
	"time"
)

// loadShape is how a load client drives its connections.
type loadShape struct {
	Conns int `json:"conns"`
	// Warmup is how many requests each connection makes before measuring.
	Warmup int `json:"warmup"`
	// Requests > 0: each connection times this many requests one by one.
	// Otherwise the connections make requests for Duration.
	Requests int           `json:"requests"`
	Duration time.Duration `json:"duration"`
}

// loadResult is what a load client measured.
type loadResult struct {
	Requests   int     `json:"requests"`  // all completed, warm-up included
	Measured   int     `json:"measured"`  // completed in the measured window
	ElapsedNs  int64   `json:"elapsedNs"` // the measured window
	LatencyNs  []int64 `json:"latencyNs,omitempty"`
	Errors     int     `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	// RWSyscalls is the client process's own read/write system calls
	// (syscr + syscw), read just before it reports: once the parent
	// reaps it, the kernel adds them to the parent's /proc/self/io.
	RWSyscalls int64 `json:"rwSyscalls"`
}

// doer makes one request on its connection and reads the whole answer.
type doer interface {
	do(ctx context.Context) error
	close()
}

// runConns opens s.Conns connections with dial, warms each up, and then
// drives them all at once as s says. A failed dial or request counts as
// an error of the result, not of runConns.
func runConns(ctx context.Context, s loadShape, dial func(context.Context) (doer, error)) (loadResult, error) {
	if s.Conns < 1 {
		return loadResult{}, errors.New("no connections")
	}
	var (
		res      loadResult
		mu       sync.Mutex // guards res
		ready    sync.WaitGroup
		done     sync.WaitGroup
		start    = make(chan struct{})
		deadline time.Time // written before start closes
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if res.Errors == 0 {
			res.FirstError = err.Error()
		}
		res.Errors++
	}
	for range s.Conns {
		ready.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			var all, measured int
			var lat []int64
			defer func() {
				mu.Lock()
				res.Requests += all
				res.Measured += measured
				res.LatencyNs = append(res.LatencyNs, lat...)
				mu.Unlock()
			}()
			d, err := dial(ctx)
			if err == nil {
				defer d.close()
				for i := 0; i < s.Warmup && err == nil; i++ {
					if err = d.do(ctx); err == nil {
						all++
					}
				}
			}
			ready.Done()
			<-start
			if err != nil {
				fail(err)
				return
			}
			if s.Requests > 0 {
				lat = make([]int64, 0, s.Requests)
				for range s.Requests {
					t0 := time.Now()
					if err := d.do(ctx); err != nil {
						fail(err)
						return
					}
					lat = append(lat, time.Since(t0).Nanoseconds())
					all++
					measured++
				}
				return
			}
			for time.Now().Before(deadline) {
				if err := d.do(ctx); err != nil {
					fail(err)
					return
				}
				all++
				measured++
			}
		}()
	}
	ready.Wait()
	t0 := time.Now()
	deadline = t0.Add(s.Duration)
	close(start)
	done.Wait()
	res.ElapsedNs = time.Since(t0).Nanoseconds()
	return res, nil
}
