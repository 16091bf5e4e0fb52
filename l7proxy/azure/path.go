// SPDX-License-Identifier: Apache-2.0

// Path decoding and splitting: bounds, percent-decoding once, and the
// checks that keep Interlock's reading of a path the same as Azure's.

package azure

import (
	"strings"
	"unicode/utf8"
)

// Bounds on what Parse reads. Longer or deeper requests are refused with
// ErrInvalidRequest; real ones stay well inside them (Azure requires clients
// to accept 4 KiB polling URLs; a blob name is at most 1024 characters).
const (
	// MaxPathLength is the longest path, in bytes as sent (encoded).
	MaxPathLength = 8192
	// MaxQueryLength is the longest raw query string, in bytes.
	MaxQueryLength = 32768
	// MaxSegments is the most path segments an ARM or Key Vault path may
	// have.
	MaxSegments = 64
)

// segments is a path split at '/': the decoded path and its segments,
// which are substrings of it. It lives on the caller's stack.
type segments struct {
	path string
	n    int
	seg  [MaxSegments]string
	// end[i] is the offset in path just after seg[i].
	end [MaxSegments]int
}

// list returns the segments.
func (s *segments) list() []string { return s.seg[:s.n] }

// prefix returns the decoded path up to and including segment k-1; ""
// for k == 0.
func (s *segments) prefix(k int) string {
	if k <= 0 {
		return ""
	}
	return s.path[:s.end[k-1]]
}

// checkRaw checks a path as sent: it must start with '/', be at most
// MaxPathLength bytes, and hold no space, control character, backslash, '?',
// '#' or unencoded non-ASCII byte (which HTTP stacks treat differently).
// It reports whether the path holds a '%'.
func checkRaw(raw string) (escaped bool, f *failure) {
	if len(raw) > MaxPathLength {
		return false, invalid("path too long")
	}
	if raw == "" || raw[0] != '/' {
		return false, invalid("path does not start with /")
	}
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case c <= ' ' || c >= 0x7f:
			return false, invalid("space, control or non-ASCII byte in path")
		case c == '\\' || c == '?' || c == '#':
			return false, invalid("backslash, ? or # in path")
		case c == '%':
			escaped = true
		}
	}
	return escaped, nil
}

// unhex returns the value of a hex digit, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// decodeStrict percent-decodes a checked raw path once. It refuses an
// encoded '/' or '\' (which some servers treat as a separator and others
// not), an encoded '%' (double encoding), encoded control characters and
// a result that is not UTF-8. Without a '%' it returns raw itself.
func decodeStrict(raw string, escaped bool) (string, *failure) {
	if !escaped {
		return raw, nil
	}
	var b strings.Builder
	b.Grow(len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(raw) {
			return "", invalid("truncated percent-encoding")
		}
		hi, lo := unhex(raw[i+1]), unhex(raw[i+2])
		if hi < 0 || lo < 0 {
			return "", invalid("bad percent-encoding")
		}
		d := byte(hi<<4 | lo)
		switch {
		case d == '/' || d == '\\':
			return "", invalid("encoded slash or backslash in path")
		case d == '%':
			return "", invalid("encoded percent sign in path")
		case d < 0x20 || d == 0x7f:
			return "", invalid("encoded control character in path")
		}
		b.WriteByte(d)
		i += 2
	}
	s := b.String()
	if !utf8.ValidString(s) {
		return "", invalid("path is not UTF-8")
	}
	return s, nil
}

// split splits a decoded path (which starts with '/') into s, dropping
// the leading '/' and one trailing '/'. Empty segments in between are
// kept (callers decide); dot segments are refused.
func split(path string, s *segments) *failure {
	s.path, s.n = path, 0
	rest := path[1:]
	off := 1
	rest = strings.TrimSuffix(rest, "/")
	if rest == "" {
		return nil
	}
	for {
		if s.n == MaxSegments {
			return invalid("too many path segments")
		}
		seg, tail, more := strings.Cut(rest, "/")
		if seg == "." || seg == ".." {
			return invalid("dot segment in path")
		}
		s.seg[s.n] = seg
		s.end[s.n] = off + len(seg)
		s.n++
		if !more {
			return nil
		}
		off += len(seg) + 1
		rest = tail
	}
}
