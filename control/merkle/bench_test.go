// SPDX-License-Identifier: Apache-2.0

package merkle

import (
	"encoding/binary"
	"testing"
)

const benchLeaves = 100_000

func benchTree(b *testing.B) *Tree {
	b.Helper()
	var t Tree
	var buf [8]byte
	for i := range uint64(benchLeaves) {
		binary.BigEndian.PutUint64(buf[:], i)
		t.Append(buf[:])
	}
	return &t
}

func BenchmarkAppend(b *testing.B) {
	var t Tree
	var buf [8]byte
	b.ReportAllocs()
	for i := range b.N {
		binary.BigEndian.PutUint64(buf[:], uint64(i))
		t.Append(buf[:])
	}
}

func BenchmarkRoot100k(b *testing.B) {
	t := benchTree(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := t.Root(benchLeaves - uint64(i%7)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkInclusionProof100k(b *testing.B) {
	t := benchTree(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := t.InclusionProof(uint64(i*7919)%benchLeaves, benchLeaves); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkConsistencyProof100k(b *testing.B) {
	t := benchTree(b)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := t.ConsistencyProof(uint64(i*7919)%benchLeaves+1, benchLeaves); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyInclusion100k(b *testing.B) {
	t := benchTree(b)
	root, _ := t.Root(benchLeaves)
	proof, _ := t.InclusionProof(4242, benchLeaves)
	leaf, _ := t.Node(0, 4242)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := VerifyInclusion(leaf, 4242, benchLeaves, proof, root); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRootNaive100k rehashes every leaf, what the tree avoids.
func BenchmarkRootNaive100k(b *testing.B) {
	leaves := make([][]byte, benchLeaves)
	for i := range leaves {
		leaves[i] = binary.BigEndian.AppendUint64(nil, uint64(i))
	}
	b.ResetTimer()
	for range b.N {
		refRoot(leaves)
	}
}
