// SPDX-License-Identifier: Apache-2.0

// Package deploy holds no code: it is the home of Interlock's deployment
// files — Kustomize manifests in kubernetes/ (base, overlays, an example
// workload) and systemd units with their install script in systemd/ — and
// of the tests that hold them to the binary and to the Kubernetes API.
//
// The tests build every overlay with kustomize's Go API (krusty), decode
// every object strictly into its k8s.io/api type (an unknown or misspelt
// field fails), check the invariants the comments in the manifests
// promise (host PID, the exact capability list, bpffs propagation, RBAC,
// the PVC), and run the containers' and units' command lines through the
// real command tree (internal/cli), so that a flag renamed in the binary
// breaks the test rather than a cluster.
//
// Sharp edges:
//   - Rules the API server enforces but the Go types do not (Bidirectional
//     propagation only in privileged containers; allowPrivilegeEscalation
//     false never with privileged or CAP_SYS_ADMIN) are checked here by
//     hand; anything else the API server validates is not.
//   - The capability test runs the node agent with the systemd unit's
//     bounding set and needs root, bpffs and cgroup v2; it pins under a
//     fresh /sys/fs/bpf/interlock-deploytest-* directory and removes it.
//   - systemd-analyze verify only runs where systemd-analyze is installed;
//     the units are parsed and their flags checked everywhere.
package deploy
