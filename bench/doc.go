// SPDX-License-Identifier: Apache-2.0

// Package bench holds Interlock's benchmarks against baselines run in the
// same process: a direct connection, nginx, pgbouncer. Each benchmark
// reports its figures and the ratio to its baseline with b.ReportMetric;
// nothing here asserts a figure. Run them with `make bench` (as root: they
// load BPF programs and make cgroups). INTERLOCK_BENCH_PATHS=interlock
// (comma-separated path names) runs only those paths, besides direct, to
// profile or trace one of them.
package bench
