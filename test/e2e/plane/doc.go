// SPDX-License-Identifier: Apache-2.0

// Package plane runs the real control plane (control.Server over the
// embedded SQLite store) in-process on 127.0.0.1 for tests, with a test
// OIDC issuer for people and the real policy validator, and can stop it
// and start it again on the same data directory and address — a control
// plane restart as the nodes see it.
//
// Sharp edges:
//   - Start registers Stop with t.Cleanup; the data directory is a
//     t.TempDir.
//   - While stopped, the store is closed: BootstrapToken fails the test.
//   - Restart listens on the same port; another process could take it in
//     between (unlikely on loopback with an ephemeral port), which fails
//     the test rather than moving the address.
package plane
