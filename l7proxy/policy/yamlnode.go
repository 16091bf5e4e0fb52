// SPDX-License-Identifier: Apache-2.0

// Reading YAML nodes strictly: every error is a Problem with line, column
// and field path.

package policy

import (
	"fmt"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// reader collects the problems of one Document.
type reader struct {
	doc      string
	problems Problems
}

func (r *reader) errorf(n *yaml.Node, field, format string, args ...any) {
	p := Problem{Document: r.doc, Field: field, Message: fmt.Sprintf(format, args...)}
	if n != nil {
		p.Line, p.Column = n.Line, n.Column
	}
	r.problems = append(r.problems, p)
}

func (r *reader) pos(n *yaml.Node) Position {
	return Position{Document: r.doc, Line: n.Line, Column: n.Column}
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// at appends an index to a path.
func at(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// fields reads a mapping, reporting unknown and repeated keys. It returns
// the value node of each known key present; nil when n is not a mapping.
func (r *reader) fields(n *yaml.Node, path string, known ...string) map[string]*yaml.Node {
	if n.Kind != yaml.MappingNode {
		r.errorf(n, path, "want a mapping, got %s", kindName(n))
		return nil
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			r.errorf(k, path, "keys must be plain strings")
			continue
		}
		name := k.Value
		if !contains(known, name) {
			r.errorf(k, join(path, name), "unknown field (want one of %v)", known)
			continue
		}
		if _, dup := out[name]; dup {
			r.errorf(k, join(path, name), "field given twice")
			continue
		}
		out[name] = v
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "null"
		}
		return "a scalar"
	case yaml.AliasNode:
		return "an alias"
	}
	return "nothing"
}

// str reads a string scalar.
func (r *reader) str(n *yaml.Node, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		r.errorf(n, path, "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// nonEmpty reads a string that must not be empty.
func (r *reader) nonEmpty(n *yaml.Node, path string) (string, bool) {
	s, ok := r.str(n, path)
	if ok && s == "" {
		r.errorf(n, path, "must not be empty")
		return "", false
	}
	return s, ok
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!str" && n.Tag != "!!null" {
		return fmt.Sprintf("%s %q", n.Tag[2:], n.Value)
	}
	return kindName(n)
}

// integer reads an integer scalar.
func (r *reader) integer(n *yaml.Node, path string) (int, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		r.errorf(n, path, "want an integer, got %s", describe(n))
		return 0, false
	}
	v, err := strconv.Atoi(n.Value)
	if err != nil {
		r.errorf(n, path, "want an integer: %v", err)
		return 0, false
	}
	return v, true
}

// duration reads a Go duration ("10m", "1h30m") within [min, max].
func (r *reader) duration(n *yaml.Node, path string, min, max time.Duration) (time.Duration, bool) {
	s, ok := r.str(n, path)
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.errorf(n, path, "want a duration like 30s, 10m or 1h: %q", s)
		return 0, false
	}
	if d < min || d > max {
		r.errorf(n, path, "%s is out of range [%s, %s]", d, min, max)
		return 0, false
	}
	return d, true
}

// list reads a sequence; nil when n is not one.
func (r *reader) list(n *yaml.Node, path string) []*yaml.Node {
	if n.Kind != yaml.SequenceNode {
		r.errorf(n, path, "want a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

// noAliases reports every alias and anchor below n: policies are read by
// people and by auditors, and aliases hide what a rule says (and can blow
// up in size).
func (r *reader) noAliases(n *yaml.Node) bool {
	ok := true
	var walk func(*yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.AliasNode || n.Anchor != "" {
			r.errorf(n, "", "YAML anchors and aliases are not allowed in policies")
			ok = false
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	return ok
}
