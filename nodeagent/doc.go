// SPDX-License-Identifier: Apache-2.0

// Package nodeagent is the node runtime: it loads (or takes over) the BPF
// interception, attaches it to each workload's cgroup, opens the proxy
// listeners the kernel redirects to — on the host's loopback for VM
// workloads, inside each pod's network namespace for pods — and serves
// every accepted connection (see package l7proxy).
//
// Lifecycle and failure: an Agent that stops without DetachOnExit leaves
// the interception pinned, so a restart or upgrade never lets a workload's
// connection bypass the proxy: while no agent listens, intercepted connects
// fail at once (EPERM), unless the workload is fail-open. The next Agent
// takes the pins over.
//
// Proxy mode (NewProxyMode) is the explicit fallback where eBPF cannot be
// attached: workloads reach the node through HTTPS_PROXY and local
// PostgreSQL listeners, and each connection's process and workload are
// told from /proc. A Node (NewNode) runs either interception layer with
// the same enforcement behind it (NodeConfig.Proxy chooses); in proxy mode
// nothing stops a workload that ignores HTTPS_PROXY.
//
// The local API (a root-only unix socket) lets `interlock exec` register a
// new VM workload for the command it runs.
package nodeagent
