// SPDX-License-Identifier: Apache-2.0

// Package interlockv1 is Interlock's control API: the gRPC services between
// nodes, people and the control plane (PolicyService, ApprovalService,
// SessionService, AuditService, NodeService) and the session event model
// that recordings are made of.
//
// The .pb.go files are generated from the .proto files beside them by
// `make generate` and committed; CI fails when they are stale. Recordings
// outlive code, so the wire format only grows: TestGoldenEvents decodes
// events encoded by an earlier version and fails if a field was renumbered
// or its type changed.
package interlockv1
