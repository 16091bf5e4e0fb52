// SPDX-License-Identifier: Apache-2.0

// Package cgroups finds the cgroup v2 hierarchy and reads what Interlock
// needs from it: a cgroup's id (what BPF programs see), its processes, and
// the cgroup of a process.
//
// The cgroup2 mount is found in /proc/mounts, never assumed: on hybrid
// hierarchies it is /sys/fs/cgroup/unified, not /sys/fs/cgroup.
package cgroups
