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
//   - Every stored chunk and audit record is a leaf of the audit log (an
//     RFC 6962 Merkle tree, control/merkle) appended in the transaction
//     that stores it. GetCheckpoint signs a checkpoint (control/auditlog)
//     with the Authority's log key when the log has grown since the last
//     one; ExportEvidence streams a bundle (control/evidence) proven
//     against such a checkpoint, and leaves out chunks stored after it.
//   - Whoever calls New must call Close. A *Server is safe for concurrent
//     use; its Config must not change once passed to New.
package control
