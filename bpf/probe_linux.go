// SPDX-License-Identifier: Apache-2.0

// probe_linux.go checks that the kernel has everything interception needs,
// and names what is missing.

package bpf

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
	"golang.org/x/sys/unix"
)

// Probe checks the running kernel for the program and map types, helpers,
// attach types and socket options that interception uses. The error wraps
// ErrNotSupported and names every missing feature, or, for other failures
// (not root, no BPF at all), says what failed. Probe loads the real programs
// once (so the verifier has the last word) and leaves nothing behind.
func Probe() error {
	var missing []error
	need := func(what string, err error) {
		if err != nil {
			missing = append(missing, fmt.Errorf("%s: %w", what, err))
		}
	}
	need("program type cgroup_sock_addr", features.HaveProgramType(ebpf.CGroupSockAddr))
	need("program type sock_ops", features.HaveProgramType(ebpf.SockOps))
	for _, mt := range []ebpf.MapType{ebpf.Hash, ebpf.LRUHash, ebpf.LPMTrie, ebpf.PerCPUArray} {
		need("map type "+mt.String(), features.HaveMapType(mt))
	}
	for _, h := range []asm.BuiltinFunc{
		asm.FnSkLookupTcp, asm.FnSkRelease, asm.FnGetSocketCookie,
		asm.FnGetCurrentAncestorCgroupId, asm.FnGetCurrentCgroupId,
		asm.FnGetCurrentPidTgid, asm.FnGetCurrentUidGid,
	} {
		need("helper "+h.String()+" in cgroup_sock_addr", features.HaveProgramHelper(ebpf.CGroupSockAddr, h))
	}
	for _, h := range []asm.BuiltinFunc{asm.FnGetSocketCookie, asm.FnGetNetnsCookie, asm.FnSockOpsCbFlagsSet} {
		need("helper "+h.String()+" in sock_ops", features.HaveProgramHelper(ebpf.SockOps, h))
	}
	need("socket option SO_NETNS_COOKIE (Linux 5.14)", probeNetnsCookie())
	if len(missing) > 0 {
		return fmt.Errorf("bpf: probe: %w: %w", ErrNotSupported, errors.Join(missing...))
	}
	// Feature checks cannot see attach types (getpeername hooks are Linux
	// 5.8) or verifier limits: load the real programs.
	var objs interlockObjects
	if err := loadInterlockObjects(&objs, nil); err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			return fmt.Errorf("bpf: probe: %w: programs rejected: %+v", ErrNotSupported, ve)
		}
		return fmt.Errorf("bpf: probe: load programs: %w", err)
	}
	return objs.Close()
}

func probeNetnsCookie() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("socket: %w", err)
	}
	defer unix.Close(fd)
	if _, err := unix.GetsockoptUint64(fd, unix.SOL_SOCKET, unix.SO_NETNS_COOKIE); err != nil {
		if errors.Is(err, unix.ENOPROTOOPT) {
			return ErrNotSupported
		}
		return err
	}
	return nil
}
