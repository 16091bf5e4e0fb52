// SPDX-License-Identifier: Apache-2.0

// counters.go holds Counters and MapSizes, the numbers metrics are built on.

package bpf

// Counters are totals over all CPUs since the maps were created (they
// survive a takeover by a restarted agent).
type Counters struct {
	Redirected        uint64 // connects rewritten to a proxy listener
	RefusedNotReady   uint64 // refused: proxy not ready or not listening
	RefusedNoWorkload uint64 // refused: cgroup has programs but no workload entry
	FailedOpen        uint64 // passed unchanged: not ready, workload fails open
	Skipped           uint64 // TCP connects outside the interception set
	MapUpdateErrors   uint64 // records that could not be stored
}

// MapSizes are the live entries of each map, counted by iteration (O(n); for
// metrics and tests, not the data path).
type MapSizes struct {
	SockOrig, ConnOrig, Workloads, InterceptPorts, InterceptDsts int
}
