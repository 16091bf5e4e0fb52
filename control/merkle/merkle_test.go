// SPDX-License-Identifier: Apache-2.0

package merkle

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

// The leaves and heads of the Certificate Transparency test vectors
// (certificate-transparency merkle_tree_test.cc; also transparency-dev).
var ctLeaves = []string{
	"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
	"606162636465666768696a6b6c6d6e6f",
}

var ctRoots = []string{
	"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
	"fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
	"aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
	"d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
	"4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
	"76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
	"ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
	"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestKnownVectors(t *testing.T) {
	if got, want := EmptyRoot().String(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"; got != want {
		t.Errorf("EmptyRoot = %s, want %s", got, want)
	}
	if got, want := LeafHash(nil).String(), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"; got != want {
		t.Errorf("LeafHash(empty) = %s, want %s", got, want)
	}
	var tr Tree
	if r, _ := tr.Root(0); r != EmptyRoot() {
		t.Errorf("empty Tree root = %s", r)
	}
	for i, l := range ctLeaves {
		tr.Append(unhex(t, l))
		for size := uint64(1); size <= tr.Size(); size++ {
			got, err := tr.Root(size)
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != ctRoots[size-1] {
				t.Errorf("after %d appends: root(%d) = %s, want %s", i+1, size, got, ctRoots[size-1])
			}
		}
	}
}

// refRoot is MTH(D[n]) written out as RFC 6962 §2.1 defines it.
func refRoot(leaves [][]byte) Hash {
	switch len(leaves) {
	case 0:
		return EmptyRoot()
	case 1:
		return LeafHash(leaves[0])
	}
	k := splitPoint(uint64(len(leaves)))
	return NodeHash(refRoot(leaves[:k]), refRoot(leaves[k:]))
}

// refPath is PATH(m, D[n]) of RFC 6962 §2.1.1.
func refPath(m int, leaves [][]byte) []Hash {
	if len(leaves) <= 1 {
		return nil
	}
	k := int(splitPoint(uint64(len(leaves))))
	if m < k {
		return append(refPath(m, leaves[:k]), refRoot(leaves[k:]))
	}
	return append(refPath(m-k, leaves[k:]), refRoot(leaves[:k]))
}

// refProof is PROOF(m, D[n]) of RFC 6962 §2.1.2.
func refProof(m int, leaves [][]byte) []Hash {
	if m == 0 || m == len(leaves) {
		return nil
	}
	return refSubproof(m, leaves, true)
}

func refSubproof(m int, leaves [][]byte, whole bool) []Hash {
	n := len(leaves)
	if m == n {
		if whole {
			return nil
		}
		return []Hash{refRoot(leaves)}
	}
	k := int(splitPoint(uint64(n)))
	if m <= k {
		return append(refSubproof(m, leaves[:k], whole), refRoot(leaves[k:]))
	}
	return append(refSubproof(m-k, leaves[k:], false), refRoot(leaves[:k]))
}

func leavesN(n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = []byte(fmt.Sprintf("leaf %d", i))
	}
	return out
}

func treeOf(leaves [][]byte) *Tree {
	var t Tree
	for _, l := range leaves {
		t.Append(l)
	}
	return &t
}

// tlogHashes adapts a Tree to x/mod's independent RFC 6962 implementation.
type tlogHashes struct{ t *Tree }

func (h tlogHashes) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		level, n := tlog.SplitStoredHashIndex(x)
		got, err := h.t.Node(uint8(level), uint64(n))
		if err != nil {
			return nil, err
		}
		out[i] = tlog.Hash(got)
	}
	return out, nil
}

