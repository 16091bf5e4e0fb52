// SPDX-License-Identifier: Apache-2.0

// Package pki is the control plane's certificate authority: the control CA,
// which signs the control plane's server certificate and every enrolled
// node's client certificate, and the workload root, which signs each node's
// intermediate CA (the node mints TLS leaves with it, and workloads trust
// the root).
//
// It also keeps the Ed25519 key that signs the audit log's checkpoints
// ([Authority.LogKey], file log.key), made on first [Load] like the CAs.
//
// CA keys are ECDSA P-256. Keys live on disk in PEM files of mode 0600 in a
// directory of mode 0700; [Load] refuses a key file that group or others
// can read. Certificates issued from a CSR take only the CSR's public key:
// the subject, names and extensions are set here, never copied from the
// request.
//
// Sharp edges:
//   - The server certificate is minted at every [Load] caller's request and
//     never written to disk; restart the control plane to change its names.
//   - There is no revocation: a node certificate is valid until it expires.
//     The control plane refuses nodes it does not know.
//   - An *Authority is safe for concurrent use.
package pki
