// SPDX-License-Identifier: Apache-2.0

// Package evidence is the evidence bundle an auditor takes home: its
// layout, a streaming [Writer] the control plane exports with, and
// [Verify], which checks a bundle offline (no network, no control plane)
// and says, per NIST SP 800-53 control, what it showed.
//
// A bundle is a tar archive of regular files (see [Manifest] for the
// layout). manifest.json comes last: it lists every other file with its
// size and SHA-256, the sessions and chunks and where each one's proof
// is, and the checkpoint everything is proven against; manifest.sig is
// the log key's signature over the manifest's digest. Verify trusts none
// of it: it recomputes each chunk's audit log leaf from the chunk's bytes
// and checks its inclusion proof against the signed checkpoint, decodes
// every chunk, checks that each session's events run from seq 1 without
// a gap and equal the JSON written for people, and checks every audit
// record's proof.
//
// Sharp edges:
//   - Trust comes from the log key. A key read from the bundle itself only
//     shows that the bundle agrees with itself; pass the key obtained from
//     the control plane's operator ([Options.Key]).
//   - Verify reads the archive once, in order, holding per event a digest
//     and per chunk its proof, never a whole chunk longer than it takes
//     to check it. [Limits] bound every entry and the whole.
//   - A *Writer is not safe for concurrent use; Verify is.
package evidence
