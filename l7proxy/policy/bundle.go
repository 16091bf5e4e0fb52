// SPDX-License-Identifier: Apache-2.0

// Bundle and Load: documents in, a compiled, indexed, immutable policy out.

package policy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"cel.dev/cel-go/cel"
	"go.yaml.in/yaml/v3"
)

// Limits Load enforces unless Options says otherwise.
const (
	DefaultMaxDocumentSize = 1 << 20 // bytes per Document
	DefaultMaxRules        = 2000    // rules per bundle
	DefaultCostLimit       = 100_000 // CEL cost units per condition with a comprehension
)

// Options tunes Load; the zero value means the defaults.
type Options struct {
	MaxDocumentSize int
	MaxRules        int
	// CostLimit bounds each evaluation of a condition that has a
	// comprehension (all, exists, exists_one, map, filter).
	CostLimit uint64
}

func (o Options) withDefaults() Options {
	if o.MaxDocumentSize <= 0 {
		o.MaxDocumentSize = DefaultMaxDocumentSize
	}
	if o.MaxRules <= 0 {
		o.MaxRules = DefaultMaxRules
	}
	if o.CostLimit == 0 {
		o.CostLimit = DefaultCostLimit
	}
	return o
}

// Bundle is a loaded set of policies. It never changes after Load and is
// safe for concurrent use.
type Bundle struct {
	policies       []*Policy
	rules          []*Rule
	targets        []*Target
	table          targetTable
	issuers        []Issuer
	detectors      []string
	defaultAction  Action
	defaultMessage string
	costLimit      uint64
	index          *index
	// states pools evaluation state; per Bundle, never global.
	states sync.Pool
}

// Load parses, validates and compiles docs into a Bundle. When anything is
// wrong it returns a Problems error listing all it found.
func Load(docs []Document, opts Options) (*Bundle, error) {
	opts = opts.withDefaults()
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var problems Problems
	b := &Bundle{costLimit: opts.CostLimit}
	for _, doc := range docs {
		r := &reader{doc: doc.Name}
		pols := r.document(doc, opts.MaxDocumentSize)
		for _, p := range pols {
			for _, rule := range p.Rules {
				r.compile(env, rule, doc.YAML, opts.CostLimit)
			}
		}
		slices.SortStableFunc(r.problems, func(a, b Problem) int {
			if a.Line != b.Line {
				return a.Line - b.Line
			}
			return a.Column - b.Column
		})
		problems = append(problems, r.problems...)
		b.policies = append(b.policies, pols...)
	}
	problems = append(problems, b.link(opts)...)
	if len(problems) > 0 {
		return nil, problems
	}
	b.index = buildIndex(b.rules)
	return b, nil
}

// document reads every YAML document of doc.
func (r *reader) document(doc Document, maxSize int) []*Policy {
	if len(doc.YAML) > maxSize {
		r.errorf(nil, "", "document is %d bytes, more than the limit of %d", len(doc.YAML), maxSize)
		return nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(doc.YAML))
	var out []*Policy
	for {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			r.yamlError(err)
			break
		}
		if len(n.Content) == 0 || n.Content[0].Tag == "!!null" {
			continue // an empty document, e.g. after a trailing ---
		}
		if !r.noAliases(&n) {
			continue
		}
		if p := r.policy(n.Content[0]); p != nil {
			out = append(out, p)
		}
	}
	if len(out) == 0 && len(r.problems) == 0 {
		r.errorf(nil, "", "no policy document")
	}
	return out
}

var yamlLineRE = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError records a YAML syntax error with its line.
func (r *reader) yamlError(err error) {
	p := Problem{Document: r.doc, Message: err.Error()}
	if m := yamlLineRE.FindStringSubmatch(err.Error()); m != nil {
		p.Message = m[2]
		if m[1] != "" {
			p.Line, _ = strconv.Atoi(m[1])
			p.Column = 1
		}
	}
	r.problems = append(r.problems, p)
}

// compile compiles rule's condition, placing CEL errors in the file.
func (r *reader) compile(env *cel.Env, rule *Rule, src []byte, costLimit uint64) {
	cond, errs := compileCondition(env, rule.When, costLimit)
	for _, e := range errs {
		line, col := exprPosition(rule.whenAt.node, src, e.line, e.column)
		r.problems = append(r.problems, Problem{Document: r.doc, Line: line, Column: col, Field: rule.whenAt.path, Message: e.msg})
	}
	rule.cond = cond
}

// exprPosition maps a CEL position (1-based line, 0-based column) inside a
// scalar to a 1-based line and column in the file.
func exprPosition(n *yaml.Node, src []byte, line, col int) (int, int) {
	if line < 1 {
		line = 1
	}
	if col < 0 {
		col = 0
	}
	switch n.Style {
	case yaml.LiteralStyle, yaml.FoldedStyle:
		// The text starts on the line after the indicator; find the
		// indentation of that line in the source.
		fileLine := n.Line + line
		indent := lineIndent(src, fileLine)
		return fileLine, indent + col + 1
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		return n.Line + line - 1, n.Column + col + 1
	}
	return n.Line + line - 1, n.Column + col
}

