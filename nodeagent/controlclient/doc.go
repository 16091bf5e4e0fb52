// SPDX-License-Identifier: Apache-2.0

// Package controlclient is what a node needs from the control plane:
// enrolment and an mTLS gRPC connection ([Enroll], [Dial]), the policy
// watch with a cache of the last good bundle ([PolicyWatcher]), the
// approval client the proxies wait on ([Approvals]), and the uploader of
// the node's session spool ([Client.Uploader]).
//
// State lives in one directory (mode 0700): the two P-256 keys (0600,
// made before enrolment and reused if it is cut short), the client
// certificate, the node's intermediate CA, the control CA bundle, the
// workload root, node.json (written last: the node is enrolled once it
// exists) and the policy cache. Later starts load it and never need the
// bootstrap token again.
//
// Sharp edges:
//   - Enroll trusts only the control CA it is given: there is no trust on
//     first use.
//   - A PolicyWatcher applies a bundle only when its sha256 matches its
//     documents and it loads with l7proxy/policy; a bundle that does not is
//     logged and skipped, and the node keeps enforcing the previous one.
//     The cache is replaced atomically after OnBundle returns.
//   - OnBundle runs with the watcher's lock held: it must not call the
//     watcher.
//   - Versions only grow: a control plane whose store was reset (versions
//     restarting at 1) is not followed below the cached version until the
//     cache file is removed.
//   - Approvals.Wait needs Run to hear decisions at once; without it Wait
//     still finds them by polling (ApprovalOptions.PollEvery).
//   - Whoever Dials a Client must Close it after stopping the watchers
//     and the uploader that use it.
package controlclient
