// SPDX-License-Identifier: Apache-2.0

// Building inclusion and consistency proofs (RFC 6962 §2.1.1, §2.1.2).

package merkle

import "fmt"

// InclusionProof returns the audit path of leaf index in the tree of size
// leaves, deepest sibling first (RFC 6962 PATH(m, D[n])).
func InclusionProof(index, size uint64, get NodeFunc) ([]Hash, error) {
	if index >= size {
		return nil, fmt.Errorf("%w: leaf %d in a tree of %d", ErrSize, index, size)
	}
	var proof []Hash
	a, b := uint64(0), size
	// Walk down from the root, collecting the sibling of each step; the
	// path lists them from the leaf up, so prepend.
	for b-a > 1 {
		k := splitPoint(b - a)
		var h Hash
		var err error
		if index < a+k {
			h, err = rangeHash(a+k, b, get)
			b = a + k
		} else {
			h, err = rangeHash(a, a+k, get)
			a += k
		}
		if err != nil {
			return nil, err
		}
		proof = append(proof, h)
	}
	reverse(proof)
	return proof, nil
}

// ConsistencyProof returns the proof that the tree of size first is a
// prefix of the tree of size second (RFC 6962 PROOF(m, D[n])). It is empty
// when first is 0 or equals second.
func ConsistencyProof(first, second uint64, get NodeFunc) ([]Hash, error) {
	if first > second {
		return nil, fmt.Errorf("%w: first size %d after second %d", ErrSize, first, second)
	}
	if first == 0 || first == second {
		return nil, nil
	}
	// SUBPROOF(m, D[a:b], whole), iteratively: each step adds one hash,
	// collected from the top and reversed at the end.
	var proof []Hash
	a, b, m, whole := uint64(0), second, first, true
	for {
		n := b - a
		if m == n {
			if !whole {
				h, err := rangeHash(a, b, get)
				if err != nil {
					return nil, err
				}
				proof = append(proof, h)
			}
			break
		}
		k := splitPoint(n)
		if m <= k {
			h, err := rangeHash(a+k, b, get)
			if err != nil {
				return nil, err
			}
			proof = append(proof, h)
			b = a + k
		} else {
			h, err := rangeHash(a, a+k, get)
			if err != nil {
				return nil, err
			}
			proof = append(proof, h)
			a, m, whole = a+k, m-k, false
		}
	}
	reverse(proof)
	return proof, nil
}

func reverse(h []Hash) {
	for i, j := 0, len(h)-1; i < j; i, j = i+1, j-1 {
		h[i], h[j] = h[j], h[i]
	}
}
