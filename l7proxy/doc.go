// SPDX-License-Identifier: Apache-2.0

// Package l7proxy is the node's proxy: it accepts the connections that the
// kernel (package bpf) redirected to it, learns where each was going and
// which workload made it, and either inspects it (the protocol
// sub-packages) or passes it through untouched.
//
// A Listener wraps a loopback listener that bpf redirects a workload's
// connects to. Accept returns a *Conn that carries the original
// destination and the workload, resolved from the kernel's maps by the
// listener's network namespace cookie and the client's address. A
// connection the kernel has no record of is refused (closed), never
// guessed at: fail closed.
//
// Passthrough relays a connection to its original destination with
// io.Copy between two *net.TCPConn values, so that Go splices the bytes in
// the kernel and nothing crosses user space.
//
// Sharp edges:
//   - Accept must resolve the original destination while the client socket
//     is open: the kernel forgets it at close. Accept does it before
//     returning.
//   - The proxy's own upstream connections must not be made from an
//     intercepted cgroup, or they would be redirected to the proxy itself.
//     The node agent runs outside every workload's cgroup.
package l7proxy
