// SPDX-License-Identifier: Apache-2.0

// Leaf and interior node hashes (RFC 6962 §2.1).

package merkle

import (
	"crypto/sha256"
	"encoding/hex"
)

// HashSize is the size of every hash in the tree.
const HashSize = sha256.Size

// Hash is a SHA-256 digest: a leaf, an interior node or a tree head.
type Hash [HashSize]byte

// String is the hash in lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Domain separation prefixes (RFC 6962 §2.1).
const (
	leafPrefix = 0x00
	nodePrefix = 0x01
)

// LeafHash is the hash of a leaf: SHA-256(0x00 || data).
func LeafHash(data []byte) Hash {
	h := sha256.New()
	h.Write([]byte{leafPrefix})
	h.Write(data)
	var out Hash
	h.Sum(out[:0])
	return out
}

// NodeHash is the hash of an interior node: SHA-256(0x01 || left || right).
func NodeHash(left, right Hash) Hash {
	var buf [1 + 2*HashSize]byte
	buf[0] = nodePrefix
	copy(buf[1:], left[:])
	copy(buf[1+HashSize:], right[:])
	return sha256.Sum256(buf[:])
}

// EmptyRoot is the head of the tree without leaves: SHA-256 of "".
func EmptyRoot() Hash { return sha256.Sum256(nil) }
