// SPDX-License-Identifier: Apache-2.0

// Package workload finds the workloads the node agent intercepts: which
// cgroups to attach the BPF programs to, and in which network namespaces to
// open the proxy's listeners.
//
// A workload is a cgroup v2 directory and maybe a network namespace:
//   - a VM workload comes from the node's config, by cgroup path or by
//     systemd unit (systemd is asked with `systemctl show -p ControlGroup`
//     when it runs; otherwise the cgroup2 tree is searched, to a bounded
//     depth, for a directory named like the unit). It is on the host
//     network (NetnsPath "");
//   - a pod comes from a PodSource and the Selectors (namespace and a
//     Kubernetes label selector). Its cgroup is found from its UID under
//     the kubepods hierarchy, whichever cgroup driver (cgroupfs or systemd)
//     laid it out and whatever its QoS class; its network namespace is that
//     of a process of one of its containers (the child cgroups of the
//     pod's cgroup).
//
// Something not there yet (a cgroup not made, a unit not running, a pod
// without a cgroup or without a running container) is not an error: it is
// left out and shows up in a later scan. Scanner.Run rescans on an interval
// and on Rescan, and reports what appeared and went away by Workload.Key.
//
// ListenInNetns and Workload.Listen open a listener inside a pod's network
// namespace from the host (the in-pod pattern of Istio ambient's ztunnel);
// NetnsCookieOf returns the namespace's cookie, the key BPF sees.
//
// # Sharp edges
//
//   - Paths are as this process sees them: the node agent needs the host's
//     cgroup2 hierarchy (Config.CgroupRoot if mounted elsewhere), the host's
//     PID namespace (NetnsPath is /proc/PID/ns/net) and the host network
//     (a pod in the agent's own namespace counts as hostNetwork).
//   - NetnsPath names a process, not the namespace: it goes stale when the
//     process exits and may then name another process. Open it promptly;
//     Workload.Listen checks NetnsInode and returns ErrNetnsChanged.
//   - A listener keeps its namespace alive after the pod is gone; close it
//     when Run reports the workload removed.
//   - CRI-O's conmon cgroups (host namespace) are skipped; any other child
//     cgroup of a pod is taken to be a container in the pod's namespace. A
//     container that unshares its own namespace in its init process would
//     mislead the lookup.
//   - For a static pod the PodSource must report the kubelet's config hash
//     as the UID (the mirror pod's kubernetes.io/config.mirror annotation),
//     since that is what the pod's cgroup is named after.
//   - A cgroup that holds this process, or an ancestor of it, is refused
//     (logged), so the node agent never intercepts itself. Inside a cgroup
//     namespace the check only sees the namespace's root.
//   - Two workloads with the same cgroup: the first (VMs before pods) wins,
//     the other is reported.
//   - Label changes of a selected pod do not change its Key and produce no
//     event; a pod that stops matching is removed.
//   - While the PodSource fails, Run keeps every pod it knew (an API
//     outage must not stop interception); Scan returns the error.
//   - There is no Kubernetes client here: the node agent supplies the
//     PodSource (client-go listing with fieldSelector spec.nodeName=NODE,
//     or the kubelet's pod list).
//
// A Scanner is safe for concurrent use; only one Run may run at a time.
package workload
