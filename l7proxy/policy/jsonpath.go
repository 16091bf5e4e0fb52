// SPDX-License-Identifier: Apache-2.0

// JSONPath: the subset mask rules use to select values in JSON bodies.

package policy

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// SegmentKind is the kind of one step of a JSONPath.
type SegmentKind int

// Segment kinds.
const (
	// SegChild selects the member Name of an object: .name or ['name'].
	SegChild SegmentKind = iota + 1
	// SegIndex selects element Index of an array (negative counts from the
	// end): [2], [-1].
	SegIndex
	// SegWildcard selects every member or element: .* or [*].
	SegWildcard
	// SegDescendant selects member Name at any depth below: ..name.
	SegDescendant
	// SegDescendantWildcard selects every value at any depth below: ..*.
	SegDescendantWildcard
)

// PathSegment is one step of a JSONPath.
type PathSegment struct {
	Kind  SegmentKind
	Name  string
	Index int
}

// JSONPath is a parsed path such as $.keys[*].value. The supported syntax:
// $ (the root), .name, ['name'] or ["name"], [n], [*], .*, ..name and ..*.
// Filters, slices and unions are not supported.
type JSONPath struct {
	// Source is the path as written.
	Source   string
	Segments []PathSegment
}

func (p *JSONPath) String() string { return p.Source }

// maxJSONPath bounds the length of a path.
const maxJSONPath = 1024

// ParseJSONPath parses a JSONPath of the supported subset.
func ParseJSONPath(s string) (*JSONPath, error) {
	if len(s) > maxJSONPath {
		return nil, fmt.Errorf("path longer than %d bytes", maxJSONPath)
	}
	if !strings.HasPrefix(s, "$") {
		return nil, errors.New(`a path starts with "$"`)
	}
	p := &JSONPath{Source: s}
	i := 1
	for i < len(s) {
		switch {
		case strings.HasPrefix(s[i:], ".."):
			i += 2
			if i < len(s) && s[i] == '*' {
				p.Segments = append(p.Segments, PathSegment{Kind: SegDescendantWildcard})
				i++
				continue
			}
			name, n := scanName(s[i:])
			if n == 0 {
				return nil, fmt.Errorf("column %d: want a member name or * after the double dot", i+1)
			}
			p.Segments = append(p.Segments, PathSegment{Kind: SegDescendant, Name: name})
			i += n
		case s[i] == '.':
			i++
			if i < len(s) && s[i] == '*' {
				p.Segments = append(p.Segments, PathSegment{Kind: SegWildcard})
				i++
				continue
			}
			name, n := scanName(s[i:])
			if n == 0 {
				return nil, fmt.Errorf("column %d: want a member name or * after the dot", i+1)
			}
			p.Segments = append(p.Segments, PathSegment{Kind: SegChild, Name: name})
			i += n
		case s[i] == '[':
			seg, n, err := scanBracket(s[i:])
			if err != nil {
				return nil, fmt.Errorf("column %d: %w", i+1, err)
			}
			p.Segments = append(p.Segments, seg)
			i += n
		default:
			return nil, fmt.Errorf("column %d: unexpected %q (want ., .. or [)", i+1, s[i])
		}
	}
	return p, nil
}

// scanName reads a member name: letters, digits, _, - and $, not starting
// with a digit or hyphen.
func scanName(s string) (string, int) {
	n := 0
	for n < len(s) {
		c := s[n]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || c >= 0x80
		if !letter && (n == 0 || !(c >= '0' && c <= '9' || c == '-')) {
			break
		}
		n++
	}
	return s[:n], n
}

// scanBracket reads [*], [n], ['name'] or ["name"].
func scanBracket(s string) (PathSegment, int, error) {
	end := -1
	if len(s) > 1 && (s[1] == '\'' || s[1] == '"') {
		q := s[1]
		j := strings.IndexByte(s[2:], q)
		if j < 0 || 2+j+1 >= len(s) || s[2+j+1] != ']' {
			return PathSegment{}, 0, errors.New("unterminated quoted name (want ['name'])")
		}
		name := s[2 : 2+j]
		if name == "" {
			return PathSegment{}, 0, errors.New("empty quoted name")
		}
		return PathSegment{Kind: SegChild, Name: name}, 2 + j + 2, nil
	}
	end = strings.IndexByte(s, ']')
	if end < 0 {
		return PathSegment{}, 0, errors.New("missing ]")
	}
	inner := s[1:end]
	if inner == "*" {
		return PathSegment{Kind: SegWildcard}, end + 1, nil
	}
	idx, err := strconv.Atoi(inner)
	if err != nil || strings.HasPrefix(inner, "+") {
		return PathSegment{}, 0, fmt.Errorf("want [*], [n] or ['name'], got [%s]", inner)
	}
	return PathSegment{Kind: SegIndex, Index: idx}, end + 1, nil
}