func TestInclusionAllSizes(t *testing.T) {
	all := leavesN(70)
	tr := treeOf(all)
	for size := 1; size <= len(all); size++ {
		root, err := tr.Root(uint64(size))
		if err != nil {
			t.Fatal(err)
		}
		if want := refRoot(all[:size]); root != want {
			t.Fatalf("root(%d) = %s, reference %s", size, root, want)
		}
		if th, err := tlog.TreeHash(int64(size), tlogHashes{tr}); err != nil || Hash(th) != root {
			t.Fatalf("root(%d) = %s, x/mod/sumdb/tlog %s (%v)", size, root, Hash(th), err)
		}
		for i := range size {
			proof, err := tr.InclusionProof(uint64(i), uint64(size))
			if err != nil {
				t.Fatal(err)
			}
			if want := refPath(i, all[:size]); !equalHashes(proof, want) {
				t.Fatalf("PATH(%d, %d) = %v, reference %v", i, size, proof, want)
			}
			if err := VerifyInclusion(LeafHash(all[i]), uint64(i), uint64(size), proof, root); err != nil {
				t.Fatalf("leaf %d of %d: %v", i, size, err)
			}
			if err := tlog.CheckRecord(toTlog(proof), int64(size), tlog.Hash(root), int64(i), tlog.Hash(LeafHash(all[i]))); err != nil {
				t.Fatalf("leaf %d of %d: x/mod/sumdb/tlog rejects the proof: %v", i, size, err)
			}
		}
	}
}

func TestConsistencyAllPairs(t *testing.T) {
	all := leavesN(40)
	tr := treeOf(all)
	for n := 0; n <= len(all); n++ {
		newRoot, _ := tr.Root(uint64(n))
		for m := 0; m <= n; m++ {
			oldRoot, _ := tr.Root(uint64(m))
			proof, err := tr.ConsistencyProof(uint64(m), uint64(n))
			if err != nil {
				t.Fatal(err)
			}
			if want := refProof(m, all[:n]); !equalHashes(proof, want) {
				t.Fatalf("PROOF(%d, %d) = %v, reference %v", m, n, proof, want)
			}
			if err := VerifyConsistency(uint64(m), uint64(n), oldRoot, newRoot, proof); err != nil {
				t.Fatalf("%d to %d: %v", m, n, err)
			}
			if m > 0 && m < n {
				if err := tlog.CheckTree(toTlog(proof), int64(n), tlog.Hash(newRoot), int64(m), tlog.Hash(oldRoot)); err != nil {
					t.Fatalf("%d to %d: x/mod/sumdb/tlog rejects the proof: %v", m, n, err)
				}
			}
		}
	}
}

func TestInclusionTampered(t *testing.T) {
	all := leavesN(21)
	tr := treeOf(all)
	size := uint64(len(all))
	root, _ := tr.Root(size)
	index := uint64(13)
	leaf := LeafHash(all[index])
	proof, _ := tr.InclusionProof(index, size)
	flip := func(h Hash) Hash { h[7] ^= 0x10; return h }
	withFlip := func(i int) []Hash {
		p := append([]Hash(nil), proof...)
		p[i] = flip(p[i])
		return p
	}
	tests := []struct {
		name  string
		leaf  Hash
		index uint64
		size  uint64
		proof []Hash
		root  Hash
	}{
		{"flipped leaf", flip(leaf), index, size, proof, root},
		{"flipped first hash", leaf, index, size, withFlip(0), root},
		{"flipped last hash", leaf, index, size, withFlip(len(proof) - 1), root},
		{"flipped root", leaf, index, size, proof, flip(root)},
		{"wrong index", leaf, index + 1, size, proof, root},
		{"wrong index (sibling)", leaf, index - 1, size, proof, root},
		{"index past end", leaf, size, size, proof, root},
		// Sizes whose paths have the same shape (21 and 22 for leaf 13)
		// cannot be told apart by the path: the signed checkpoint binds
		// the size to the root.
		{"wrong size", leaf, index, 2 * size, proof, root},
		{"smaller size", leaf, index, size - 5, proof, root},
		{"short proof", leaf, index, size, proof[:len(proof)-1], root},
		{"long proof", leaf, index, size, append(append([]Hash(nil), proof...), root), root},
		{"no proof", leaf, index, size, nil, root},
		{"data hashed as node", NodeHash(Hash{}, Hash{}), index, size, proof, root},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyInclusion(tt.leaf, tt.index, tt.size, tt.proof, tt.root)
			if !errors.Is(err, ErrProof) {
				t.Errorf("VerifyInclusion = %v, want ErrProof", err)
			}
		})
	}
	if err := VerifyInclusion(leaf, index, size, proof, root); err != nil {
		t.Fatalf("untampered: %v", err)
	}
}

