// SPDX-License-Identifier: Apache-2.0

// Row masking: column rules replace the values of matching result
// columns, detectors scan every text value; and the plan per
// RowDescription that says which column gets what.

package postgres

import (
	"errors"
	"strings"

	"github.com/interlockhq/interlock/l7proxy/mask"
	"github.com/interlockhq/interlock/l7proxy/pgwire"
	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// maskedValue replaces the whole value of a masked text-like column.
const maskedValue = "[MASKED]"

// rowMasker masks rows as one decision (or the union of a query's
// statements' decisions) says. It is immutable.
type rowMasker struct {
	columns []columnRule
	global  *mask.Masker // detectors for every text value; nil for none
}

// columnRule is a mask rule with a column.
type columnRule struct {
	name   string
	rule   string
	scoped *mask.Masker // nil: the whole value is replaced
}

// newRowMasker returns the masker of masks and detectors, nil when there
// is nothing to mask. JSON path rules are HTTPS's and do not apply.
func newRowMasker(masks []*policy.MaskRule, detectors []string, pool *mask.Pool) (*rowMasker, error) {
	m := &rowMasker{}
	var global []*policy.MaskRule
	for _, mr := range masks {
		switch {
		case mr == nil || mr.JSONPath != nil:
		case mr.Column != "":
			cr := columnRule{name: mr.Column, rule: mr.Rule}
			if len(mr.Detectors) > 0 {
				sm, err := mask.New([]*policy.MaskRule{{Detectors: mr.Detectors, Rule: mr.Rule}}, detectors, mask.Options{Pool: pool, MaxBytes: -1})
				if err != nil {
					return nil, err
				}
				cr.scoped = sm
			}
			m.columns = append(m.columns, cr)
		default:
			global = append(global, mr)
		}
	}
	if len(global) > 0 || len(detectors) > 0 {
		g, err := mask.New(global, detectors, mask.Options{Pool: pool, MaxBytes: -1})
		if err != nil {
			return nil, err
		}
		if !g.Empty() {
			m.global = g
		}
	}
	if len(m.columns) == 0 && m.global == nil {
		return nil, nil
	}
	return m, nil
}

// colAction is what happens to one column's values.
type colAction uint8

const (
	colPass  colAction = iota
	colWhole           // replaced whole
	colScan            // scanned with a masker
)

// colPlan is the plan for one column.
type colPlan struct {
	action   colAction
	masker   *mask.Masker
	rule     string
	column   string // the rule's column, for the counts
	textLike bool
}

// plan returns the plan of a result's columns. A column rule matches a
// result column by its name, or by the table column it is a plain
// reference to (RowDescription's table OID and attribute number, looked
// up in cat), whatever its alias. A column that is neither (an
// expression: upper(email), email || ”, a whole-row reference) of a
// statement reading a table that has a masked column (tables, per cat,
// views expanded), or calling a function whose result cannot be traced
// (functions, per cat), cannot be vouched for; nor can a column of a view
// that reads a masked column: its name is returned in untraced, and the
// caller refuses the result. Without cat, every column not matched by
// name is untraced.
func (m *rowMasker) plan(fields []pgwire.FieldDescription, dst []colPlan, cat *catalog, q scope) (_ []colPlan, untraced string, unknownRel bool) {
	dst = dst[:0]
	for _, f := range fields {
		p := colPlan{textLike: textLike(f.TypeOID)}
		text := f.Format == 0 || p.textLike
		cr := m.columnRule(f.Name)
		if cr == nil && len(m.columns) > 0 {
			switch {
			case cat == nil, q.hookedWrite:
				// No catalog; or a write returning what it wrote, which a
				// trigger, a default or its own SELECT may have taken from
				// a masked column.
				untraced = f.Name
			case f.TableOID != 0:
				if src, ok := cat.cols[colKey{f.TableOID, f.ColumnAttr}]; ok {
					cr = m.columnRule(src)
				} else if cat.tainted[f.TableOID] {
					// A view's column: which base column it is, the
					// catalog does not say, and the view reads a masked
					// one (or a function that may).
					untraced = f.Name
				} else if !cat.known[f.TableOID] {
					// Made since the catalog was read (by another
					// session, or a function): read it again.
					untraced, unknownRel = f.Name, true
				}
			case cat.reads(q.tables):
				untraced = f.Name
			case cat.opaque(q.functions) != "":
				// Computed by a function that may read anything.
				untraced = f.Name
			}
		}
		if cr != nil {
			p.rule, p.column = cr.rule, cr.name
			if cr.scoped == nil {
				p.action = colWhole
			} else if text {
				p.action, p.masker = colScan, cr.scoped
			} else {
				p.action = colWhole // a binary value cannot be scanned
			}
		}
		if p.action == colPass && m.global != nil && text {
			p.action, p.masker = colScan, m.global
		}
		dst = append(dst, p)
	}
	return dst, untraced, unknownRel
}

// columnRule returns the rule of the column named name, nil for none.
func (m *rowMasker) columnRule(name string) *columnRule {
	for i := range m.columns {
		if strings.EqualFold(m.columns[i].name, name) {
			return &m.columns[i]
		}
	}
	return nil
}

// textLike are the types whose binary format is their text: text,
// varchar, bpchar, name, char, unknown, json, xml.
func textLike(oid uint32) bool {
	switch oid {
	case 25, 1043, 1042, 19, 18, 705, 114, 142:
		return true
	}
	return false
}

// maskCounts accumulates what was masked in one result.
type maskCounts map[maskKey]uint32

// maskKey is what a count is kept by: the rule and what matched (a JSON
// path or a column, or a detector).
type maskKey struct{ rule, path, column, detector string }

func (mc maskCounts) add(k maskKey, n uint32) { mc[k] += n }

func (mc maskCounts) proto() []*interlockv1.MaskApplied {
	var out []*interlockv1.MaskApplied
	for k, n := range mc {
		out = append(out, &interlockv1.MaskApplied{Rule: k.rule, JsonPath: k.path, Column: k.column, Detector: k.detector, Count: n})
	}
	return out
}

// rowScratch is the reused memory of masking rows.
type rowScratch struct {
	arena  []byte
	values [][]byte
	counts []uint32 // a masker's counts of one value
}

// row masks one row's values as planned. It returns the values to send
// (pointing into values or s.arena, valid until the next call) and
// whether any changed. Whole-value replacements are counted in whole, by
// column; detector matches in counts.
func (m *rowMasker) row(plan []colPlan, values [][]byte, s *rowScratch, counts maskCounts, whole []uint32) ([][]byte, bool, error) {
	if len(plan) != len(values) || len(whole) != len(plan) {
		return nil, false, errors.New("row has a different number of columns than its description")
	}
	s.values = append(s.values[:0], values...)
	s.arena = s.arena[:0]
	changed := false
	for i, p := range plan {
		v := values[i]
		if v == nil || p.action == colPass {
			continue
		}
		switch p.action {
		case colWhole:
			if p.textLike {
				s.values[i] = maskedBytes
			} else {
				s.values[i] = nil // a typed value cannot hold a marker: NULL
			}
			whole[i]++
			changed = true
		case colScan:
			start := len(s.arena)
			out, n, err := m.scanAppend(p.masker, s.arena, v, s, counts)
			if err != nil {
				return nil, false, err
			}
			if n > 0 {
				s.arena = out
				s.values[i] = s.arena[start:len(s.arena):len(s.arena)]
				changed = true
			}
		}
	}
	if changed {
		// Earlier values stay valid when the arena grows: append copies
		// and never writes over what they point to.
		return s.values, true, nil
	}
	return values, false, nil
}

// maskedBytes is maskedValue, for rows (never written to).
var maskedBytes = []byte(maskedValue)

// scan runs a masker over one value; n is the number of replacements.
// The result is valid until the next call with s.
func (m *rowMasker) scan(mk *mask.Masker, v []byte, s *rowScratch, counts maskCounts) ([]byte, uint32, error) {
	out, n, err := m.scanAppend(mk, s.arena[:0], v, s, counts)
	if err != nil || n == 0 {
		return v, 0, err
	}
	s.arena = out
	return out, n, nil
}

// scanAppend appends v masked to dst when a detector matches (n > 0),
// and returns dst unchanged otherwise.
func (m *rowMasker) scanAppend(mk *mask.Masker, dst, v []byte, s *rowScratch, counts maskCounts) ([]byte, uint32, error) {
	if want := mk.NumAttributions(); len(s.counts) < want {
		s.counts = make([]uint32, want)
	}
	out, n, err := mk.AppendText(dst, v, s.counts)
	if err != nil || n == 0 {
		return dst, 0, err
	}
	for i, a := range mk.Attributions() {
		if c := s.counts[i]; c > 0 {
			counts.add(maskKey{rule: a.Rule, path: a.JSONPath, detector: a.Detector}, c)
			s.counts[i] = 0
		}
	}
	return out, uint32(n), nil
}

// hasColumns reports column rules, which COPY output cannot honour (it
// carries no column names).
func (m *rowMasker) hasColumns() bool { return m != nil && len(m.columns) > 0 }
