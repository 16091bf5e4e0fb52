// SPDX-License-Identifier: Apache-2.0

// Package podsim simulates a Kubernetes pod or a VM-style workload for eBPF
// and end-to-end tests, the demo and the benchmarks, with real kernel objects.
//
// A pod (the default) is:
//   - a named network namespace, /var/run/netns/il-NAME (so `ip netns exec`
//     works on it), with lo up and, when Options.Veth is set, a veth pair to
//     the host: a /30 picked at random among the free ones of 192.0.2.0/24
//     (TEST-NET-1), .1 on the host side (il-xxxxxxxx), .2 on the pod side
//     (eth0). A /30 is free when no address or route of the host overlaps
//     it; a host that uses TEST-NET-1 itself (this project's dev VM has
//     eth0 in 192.0.2.0/24) gets /30s of 198.51.100.0/24, then 203.0.113.0/24.
//     Use PodAddr and HostAddr, never a literal. A lock file,
//     /run/interlock-podsim.lock, keeps parallel test processes from picking
//     the same /30. The pod gets no default route: it reaches the host-side
//     address and nothing else;
//   - a cgroup v2 directory, interlock-podsim/NAME under the cgroup2 mount
//     found in /proc/mounts (the id BPF sees is CgroupID);
//   - its own /etc/hosts: the Options.Hosts entries plus the two localhost
//     lines, and its own /etc/resolv.conf naming only 127.0.0.1, so that a
//     name missing from Hosts fails on loopback instead of asking a real DNS
//     server.
//
// A VM-style workload (Options.HostNetwork) is the same on the host network.
//
// # How a command is started inside
//
// Workload.Start starts the exec.Cmd itself, so the process is the caller's
// command with its own PID, args, env and stdio, and cmd.Wait works as usual:
//   - cgroup: clone3 with CLONE_INTO_CGROUP (SysProcAttr.UseCgroupFD), so the
//     process is in the cgroup from its first instruction and so is every
//     socket it opens;
//   - network namespace: the fork happens on an OS thread locked to the
//     calling goroutine and switched into the pod's namespace with setns; the
//     child inherits the thread's namespace. The thread is switched back and
//     unlocked afterwards (or, if that fails, left locked so the runtime
//     discards it);
//   - mount namespace: a Go process cannot unshare its mount namespace on
//     one thread, so the child does it: SysProcAttr.Unshareflags gets
//     CLONE_NEWNS (the Go runtime also makes "/" rprivate there, so nothing
//     propagates back) and SysProcAttr.Ptrace stops the child at the
//     execve of the real program, before its first instruction. While it is
//     stopped, a helper, `nsenter --target PID --mount [--net] sh -c ...`,
//     bind-mounts the workload's hosts and resolv.conf files over /etc/hosts
//     and /etc/resolv.conf in the child's namespace and, for a pod, mounts a
//     fresh sysfs on /sys (as `ip netns exec` does, so /sys/class/net lists
//     the pod's interfaces). Then the child is detached and runs. glibc (psql,
//     getent, the cgo resolver) and Go's own resolver read the files through
//     the ordinary paths.
//
// Workload.Do runs a function on a locked OS thread inside the pod's network
// namespace, to listen or dial from inside in-process (the in-pod listener
// pattern of the node agent).
//
// # Sharp edges
//
//   - Everything needs root, a cgroup2 mount and util-linux (nsenter, mount)
//     plus /bin/sh; New reports their absence as errors.ErrUnsupported and
//     Start(t, ...) turns that into testenv.Skip.
//   - Start replaces cmd.SysProcAttr with a copy that adds UseCgroupFD,
//     CgroupFD, Ptrace and Unshareflags CLONE_NEWNS; a cmd that asks for
//     Ptrace or UseCgroupFD itself is refused.
//   - Close kills every process left in the cgroup, but does not reap: the
//     caller still calls cmd.Wait for each command it started.
//   - While Start or Do runs, one thread of the process, possibly the main
//     thread, is inside the pod's namespace. Code that wants the host's
//     namespace must read /proc/thread-self/ns/net on an unlocked thread
//     (or netns.Get), not /proc/self/ns/net, which is the main thread's.
//   - Close returns the first call's result on every call (nil after a clean
//     Close), rather than net.ErrClosed on the second, so that Close in a
//     test and again in Start's t.Cleanup never reports a spurious error.
//   - Sockets opened in Do belong to the caller and keep the namespace alive
//     after Close (its name and veth are gone, the kernel object lingers
//     until the last socket closes). Goroutines started inside fn run on
//     other threads, in the host's namespace.
//   - Edit HostsFile in place (os.WriteFile), never by rename: the bind mount
//     holds the inode. Commands started earlier see in-place edits.
//   - A host running nscd would answer glibc lookups from the host's hosts
//     file; so would `ip netns exec`. Tests here do not run nscd.
//   - If the test binary is killed, Close never runs: leftovers are named
//     il-* (/var/run/netns, veths) and live under the interlock-podsim cgroup.
//
// All methods of Workload are safe for concurrent use.
package podsim
