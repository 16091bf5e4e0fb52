// SPDX-License-Identifier: Apache-2.0

package merkle

import "testing"

// splitHashes cuts b into whole hashes, at most 70 (a proof for 2^64
// leaves has 64).
func splitHashes(b []byte) []Hash {
	var out []Hash
	for len(b) >= HashSize && len(out) < 70 {
		out = append(out, Hash(b[:HashSize]))
		b = b[HashSize:]
	}
	return out
}

// FuzzVerifyInclusion feeds the verifier arbitrary proofs, indexes and
// sizes: it must never panic, and must accept only what a real tree built.
func FuzzVerifyInclusion(f *testing.F) {
	tr := treeOf(leavesN(13))
	for _, c := range [][2]uint64{{0, 1}, {5, 13}, {12, 13}, {7, 8}} {
		p, _ := tr.InclusionProof(c[0], c[1])
		var b []byte
		for _, h := range p {
			b = append(b, h[:]...)
		}
		f.Add(c[0], c[1], b, uint8(0))
	}
	f.Fuzz(func(t *testing.T, index, size uint64, proof []byte, flip uint8) {
		hashes := splitHashes(proof)
		if size > 0 && size <= tr.Size() && index < size {
			leaf, _ := tr.Node(0, index)
			root, _ := tr.Root(size)
			want, _ := tr.InclusionProof(index, size)
			err := VerifyInclusion(leaf, index, size, hashes, root)
			if (err == nil) != equalHashes(hashes, want) {
				t.Fatalf("VerifyInclusion(%d, %d) = %v for proof %v, real proof %v", index, size, err, hashes, want)
			}
			return
		}
		var leaf, root Hash
		leaf[0], root[0] = flip, flip^1
		_ = VerifyInclusion(leaf, index, size, hashes, root)
	})
}

// FuzzVerifyConsistency does the same for consistency proofs.
func FuzzVerifyConsistency(f *testing.F) {
	tr := treeOf(leavesN(13))
	for _, c := range [][2]uint64{{1, 2}, {3, 7}, {4, 13}, {12, 13}} {
		p, _ := tr.ConsistencyProof(c[0], c[1])
		var b []byte
		for _, h := range p {
			b = append(b, h[:]...)
		}
		f.Add(c[0], c[1], b)
	}
	f.Fuzz(func(t *testing.T, m, n uint64, proof []byte) {
		hashes := splitHashes(proof)
		if m > 0 && m < n && n <= tr.Size() {
			oldRoot, _ := tr.Root(m)
			newRoot, _ := tr.Root(n)
			want, _ := tr.ConsistencyProof(m, n)
			err := VerifyConsistency(m, n, oldRoot, newRoot, hashes)
			if (err == nil) != equalHashes(hashes, want) {
				t.Fatalf("VerifyConsistency(%d, %d) = %v for proof %v, real proof %v", m, n, err, hashes, want)
			}
			return
		}
		_ = VerifyConsistency(m, n, Hash{1}, Hash{2}, hashes)
	})
}
