// SPDX-License-Identifier: Apache-2.0

// Problems: validation errors that name the document, line, column and
// field.

package policy

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong in a policy document.
type Problem struct {
	// Document is the name of the document (its file name).
	Document string `json:"document"`
	// Line and Column are 1-based; 0 when unknown.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Field is the path of the offending field, e.g. rules[3].when; empty
	// for the document as a whole.
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// String formats p as file:line:col: field: message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Document)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Problems is the error Load returns for invalid documents: every problem
// found, in document order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return "policy: invalid policy:\n" + strings.Join(lines, "\n")
}
