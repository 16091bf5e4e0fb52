// SPDX-License-Identifier: Apache-2.0

// Package control is the Interlock control plane: the gRPC services of
// proto/interlock/v1 (NodeService, PolicyService, ApprovalService,
// SessionService, AuditService) over one TLS listener, behind
// go-grpc-middleware interceptors for logging, recovery, authentication
// (package control/auth) and request validation.
//
// [New] takes a [Config] holding a [Store] (the embedded control/store.DB
// by default), the certificate authority (control/pki) and the policy
// validator; [Server.Serve] runs until its context ends or [Server.Close].
//
// Sharp edges:
//   - Watch streams (policy, approvals) end when the server closes; clients
//     reconnect and get the current state first.
//   - An approval watcher that falls more than WatchBuffer changes behind is
//     cut off (UNAVAILABLE) rather than slowing everyone down.
//   - GetCheckpoint and ExportEvidence answer UNIMPLEMENTED: the Merkle audit
//     log belongs to a later issue.
//   - Whoever calls New must call Close. A *Server is safe for concurrent
//     use; its Config must not change once passed to New.
package control