func TestConsistencyTampered(t *testing.T) {
	all := leavesN(29)
	tr := treeOf(all)
	m, n := uint64(11), uint64(29)
	oldRoot, _ := tr.Root(m)
	newRoot, _ := tr.Root(n)
	proof, _ := tr.ConsistencyProof(m, n)
	otherOld, _ := tr.Root(m + 1)
	flip := func(h Hash) Hash { h[0] ^= 1; return h }
	flipped := append([]Hash(nil), proof...)
	flipped[1] = flip(flipped[1])
	tests := []struct {
		name             string
		m, n             uint64
		oldRoot, newRoot Hash
		proof            []Hash
	}{
		{"flipped hash", m, n, oldRoot, newRoot, flipped},
		{"flipped old root", m, n, flip(oldRoot), newRoot, proof},
		{"flipped new root", m, n, oldRoot, flip(newRoot), proof},
		{"wrong old size", m + 1, n, otherOld, newRoot, proof},
		{"wrong new size", m, 2 * n, oldRoot, newRoot, proof},
		{"short proof", m, n, oldRoot, newRoot, proof[:len(proof)-1]},
		{"long proof", m, n, oldRoot, newRoot, append(append([]Hash(nil), proof...), newRoot)},
		{"empty proof", m, n, oldRoot, newRoot, nil},
		{"first after second", n, m, newRoot, oldRoot, proof},
		{"equal sizes, other heads", n, n, oldRoot, newRoot, nil},
		{"equal sizes, a proof", n, n, newRoot, newRoot, proof},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyConsistency(tt.m, tt.n, tt.oldRoot, tt.newRoot, tt.proof)
			if !errors.Is(err, ErrProof) {
				t.Errorf("VerifyConsistency = %v, want ErrProof", err)
			}
		})
	}
}

func TestBuilderErrors(t *testing.T) {
	tr := treeOf(leavesN(5))
	if _, err := tr.InclusionProof(5, 5); !errors.Is(err, ErrSize) {
		t.Errorf("InclusionProof(5, 5) = %v, want ErrSize", err)
	}
	if _, err := tr.InclusionProof(0, 6); !errors.Is(err, ErrSize) {
		t.Errorf("InclusionProof(0, 6) = %v, want ErrSize", err)
	}
	if _, err := tr.ConsistencyProof(4, 3); !errors.Is(err, ErrSize) {
		t.Errorf("ConsistencyProof(4, 3) = %v, want ErrSize", err)
	}
	if _, err := tr.Root(6); !errors.Is(err, ErrSize) {
		t.Errorf("Root(6) = %v, want ErrSize", err)
	}
	boom := errors.New("disk on fire")
	if _, err := Root(3, func(uint8, uint64) (Hash, error) { return Hash{}, boom }); !errors.Is(err, boom) {
		t.Errorf("Root with a failing store = %v, want it wrapped", err)
	}
}

// TestAppendedNodes checks the nodes an append completes, as a store
// would keep them: two per leaf on average, and exactly the tree's.
func TestAppendedNodes(t *testing.T) {
	stored := map[[2]uint64]Hash{}
	get := func(l uint8, i uint64) (Hash, error) {
		h, ok := stored[[2]uint64{uint64(l), i}]
		if !ok {
			return Hash{}, fmt.Errorf("no node %d/%d", l, i)
		}
		return h, nil
	}
	all := leavesN(64)
	tr := treeOf(all)
	for i, l := range all {
		nodes, err := Appended(uint64(i), LeafHash(l), get)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range nodes {
			want, err := tr.Node(n.Level, n.Index)
			if err != nil || want != n.Hash {
				t.Fatalf("append %d: node %d/%d = %s, tree has %s (%v)", i, n.Level, n.Index, n.Hash, want, err)
			}
			stored[[2]uint64{uint64(n.Level), n.Index}] = n.Hash
		}
	}
	if len(stored) != 2*64-1 {
		t.Errorf("%d nodes stored for 64 leaves, want 127", len(stored))
	}
}

func equalHashes(a, b []Hash) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i][:], b[i][:]) {
			return false
		}
	}
	return true
}

func toTlog(p []Hash) []tlog.Hash {
	out := make([]tlog.Hash, len(p))
	for i, h := range p {
		out[i] = tlog.Hash(h)
	}
	return out
}