// lineIndent returns the number of leading spaces of a 1-based line.
func lineIndent(src []byte, line int) int {
	for i := 1; i < line; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return 0
		}
		src = src[j+1:]
	}
	n := 0
	for n < len(src) && src[n] == ' ' {
		n++
	}
	return n
}

// link checks what spans documents (unique names, host collisions, rule
// count) and fills the bundle's tables.
func (b *Bundle) link(opts Options) Problems {
	var ps Problems
	dup := func(kind, name string, at, first Position, field string) {
		ps = append(ps, Problem{Document: at.Document, Line: at.Line, Column: at.Column, Field: field,
			Message: fmt.Sprintf("%s %q is already defined at %s:%d", kind, name, first.Document, first.Line)})
	}
	policies := map[string]Position{}
	targets := map[string]*Target{}
	rules := map[string]*Rule{}
	hosts := map[hostKey]*Target{}
	b.table = targetTable{exact: map[hostKey]*Target{}, wildcard: map[hostKey]*Target{}}
	b.defaultAction = Allow
	for _, p := range b.policies {
		if first, ok := policies[p.Name]; ok && p.Name != "" {
			dup("policy", p.Name, p.Source, first, "metadata.name")
		}
		policies[p.Name] = p.Source
		if p.DefaultAction.rank() > b.defaultAction.rank() {
			b.defaultAction = p.DefaultAction
		}
		for _, t := range p.Targets {
			if first, ok := targets[t.Name]; ok {
				dup("target", t.Name, t.Source, first.Source, join(t.path, "name"))
				continue
			}
			targets[t.Name] = t
			b.targets = append(b.targets, t)
			for _, h := range t.Hosts {
				k := hostKey{h.Host, h.Port}
				if h.Wildcard {
					k.host = "*." + k.host
				}
				if other, ok := hosts[k]; ok {
					ps = append(ps, Problem{Document: t.Source.Document, Line: t.Source.Line, Column: t.Source.Column, Field: join(t.path, "hosts"),
						Message: fmt.Sprintf("host %s is already a host of target %q", h, other.Name)})
					continue
				}
				hosts[k] = t
				if h.Wildcard {
					b.table.wildcard[hostKey{h.Host, h.Port}] = t
				} else {
					b.table.exact[hostKey{h.Host, h.Port}] = t
				}
			}
		}
		for _, r := range p.Rules {
			if first, ok := rules[r.Name]; ok {
				dup("rule", r.Name, r.Source, first.Source, join(r.path, "name"))
				continue
			}
			rules[r.Name] = r
			r.index = len(b.rules)
			b.rules = append(b.rules, r)
		}
		for _, is := range p.Issuers {
			if !slices.Contains(b.issuers, is) {
				b.issuers = append(b.issuers, is)
			}
		}
		for _, d := range p.Detectors {
			if !slices.Contains(b.detectors, d) {
				b.detectors = append(b.detectors, d)
			}
		}
	}
	if len(b.policies) == 0 {
		b.defaultAction = Deny
	}
	if len(b.rules) > opts.MaxRules {
		ps = append(ps, Problem{Message: fmt.Sprintf("the bundle has %d rules, more than the limit of %d", len(b.rules), opts.MaxRules)})
	}
	b.defaultMessage = fmt.Sprintf("no rule matched: defaultAction %s", b.defaultAction)
	return ps
}

// Policies returns the bundle's policies in load order. Do not modify them.
func (b *Bundle) Policies() []*Policy { return b.policies }

// Rules returns every rule in evaluation order. Do not modify them.
func (b *Bundle) Rules() []*Rule { return b.rules }

// Targets returns every target. Do not modify them.
func (b *Bundle) Targets() []*Target { return b.targets }

// Issuers returns the trusted token issuers of all policies.
func (b *Bundle) Issuers() []Issuer { return slices.Clone(b.issuers) }

// DefaultAction is what applies when no rule matches: the strictest
// defaultAction of the policies (deny when any says deny or none is given).
func (b *Bundle) DefaultAction() Action { return b.defaultAction }

// Target returns the target for a connection to host:port spoken in
// protocol (https or postgres): an exact host beats a wildcard, and the
// longest wildcard suffix wins. It returns nil, nil when no target matches
// (the caller passes the connection through uninspected), and the target
// with an error wrapping ErrProtocolMismatch when the host is a target of
// another protocol (the caller must refuse the connection).
func (b *Bundle) Target(host string, port uint16, protocol string) (*Target, error) {
	t := b.table.lookup(host, port)
	if t == nil {
		return nil, nil
	}
	if !strings.EqualFold(t.Protocol, protocol) {
		return t, fmt.Errorf("%w: %s:%d is target %q (%s), connection speaks %q", ErrProtocolMismatch, host, port, t.Name, t.Protocol, protocol)
	}
	return t, nil
}
