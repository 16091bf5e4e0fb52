// SPDX-License-Identifier: Apache-2.0

// Tree: an append-only tree in memory, keeping every perfect subtree.

package merkle

import "fmt"

// Tree is an append-only Merkle tree in memory. It keeps every
// perfect-subtree hash (about 2n hashes for n leaves), so appends cost
// amortised two hashes and roots and proofs O(log² n) lookups. The zero
// Tree is empty and ready. A Tree is not safe for concurrent use.
type Tree struct {
	// levels[l][i] is the hash of leaves [i<<l, (i+1)<<l).
	levels [][]Hash
}

// Size is the number of leaves.
func (t *Tree) Size() uint64 {
	if len(t.levels) == 0 {
		return 0
	}
	return uint64(len(t.levels[0]))
}

// Append adds a leaf with the given data and returns its index.
func (t *Tree) Append(data []byte) uint64 { return t.AppendHash(LeafHash(data)) }

// AppendHash adds a leaf by its leaf hash and returns its index.
func (t *Tree) AppendHash(leaf Hash) uint64 {
	idx := t.Size()
	nodes, _ := Appended(idx, leaf, t.Node) // t.Node cannot fail for these
	for _, n := range nodes {
		if int(n.Level) == len(t.levels) {
			t.levels = append(t.levels, nil)
		}
		t.levels[n.Level] = append(t.levels[n.Level], n.Hash)
	}
	return idx
}

// Node returns a perfect-subtree hash; it is a [NodeFunc].
func (t *Tree) Node(level uint8, index uint64) (Hash, error) {
	if int(level) >= len(t.levels) || index >= uint64(len(t.levels[level])) {
		return Hash{}, fmt.Errorf("%w: no node %d/%d", ErrSize, level, index)
	}
	return t.levels[level][index], nil
}

// Root returns the head of the tree over its first size leaves.
func (t *Tree) Root(size uint64) (Hash, error) {
	if size > t.Size() {
		return Hash{}, fmt.Errorf("%w: size %d of a tree of %d", ErrSize, size, t.Size())
	}
	return Root(size, t.Node)
}

// InclusionProof returns the audit path of leaf index in the tree of size
// leaves.
func (t *Tree) InclusionProof(index, size uint64) ([]Hash, error) {
	if size > t.Size() {
		return nil, fmt.Errorf("%w: size %d of a tree of %d", ErrSize, size, t.Size())
	}
	return InclusionProof(index, size, t.Node)
}

// ConsistencyProof returns the proof that the tree of size first is a
// prefix of the tree of size second.
func (t *Tree) ConsistencyProof(first, second uint64) ([]Hash, error) {
	if second > t.Size() {
		return nil, fmt.Errorf("%w: size %d of a tree of %d", ErrSize, second, t.Size())
	}
	return ConsistencyProof(first, second, t.Node)
}
