// SPDX-License-Identifier: Apache-2.0

// Package merkle is the Merkle tree of RFC 6962 (Certificate Transparency)
// and RFC 9162 §2.1: SHA-256 leaf hashes SHA-256(0x00 || data), interior
// hashes SHA-256(0x01 || left || right), the tree head over any number of
// leaves, inclusion proofs (audit paths) and consistency proofs, and the
// verifiers of RFC 9162 §2.1.3.2 and §2.1.4.2.
//
// The proof builders read only hashes of perfect subtrees — the 2^level
// leaves starting at leaf index<<level — through a [NodeFunc], so a store
// can keep those nodes (about two per leaf) and answer any root or proof
// in O(log² n) reads without rehashing leaves. [Appended] says which nodes
// a new leaf completes. [Tree] keeps them in memory.
//
// The verifiers share no code with the builders: they are the iterative
// algorithms of RFC 9162 and depend only on [LeafHash] and [NodeHash].
//
// Sharp edges:
//   - A [Tree] is not safe for concurrent use; the functions are, as long
//     as the NodeFunc they are given is.
//   - Proofs are built for the tree at a given size; a proof for size n
//     does not verify against a root of any other size.
package merkle
