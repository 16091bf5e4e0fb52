// SPDX-License-Identifier: Apache-2.0

// convert_linux.go converts between the package's types and the
// bpf2go-generated map layouts of interlock.c.

package bpf

import (
	"net/netip"
)

// workload flags, mirrored from interlock.c.
const (
	flagReady    uint32 = 1 << 0
	flagFailOpen uint32 = 1 << 1
)

func (w Workload) value() interlockWorkload {
	v := interlockWorkload{ProxyPort4: w.ProxyPort4, ProxyPort6: w.ProxyPort6, Id: w.ID}
	if w.Ready {
		v.Flags |= flagReady
	}
	if w.FailOpen {
		v.Flags |= flagFailOpen
	}
	return v
}

// origFlagV4Mapped is ORIG_V4MAPPED in interlock.c.
const origFlagV4Mapped = 1 << 0

func originalFrom(r *interlockOrigRecord) Original {
	addr := netip.AddrFrom16(r.Addr)
	if r.Flags&origFlagV4Mapped == 0 && addr.Is4In6() {
		addr = addr.Unmap()
	}
	return Original{
		Dst:              netip.AddrPortFrom(addr, r.Port),
		CgroupID:         r.CgroupId,
		WorkloadCgroupID: r.WorkloadCgroupId,
		WorkloadID:       r.WorkloadId,
		PID:              r.Tgid,
		TID:              r.Pid,
		UID:              r.Uid,
		GID:              r.Gid,
	}
}

// connKey returns the conn_orig key of a client address in a network
// namespace. IPv4 and v4-mapped addresses give the same key.
func connKey(netnsCookie uint64, client netip.AddrPort) interlockConnKey {
	return interlockConnKey{
		NetnsCookie: netnsCookie,
		Addr:        client.Addr().Unmap().As16(),
		Port:        client.Port(),
	}
}
