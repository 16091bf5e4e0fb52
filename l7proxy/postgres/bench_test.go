// SPDX-License-Identifier: Apache-2.0

// Benchmarks against direct connections to the same server: round-trip
// latency of a simple SELECT (p50, p99), and rows/s of a 100k-row result
// with a masked column.

package postgres

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BenchmarkSelect: SELECT of one row, prepared (pgx's default), direct
// and through the handler.
func BenchmarkSelect(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	f.setupCustomers(b)
	for _, via := range []string{"direct", "interlock"} {
		b.Run(via, func(b *testing.B) {
			c := f.direct(b)
			if via == "interlock" {
				c = f.agent(b)
			}
			ctx := context.Background()
			lat := make([]time.Duration, 0, b.N)
			var name string
			b.ResetTimer()
			for range b.N {
				start := time.Now()
				if err := c.QueryRow(ctx, "SELECT name FROM customers WHERE id = $1", 2).Scan(&name); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// BenchmarkRows: a 100k-row result whose email column is masked (and
// every text value scanned by the detectors), direct and through the
// handler.
func BenchmarkRows(b *testing.B) {
	f := newFixture(b, fixtureOptions{})
	f.exec(b,
		"CREATE TABLE customers (id int PRIMARY KEY, name text, email text, notes text, credit int)",
		"INSERT INTO customers SELECT i, 'name ' || i, 'user' || i || '@example.com', 'note number ' || i, i FROM generate_series(1, 100000) i",
	)
	const rows = 100000
	for _, via := range []string{"direct", "interlock"} {
		b.Run(via, func(b *testing.B) {
			c := f.direct(b)
			if via == "interlock" {
				c = f.agent(b)
			}
			ctx := context.Background()
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				r, err := c.Query(ctx, "SELECT id, name, email, notes, credit FROM customers", pgx.QueryExecModeCacheStatement)
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r.Next() {
					n++
				}
				if r.Err() != nil || n != rows {
					b.Fatalf("%d rows, %v", n, r.Err())
				}
			}
			b.ReportMetric(float64(rows*b.N)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
