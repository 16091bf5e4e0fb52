// SPDX-License-Identifier: Apache-2.0

// The Masker: built from a policy decision's mask rules and detectors, it
// holds what to mask and where the counts go.

package mask

import (
	"fmt"

	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Defaults of Options.
const (
	DefaultMaxBytes = 64 << 20
	DefaultMaxDepth = 512
)

// Options tune a Masker. The zero value is ready to use.
type Options struct {
	// MaxBytes limits the decoded body: more is a *TooLargeError. 0 means
	// DefaultMaxBytes; negative means no limit (then a JSON path with a
	// negative index buffers an unbounded body).
	MaxBytes int64
	// MaxDepth limits the nesting of JSON arrays and objects. 0 means
	// DefaultMaxDepth.
	MaxDepth int
	// Pool provides the buffers of each transform; nil allocates them per
	// call. Share one Pool between Maskers.
	Pool *Pool
}

// Applied counts what one mask rule or detector replaced in a body: the
// shape of interlockv1.MaskApplied.
type Applied struct {
	// Rule is the policy rule that asked for the mask; "" for a detector
	// of the bundle's masking.detectors.
	Rule string
	// JSONPath is the rule's path as written, "" for a detector that
	// scans the whole body.
	JSONPath string
	// Detector names the detector that matched; "" when a JSON path
	// replaced whole values.
	Detector string
	Count    uint32
}

// Result says what a transform did.
type Result struct {
	// Read is the number of (decoded) bytes read from the source, Written
	// the number written to the destination.
	Read, Written int64
	// Applied lists the rules and detectors that replaced something, in a
	// fixed order (rules as given, then the bundle's detectors).
	Applied []Applied
}

// Proto converts r.Applied for a recorded Payload.
func (r Result) Proto() []*interlockv1.MaskApplied {
	if len(r.Applied) == 0 {
		return nil
	}
	out := make([]*interlockv1.MaskApplied, len(r.Applied))
	for i, a := range r.Applied {
		out[i] = &interlockv1.MaskApplied{Rule: a.Rule, JsonPath: a.JSONPath, Detector: a.Detector, Count: a.Count}
	}
	return out
}

// Masker masks response bodies as one policy decision says. It is
// immutable and safe for concurrent use.
type Masker struct {
	paths    []pathRule
	global   *activeSet
	attrs    []Applied // attribution table; Count unused
	maxBytes int64
	maxDepth int
	negative bool // a path has a negative index: JSON is buffered
	pool     *Pool
}

// pathRule is a mask rule with a JSON path.
type pathRule struct {
	segs []policy.PathSegment
	// attr counts whole-value replacements; -1 when the rule has
	// detectors, which then apply inside the selected values.
	attr int
	// scoped is global plus the rule's detectors.
	scoped *activeSet
	dets   []ruleDetector
}

type ruleDetector struct{ det, attr int }

// New returns a Masker for a decision's masks and detectors (see
// policy.Decision): masks with a JSONPath select values to replace, or,
// with detectors, values to scan with those detectors; masks with only
// detectors, and detectors (the bundle's masking.detectors), scan the
// whole body. Masks with a Column are PostgreSQL's and are ignored here.
func New(masks []*policy.MaskRule, detectors []string, o Options) (*Masker, error) {
	m := &Masker{maxBytes: o.MaxBytes, maxDepth: o.MaxDepth, pool: o.Pool, global: &activeSet{}}
	if m.maxBytes == 0 {
		m.maxBytes = DefaultMaxBytes
	}
	if m.maxDepth <= 0 {
		m.maxDepth = DefaultMaxDepth
	}
	lookup := func(name string) (int, error) {
		d := detectorIndex(name)
		if d < 0 {
			return 0, fmt.Errorf("mask: unknown detector %q", name)
		}
		return d, nil
	}
	for _, mr := range masks {
		if mr == nil || mr.Column != "" {
			continue
		}
		if mr.JSONPath == nil {
			for _, name := range mr.Detectors {
				d, err := lookup(name)
				if err != nil {
					return nil, err
				}
				m.global = m.global.with(d, m.attr(mr.Rule, "", name))
			}
			continue
		}
		pr := pathRule{segs: mr.JSONPath.Segments, attr: -1}
		for _, s := range pr.segs {
			if s.Kind == policy.SegIndex && s.Index < 0 {
				m.negative = true
			}
		}
		if len(mr.Detectors) == 0 {
			pr.attr = m.attr(mr.Rule, mr.JSONPath.Source, "")
		}
		for _, name := range mr.Detectors {
			d, err := lookup(name)
			if err != nil {
				return nil, err
			}
			pr.dets = append(pr.dets, ruleDetector{det: d, attr: m.attr(mr.Rule, mr.JSONPath.Source, name)})
		}
		m.paths = append(m.paths, pr)
	}
	for _, name := range detectors {
		d, err := lookup(name)
		if err != nil {
			return nil, err
		}
		m.global = m.global.with(d, m.attr("", "", name))
	}
	for i := range m.paths {
		if m.paths[i].attr < 0 {
			m.paths[i].scoped = m.paths[i].extend(m.global)
		}
	}
	return m, nil
}

// extend returns set with the rule's detectors added.
func (pr *pathRule) extend(set *activeSet) *activeSet {
	for _, rd := range pr.dets {
		set = set.with(rd.det, rd.attr)
	}
	return set
}

// attr returns the index of (rule, path, detector) in the attribution
// table, adding it if new.
func (m *Masker) attr(rule, path, det string) int {
	for i, a := range m.attrs {
		if a.Rule == rule && a.JSONPath == path && a.Detector == det {
			return i
		}
	}
	m.attrs = append(m.attrs, Applied{Rule: rule, JSONPath: path, Detector: det})
	return len(m.attrs) - 1
}

// Empty reports whether m masks nothing: the body may pass unchanged.
func (m *Masker) Empty() bool { return len(m.paths) == 0 && m.global.empty() }

// NeedsJSON reports whether m has JSON path rules, which only a JSON body
// can satisfy.
func (m *Masker) NeedsJSON() bool { return len(m.paths) > 0 }

// result builds the Result from counts.
func (m *Masker) result(counts []uint32, read, written int64) Result {
	r := Result{Read: read, Written: written}
	for i, c := range counts {
		if c > 0 {
			a := m.attrs[i]
			a.Count = c
			r.Applied = append(r.Applied, a)
		}
	}
	return r
}
