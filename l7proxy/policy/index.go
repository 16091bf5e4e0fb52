// SPDX-License-Identifier: Apache-2.0

// The rule index: from a request's field values to the rules that can
// match it, as a bitset in rule order.

package policy

import "slices"

// bitset holds one bit per rule, in bundle order.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int) { b[i/64] |= 1 << (uint(i) % 64) }

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

// fieldIndex indexes the constraints on one field.
type fieldIndex struct {
	field int
	// list is true for a list field: eq is looked up with every element.
	list bool
	// free holds the rules with no constraint on this field.
	free bitset
	eq   map[string]bitset
	// prefix and suffix are keyed by the literal; lens are the distinct
	// literal lengths to try, longest first.
	prefix     map[string]bitset
	prefixLens []int
	suffix     map[string]bitset
	suffixLens []int
}

// index selects candidate rules. A rule is left out only when one of its
// constraints is false for the request; since a constraint is a top-level
// conjunct that cannot fail (a typed string field compared with literals),
// the rule's condition is then false too, and the decision is that of
// evaluating every rule.
type index struct {
	rules  int
	all    bitset
	fields []fieldIndex
}

func buildIndex(rules []*Rule) *index {
	ix := &index{rules: len(rules), all: newBitset(len(rules))}
	for i := range rules {
		ix.all.set(i)
	}
	type key struct {
		field int
		list  bool
	}
	byField := map[key]*fieldIndex{}
	var order []key
	for i, r := range rules {
		for _, c := range r.cond.constraints {
			k := key{c.field, c.kind == kindContains}
			fi := byField[k]
			if fi == nil {
				fi = &fieldIndex{field: c.field, list: k.list, free: slices.Clone(ix.all)}
				byField[k] = fi
				order = append(order, k)
			}
			fi.free[i/64] &^= 1 << (uint(i) % 64)
			var m *map[string]bitset
			var lens *[]int
			switch c.kind {
			case kindEqual, kindContains:
				m = &fi.eq
			case kindPrefix:
				m, lens = &fi.prefix, &fi.prefixLens
			case kindSuffix:
				m, lens = &fi.suffix, &fi.suffixLens
			}
			if *m == nil {
				*m = map[string]bitset{}
			}
			for _, v := range c.values {
				b := (*m)[v]
				if b == nil {
					b = newBitset(len(rules))
					(*m)[v] = b
				}
				b.set(i)
				if lens != nil && !slices.Contains(*lens, len(v)) {
					*lens = append(*lens, len(v))
				}
			}
		}
	}
	for _, f := range order {
		fi := byField[f]
		slices.Sort(fi.prefixLens)
		slices.Sort(fi.suffixLens)
		ix.fields = append(ix.fields, *fi)
	}
	return ix
}

// candidates writes into out the rules the request can match.
func (ix *index) candidates(r *Request, out, tmp bitset) {
	copy(out, ix.all)
	for i := range ix.fields {
		fi := &ix.fields[i]
		copy(tmp, fi.free)
		if fi.list {
			for _, v := range listFields[fi.field].get(r) {
				if b, ok := fi.eq[v]; ok {
					tmp.or(b)
				}
			}
			out.and(tmp)
			continue
		}
		v := stringFields[fi.field].get(r)
		if b, ok := fi.eq[v]; ok {
			tmp.or(b)
		}
		for _, l := range fi.prefixLens {
			if l > len(v) {
				break
			}
			if b, ok := fi.prefix[v[:l]]; ok {
				tmp.or(b)
			}
		}
		for _, l := range fi.suffixLens {
			if l > len(v) {
				break
			}
			if b, ok := fi.suffix[v[len(v)-l:]]; ok {
				tmp.or(b)
			}
		}
		out.and(tmp)
	}
}
