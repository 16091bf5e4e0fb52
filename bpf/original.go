// SPDX-License-Identifier: Apache-2.0

// original.go holds Original, what the kernel recorded about a redirected
// connection: where it was going and who opened it.

package bpf

import (
	"net/netip"
)

// Original is the record of one redirected connection.
type Original struct {
	// Dst is the destination the application dialed. An IPv4 destination
	// dialed on an AF_INET socket is a plain IPv4 address; one dialed as
	// ::ffff:a.b.c.d on an AF_INET6 socket keeps that form (Dst.Addr().Is4In6()),
	// so Dst.Addr().Unmap() gives the address to dial upstream in both cases.
	Dst netip.AddrPort

	// CgroupID is the cgroup of the task that called connect(); it may be
	// a descendant of the workload's cgroup (a pod's container).
	CgroupID uint64

	// WorkloadCgroupID is the nearest registered (Attach'ed) ancestor of
	// CgroupID, or CgroupID itself.
	WorkloadCgroupID uint64

	// WorkloadID is Workload.ID of that workload.
	WorkloadID uint32

	// PID and TID are the process and thread that called connect(), in the
	// initial PID namespace (not the pod's).
	PID, TID uint32

	// UID and GID are the caller's in the initial user namespace.
	UID, GID uint32
}
