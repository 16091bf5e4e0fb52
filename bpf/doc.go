// SPDX-License-Identifier: Apache-2.0

// Package bpf holds Interlock's transparent interception: the eBPF programs
// (interlock.c, compiled by bpf2go into the committed interlock_bpfel.o and
// interlock_bpfel.go) and their loader.
//
// A process in an intercepted cgroup that connect()s over TCP to an
// intercepted destination (port in Config.Ports and longest matching prefix
// in Config.Intercept) is sent to its workload's proxy listener on loopback
// instead (127.0.0.1:Workload.ProxyPort4, or [::1]:ProxyPort6), in its own
// network namespace. The proxy accepts, calls NetnsCookie on the accepted
// connection and Objects.Lookup with the client address, and gets the
// Original: the destination dialed, the caller's cgroup, workload, pid and
// uid. getpeername in the process still shows the destination it dialed.
//
// Lifecycle: Probe says whether the kernel can do it (and names what is
// missing); Load loads the programs and creates or takes over the maps and
// links pinned in Config.PinDir; Attach intercepts a cgroup; SetReady says
// whether its proxy serves it; Close releases the process's descriptors but
// leaves the pins, so interception (and failing closed) continues while no
// agent runs; the next Load takes over. Unpin followed by Close, or Detach,
// removes interception.
//
// # Kernel requirements
//
// Linux 5.15 or later with cgroup v2 (bpf_get_netns_cookie in sock_ops is
// 5.15; getpeername hooks 5.8; SO_NETNS_COOKIE 5.14; cgroup bpf_link 5.7).
// Probe checks each. Load does not touch RLIMIT_MEMLOCK: from 5.11 BPF
// memory is charged to the memory cgroup instead.
//
// # Sharp edges
//
//   - Fail closed. A connect that matches the interception set is refused
//     with EPERM when the workload is not Ready, when nothing listens on its
//     proxy port (checked with bpf_sk_lookup_tcp at every connect, so a dead
//     proxy fails closed without anyone clearing Ready), and when the cgroup
//     has programs but no workload entry. Workload.FailOpen lets it through
//     unchanged instead. Nothing else (UDP, DNS, other ports) is touched.
//   - Lookup only works while the client socket is open: the sockops
//     program deletes both records when the socket reaches TCP_CLOSE. Call it
//     right after Accept. The connection maps are LRU maps bounded by
//     Config.MaxConnections; under more live connections than that, the
//     oldest records are evicted and Lookup returns ErrNotFound, which a
//     proxy must treat as "refuse".
//   - A record is stored at connect() and removed when the socket closes
//     after its SYN was sent. A connect that fails before the SYN (no route,
//     no local port) leaves a record that only LRU eviction removes.
//   - The workload is found from the cgroup of the task calling connect()
//     (bpf_get_current_ancestor_cgroup_id), while the kernel runs the
//     programs of the cgroup the socket was created in. They differ only for
//     a socket passed between cgroups; such a connect is refused if the
//     caller is in no workload.
//   - PIDs are in the initial PID namespace, UIDs in the initial user
//     namespace: not what a process inside a pod sees of itself.
//   - Load mounts bpffs on /sys/fs/bpf when the pin dir is below it and
//     nothing is mounted there (and logs it); the mount stays.
//   - Changing Config.MaxConnections, or a map layout in interlock.c, makes
//     Load fail on existing pins with ebpf.ErrMapIncompatible: Unpin first.
//
// # Where this differs from the design, and why
//
//   - The workload walk goes from the root cgroup down and keeps the deepest
//     registered ancestor, stopping where bpf_get_current_ancestor_cgroup_id
//     returns 0 (past the task's level): the same answer as walking up from
//     level 32, for one map lookup per level of actual depth instead of 32.
//   - Load swaps its freshly loaded programs into the pinned links with
//     link.Update (atomic; no moment without a program), so an upgraded agent
//     runs its own programs on the old maps. Pinned links whose cgroup was
//     removed while no agent ran are defunct (ENOLINK on update); Load
//     removes them and their workload entries.
//   - A sixth counter, RefusedNoWorkload, separates "no workload entry" from
//     "proxy not ready".
//   - bpf/include/asm holds three one-line architecture-neutral shims for
//     the uapi headers' <asm/...> includes, so the object is compiled with
//     -target bpfel without the host's multiarch include directory, and is the
//     same whichever machine runs go generate.
//   - IPv4 destinations dialed on AF_INET6 sockets (::ffff:a.b.c.d) go to
//     ::ffff:127.0.0.1:ProxyPort4, the IPv4 listener, since such sockets
//     speak IPv4 on the wire; Original.Dst keeps the v4-mapped form.
//
// Objects' methods are safe for concurrent use. The package never imports
// gRPC (see deps_test.go).
package bpf
