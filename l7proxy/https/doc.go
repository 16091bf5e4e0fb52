// SPDX-License-Identifier: Apache-2.0

// Package https inspects intercepted HTTPS connections to the policy's
// https targets (Azure Resource Manager, Key Vault, Storage): it peeks the
// ClientHello, passes connections to non-targets through untouched,
// terminates TLS for targets with a leaf minted for the SNI, serves HTTP/2
// or HTTP/1.1 as the client negotiated, and for every request: finds the
// Azure operation, verifies the caller's bearer token, asks the policy,
// refuses (403 in ARM's error format) or holds it for approval, swaps in
// the node's own credential where the target says inject, forwards it over
// verified TLS to the original destination, masks the response, and
// records every step.
//
// The components it uses are given as functions and small interfaces in
// Config, declared here where they are consumed; the node agent wires the
// concrete ones (l7proxy/azure, l7proxy/identity, l7proxy/mask, the control
// plane's approvals).
//
// Sharp edges:
//   - Fail closed: a request whose token cannot be verified, whose policy
//     cannot be evaluated, or whose response cannot be masked as a rule
//     demands is refused; nothing reaches the workload unmasked.
//   - The workload's own credential never goes upstream when the target
//     injects, and the injected one never reaches the workload or a
//     recording: recorded headers pass through record.Redactor.
//   - Upstream connections go to the original destination the workload
//     dialed (not a fresh DNS answer), verified for the SNI.
//   - HTTP/1.1 connections are served by this package (h1.go): one
//     goroutine reads a request, serves it over the connection's own
//     upstream connection (h1upstream.go), writes the response and reads
//     the next, with no hand-off to another goroutine. HTTP/2 connections
//     go to net/http's server and a pool of HTTP/1.1 upstream connections
//     (h1pool.go).
//   - A response's record goes to the spool with the connection's next
//     decision, in one write, or within record.SendDelay if none comes
//     (record.Session.SendWithin).
//   - A request is durable in the spool (written, fsync'd within the
//     spool's SyncInterval) before anything goes upstream.
package https
