// SPDX-License-Identifier: Apache-2.0

// Package auditlog says what the control plane's tamper-evident audit log
// commits to and how it vouches for it (NIST SP 800-53 AU-9, AU-10): the
// encoding of its leaves (one per stored session chunk, one per audit
// record) and its signed checkpoints.
//
// The log is an RFC 6962 Merkle tree (package control/merkle). A leaf is
// a version byte, a kind byte and the kind's fields, each integer a fixed
// 8 bytes big-endian and each string or byte string prefixed with its
// length as 4 bytes big-endian, so no two different leaves encode alike:
//
//	chunk:  0x01 0x01 node seq sha256(stored bytes) nsessions session...
//	record: 0x01 0x02 id time(unix ns) actor action object detail
//
// A checkpoint is a signed note (golang.org/x/mod/sumdb/note, the format
// of C2SP tlog-checkpoint): the origin line, the tree size, the base64
// tree head, a "time" line, then an Ed25519 signature line. Its key id is
// the note key hash, eight hex digits.
//
// Sharp edges:
//   - A chunk leaf lists the chunk's session ids sorted and without
//     repeats; [ChunkLeaf.Encode] sorts a copy.
//   - A verifier key taken from the same place as the checkpoint proves
//     only that the two agree; trust comes from a key obtained elsewhere.
//   - A *Signer is safe for concurrent use.
package auditlog
