// SPDX-License-Identifier: Apache-2.0

// workload.go holds Workload, what the kernel knows about one intercepted
// cgroup.

package bpf

// Workload is one intercepted cgroup: where its proxy listens and what to do
// while the proxy is not ready.
type Workload struct {
	// ID is opaque to the kernel; it is copied into every Original of the
	// workload's connections (e.g. an index into the node agent's table).
	ID uint32

	// ProxyPort4 is the port of the proxy listener on 127.0.0.1 in the
	// workload's network namespace: IPv4 and v4-mapped connects go there.
	// Zero means IPv4 connects are never ready.
	ProxyPort4 uint16

	// ProxyPort6 is the port of the proxy listener on [::1] in the
	// workload's network namespace. Zero means IPv6 connects are never ready.
	ProxyPort6 uint16

	// Ready says the proxy serves this workload. Even when Ready, a connect
	// is only redirected if a listener exists on the proxy port at that
	// moment, so a dead proxy fails closed without anyone clearing Ready.
	Ready bool

	// FailOpen lets intercepted connects go to their original destination,
	// uninspected, while the proxy is not ready. The default (false) refuses
	// them with EPERM.
	FailOpen bool
}
