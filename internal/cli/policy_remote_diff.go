// SPDX-License-Identifier: Apache-2.0

// A line-based unified diff (Myers' O(ND) algorithm) for policy diff.

package cli

import (
	"bytes"
	"fmt"
	"io"
)

// diffContext is how many unchanged lines surround a hunk.
const diffContext = 3

// op is one line of an edit script: ' ' kept, '-' removed, '+' added.
type op struct {
	kind byte
	line string
}

// splitLines splits b into lines without their newlines.
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	parts := bytes.Split(b, []byte("\n"))
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// editScript returns a shortest edit script from a to b.
func editScript(a, b []string) []op {
	n, m := len(a), len(b)
	total := n + m
	off := total + 1
	v := make([]int, 2*total+2)
	var trace [][]int
	for d := 0; d <= total; d++ {
		trace = append(trace, append([]int(nil), v...))
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
				x = v[off+k+1] // down: insertion
			} else {
				x = v[off+k-1] + 1 // right: deletion
			}
			y := x - k
			for x < n && y < m && a[x] == b[y] {
				x, y = x+1, y+1
			}
			v[off+k] = x
			if x >= n && y >= m {
				return backtrack(trace, a, b, d, off)
			}
		}
	}
	return nil
}

// backtrack walks the trace back from (n, m) to build the script.
func backtrack(trace [][]int, a, b []string, d, off int) []op {
	var rev []op
	x, y := len(a), len(b)
	for ; d > 0; d-- {
		v := trace[d]
		k := x - y
		var prevK int
		if k == -d || (k != d && v[off+k-1] < v[off+k+1]) {
			prevK = k + 1
		} else {
			prevK = k - 1
		}
		prevX := v[off+prevK]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			rev = append(rev, op{' ', a[x]})
		}
		if x == prevX {
			y--
			rev = append(rev, op{'+', b[y]})
		} else {
			x--
			rev = append(rev, op{'-', a[x]})
		}
	}
	for x > 0 && y > 0 {
		x, y = x-1, y-1
		rev = append(rev, op{' ', a[x]})
	}
	out := make([]op, len(rev))
	for i, o := range rev {
		out[len(rev)-1-i] = o
	}
	return out
}

// unifiedDiff writes the unified diff of a and b under the given names and
// reports whether they differ.
func unifiedDiff(w io.Writer, nameA, nameB string, a, b []byte) bool {
	if bytes.Equal(a, b) {
		return false
	}
	ops := editScript(splitLines(a), splitLines(b))
	fmt.Fprintf(w, "--- %s\n+++ %s\n", nameA, nameB)
	changed := false
	for i := 0; i < len(ops); {
		// Find the next change.
		for i < len(ops) && ops[i].kind == ' ' {
			i++
		}
		if i == len(ops) {
			break
		}
		changed = true
		start := max(i-diffContext, 0)
		end := i
		// Extend while changes are within 2*context of each other.
		for end < len(ops) {
			if ops[end].kind != ' ' {
				end++
				continue
			}
			j := end
			for j < len(ops) && ops[j].kind == ' ' {
				j++
			}
			if j == len(ops) || j-end > 2*diffContext {
				end = min(end+diffContext, len(ops))
				break
			}
			end = j
		}
		// Line numbers of the hunk's first line in a and b.
		la, lb := 1, 1
		for _, o := range ops[:start] {
			if o.kind != '+' {
				la++
			}
			if o.kind != '-' {
				lb++
			}
		}
		ca, cb := 0, 0
		for _, o := range ops[start:end] {
			if o.kind != '+' {
				ca++
			}
			if o.kind != '-' {
				cb++
			}
		}
		if ca == 0 {
			la--
		}
		if cb == 0 {
			lb--
		}
		fmt.Fprintf(w, "@@ -%d,%d +%d,%d @@\n", la, ca, lb, cb)
		for _, o := range ops[start:end] {
			fmt.Fprintf(w, "%c%s\n", o.kind, o.line)
		}
		i = end
	}
	if !changed { // only the final newline differs
		fmt.Fprintln(w, "\\ No newline at end of file")
	}
	return true
}
