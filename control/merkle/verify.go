// SPDX-License-Identifier: Apache-2.0

// Verifying proofs: the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2,
// independent of how proofs are built.

package merkle

import (
	"errors"
	"fmt"
)

// ErrProof: a proof does not show what it claims. The wrapping error says
// why (wrong length, root mismatch, index out of range).
var ErrProof = errors.New("merkle: proof does not verify")

// VerifyInclusion checks that leaf (a leaf hash) is leaf index of the tree
// of size leaves with head root, given its audit path.
func VerifyInclusion(leaf Hash, index, size uint64, proof []Hash, root Hash) error {
	got, err := RootFromInclusionProof(leaf, index, size, proof)
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("%w: leaf %d of %d: computed root %s, want %s", ErrProof, index, size, got, root)
	}
	return nil
}

// RootFromInclusionProof returns the tree head that an audit path leads to
// from leaf at index in a tree of size leaves (RFC 9162 §2.1.3.2).
func RootFromInclusionProof(leaf Hash, index, size uint64, proof []Hash) (Hash, error) {
	if index >= size {
		return Hash{}, fmt.Errorf("%w: leaf index %d not in a tree of %d", ErrProof, index, size)
	}
	fn, sn, r := index, size-1, leaf
	for _, p := range proof {
		if sn == 0 {
			return Hash{}, fmt.Errorf("%w: leaf %d of %d: proof has %d hashes, too many", ErrProof, index, size, len(proof))
		}
		if fn&1 == 1 || fn == sn {
			r = NodeHash(p, r)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			r = NodeHash(r, p)
		}
		fn, sn = fn>>1, sn>>1
	}
	if sn != 0 {
		return Hash{}, fmt.Errorf("%w: leaf %d of %d: proof has %d hashes, too few", ErrProof, index, size, len(proof))
	}
	return r, nil
}

// VerifyConsistency checks that the tree of size first with head oldRoot
// is a prefix of the tree of size second with head newRoot (RFC 9162
// §2.1.4.2). Equal sizes need an empty proof and equal heads; the empty
// tree is a prefix of every tree.
func VerifyConsistency(first, second uint64, oldRoot, newRoot Hash, proof []Hash) error {
	switch {
	case first > second:
		return fmt.Errorf("%w: first size %d after second %d", ErrProof, first, second)
	case first == second:
		if len(proof) != 0 {
			return fmt.Errorf("%w: equal sizes need an empty proof, got %d hashes", ErrProof, len(proof))
		}
		if oldRoot != newRoot {
			return fmt.Errorf("%w: two different heads for size %d", ErrProof, first)
		}
		return nil
	case first == 0:
		if len(proof) != 0 {
			return fmt.Errorf("%w: the empty tree needs an empty proof, got %d hashes", ErrProof, len(proof))
		}
		return nil
	case len(proof) == 0:
		return fmt.Errorf("%w: empty proof from %d to %d", ErrProof, first, second)
	}
	if first&(first-1) == 0 {
		proof = append([]Hash{oldRoot}, proof...)
	}
	fn, sn := first-1, second-1
	for fn&1 == 1 {
		fn, sn = fn>>1, sn>>1
	}
	fr, sr := proof[0], proof[0]
	for _, c := range proof[1:] {
		if sn == 0 {
			return fmt.Errorf("%w: %d to %d: proof too long", ErrProof, first, second)
		}
		if fn&1 == 1 || fn == sn {
			fr, sr = NodeHash(c, fr), NodeHash(c, sr)
			for fn&1 == 0 && fn != 0 {
				fn, sn = fn>>1, sn>>1
			}
		} else {
			sr = NodeHash(sr, c)
		}
		fn, sn = fn>>1, sn>>1
	}
	if sn != 0 {
		return fmt.Errorf("%w: %d to %d: proof too short", ErrProof, first, second)
	}
	if fr != oldRoot {
		return fmt.Errorf("%w: %d to %d: proof leads to old head %s, want %s", ErrProof, first, second, fr, oldRoot)
	}
	if sr != newRoot {
		return fmt.Errorf("%w: %d to %d: proof leads to new head %s, want %s", ErrProof, first, second, sr, newRoot)
	}
	return nil
}
