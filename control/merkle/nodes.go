// SPDX-License-Identifier: Apache-2.0

// Perfect-subtree nodes: what a store keeps, and what one append adds.

package merkle

import (
	"errors"
	"fmt"
	"math/bits"
)

// ErrSize: a leaf index or tree size that the tree or the proof request
// cannot have (an index past the end, a first size past the second).
var ErrSize = errors.New("merkle: index or size out of range")

// Node is the hash of a perfect subtree: the 2^Level leaves starting at
// leaf Index<<Level. Level 0 nodes are the leaf hashes.
type Node struct {
	Level uint8
	Index uint64
	Hash  Hash
}

// NodeFunc returns a stored perfect-subtree hash. The builders only ask
// for nodes that exist in the tree of the size they were given; an error
// is passed up wrapped.
type NodeFunc func(level uint8, index uint64) (Hash, error)

// Appended returns the nodes that appending a leaf with hash leaf to a
// tree of size leaves completes: the leaf itself, then each parent whose
// right child is new, lowest first. It reads one left sibling per parent.
// On average a leaf completes two nodes.
func Appended(size uint64, leaf Hash, get NodeFunc) ([]Node, error) {
	out := []Node{{Level: 0, Index: size, Hash: leaf}}
	h, idx := leaf, size
	for level := uint8(0); idx&1 == 1; level++ {
		left, err := get(level, idx-1)
		if err != nil {
			return nil, fmt.Errorf("merkle: node %d/%d: %w", level, idx-1, err)
		}
		h, idx = NodeHash(left, h), idx>>1
		out = append(out, Node{Level: level + 1, Index: idx, Hash: h})
	}
	return out, nil
}

// Root returns the tree head over the first size leaves.
func Root(size uint64, get NodeFunc) (Hash, error) {
	if size == 0 {
		return EmptyRoot(), nil
	}
	return rangeHash(0, size, get)
}

// rangeHash is MTH(D[a:b]) (RFC 6962 §2.1) for b > a: a stored node when
// the range is a perfect, aligned subtree, else split at the largest power
// of two below its size.
func rangeHash(a, b uint64, get NodeFunc) (Hash, error) {
	n := b - a
	if n&(n-1) == 0 {
		level := uint8(bits.TrailingZeros64(n))
		if a&(n-1) == 0 {
			h, err := get(level, a>>level)
			if err != nil {
				return Hash{}, fmt.Errorf("merkle: node %d/%d: %w", level, a>>level, err)
			}
			return h, nil
		}
	}
	k := splitPoint(n)
	l, err := rangeHash(a, a+k, get)
	if err != nil {
		return Hash{}, err
	}
	r, err := rangeHash(a+k, b, get)
	if err != nil {
		return Hash{}, err
	}
	return NodeHash(l, r), nil
}

// splitPoint is the largest power of two smaller than n (n > 1).
func splitPoint(n uint64) uint64 {
	return 1 << (bits.Len64(n-1) - 1)
}
