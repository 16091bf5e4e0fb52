// SPDX-License-Identifier: Apache-2.0

// Package auth decides who calls the control plane and what they may do.
//
// Callers are nodes, by the client certificate the control CA issued them
// at enrolment (role node), and people, by an OIDC bearer token
// (github.com/coreos/go-oidc/v3) whose claims [Binding]s map to the roles
// admin, approver and auditor. The embedded single-machine default also
// accepts a local admin credential: a random token in a file of mode 0600
// owned by the control plane's user, which grants admin.
//
// Every gRPC method of the control API has an entry in one table
// ([MethodRoles]); a method without one is refused, so a new method cannot
// slip through unguarded (a test walks the service descriptors).
//
// Sharp edges:
//   - Roles do not imply each other: admin alone cannot list approvals or
//     sessions; bind a person to every role they need.
//   - The TLS layer verifies client certificates (tls.VerifyClientCertIfGiven
//     against the control CA); [Authenticator] only reads the verified chain.
//   - A bearer token is only accepted on a TLS connection.
//   - An *Authenticator must not be changed once in use; it is safe for
//     concurrent use.
package auth
