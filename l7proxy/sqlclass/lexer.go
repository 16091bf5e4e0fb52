// SPDX-License-Identifier: Apache-2.0

// The lexer: PostgreSQL's tokens, comments skipped.

package sqlclass

import (
	"fmt"
	"strings"
)

// kind is a token kind.
type kind uint8

const (
	kIdent  kind = iota + 1 // unquoted identifier or keyword, lower-cased
	kQIdent                 // "quoted" identifier, as written
	kString                 // any string constant, dollar-quoted included
	kNumber
	kParam // $1
	kOp    // operator, including :: and the punctuation below
)

// token is one lexical token; val is an identifier's name, an operator's
// text, or empty for constants.
type token struct {
	kind kind
	val  string
	pos  int // offset in the source
}

// is reports whether t is the keyword (or punctuation) s.
func (t token) is(s string) bool {
	return (t.kind == kIdent || t.kind == kOp) && t.val == s
}

// lexError says why a query could not be tokenised.
type lexError struct {
	pos int
	msg string
}

func (e *lexError) Error() string { return fmt.Sprintf("at offset %d: %s", e.pos, e.msg) }

// lex splits src into tokens.
func lex(src string) ([]token, error) {
	var out []token
	i, n := 0, len(src)
	for i < n {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			i++
		case c == '-' && i+1 < n && src[i+1] == '-':
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < n && src[i+1] == '*':
			end, err := skipComment(src, i)
			if err != nil {
				return nil, err
			}
			i = end
		case c == '\'':
			end, err := skipString(src, i+1, false)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: kString, pos: i})
			i = end
		case (c == 'e' || c == 'E') && i+1 < n && src[i+1] == '\'':
			end, err := skipString(src, i+2, true)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: kString, pos: i})
			i = end
		case (c == 'b' || c == 'B' || c == 'x' || c == 'X' || c == 'n' || c == 'N') && i+1 < n && src[i+1] == '\'':
			end, err := skipString(src, i+2, false)
			if err != nil {
				return nil, err
			}
			out = append(out, token{kind: kString, pos: i})
			i = end
		case (c == 'u' || c == 'U') && i+2 < n && src[i+1] == '&' && (src[i+2] == '\'' || src[i+2] == '"'):
			if src[i+2] == '\'' {
				end, err := skipString(src, i+3, false)
				if err != nil {
					return nil, err
				}
				out = append(out, token{kind: kString, pos: i})
				i = end
				continue
			}
			// U&"d\0061ta": what it names needs its escapes (and any
			// UESCAPE clause) decoded; policy must not see it undecoded.
			return nil, &lexError{i, "Unicode-escaped identifier"}
		case c == '"':
			name, end, err := quotedIdent(src, i)
			if err != nil {
				return nil, err
			}
			if strings.ContainsAny(name, `."`) || !ascii(name) {
				// "a.b" would read as schema a, relation b once the name
				// is qualified; "a""b" and non-ASCII names compare
				// differently here and in the server's catalog: refused
				// rather than misnamed.
				return nil, &lexError{i, "quoted identifier with a dot, a quote or a non-ASCII character"}
			}
			out = append(out, token{kind: kQIdent, val: name, pos: i})
			i = end
		case c == '$':
			if i+1 < n && isDigit(src[i+1]) {
				j := i + 1
				for j < n && isDigit(src[j]) {
					j++
				}
				out = append(out, token{kind: kParam, pos: i})
				i = j
				continue
			}
			end, ok, err := dollarString(src, i)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, &lexError{i, "stray $"}
			}
			out = append(out, token{kind: kString, pos: i})
			i = end
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdentChar(src[j]) {
				j++
			}
			if !ascii(src[i:j]) {
				// Lower-cased differently by the server's collation and
				// by the catalog's lookups: refused rather than misnamed.
				return nil, &lexError{i, "non-ASCII identifier"}
			}
			out = append(out, token{kind: kIdent, val: lowerASCII(src[i:j]), pos: i})
			i = j
		case isDigit(c) || (c == '.' && i+1 < n && isDigit(src[i+1])):
			j := i
			for j < n && (isDigit(src[j]) || src[j] == '.' || src[j] == '_' || isIdentStart(src[j])) {
				if (src[j] == 'e' || src[j] == 'E') && j+1 < n && (src[j+1] == '+' || src[j+1] == '-') {
					j++
				}
				j++
			}
			out = append(out, token{kind: kNumber, pos: i})
			i = j
		case strings.IndexByte("(),;[].", c) >= 0:
			out = append(out, token{kind: kOp, val: src[i : i+1], pos: i})
			i++
		case c == ':':
			if i+1 < n && src[i+1] == ':' {
				out = append(out, token{kind: kOp, val: "::", pos: i})
				i += 2
			} else if i+1 < n && src[i+1] == '=' {
				out = append(out, token{kind: kOp, val: ":=", pos: i})
				i += 2
			} else {
				out = append(out, token{kind: kOp, val: ":", pos: i})
				i++
			}
		case isOpChar(c):
			j := i
			for j < n && isOpChar(src[j]) {
				if (src[j] == '-' && j+1 < n && src[j+1] == '-') || (src[j] == '/' && j+1 < n && src[j+1] == '*') {
					break // a comment starts inside the operator
				}
				j++
			}
			if j == i {
				j = i + 1
			}
			out = append(out, token{kind: kOp, val: src[i:j], pos: i})
			i = j
		default:
			return nil, &lexError{i, fmt.Sprintf("unexpected character %q", c)}
		}
	}
	return out, nil
}

// skipComment returns the offset after the (nested) comment at i.
func skipComment(src string, i int) (int, error) {
	start, depth := i, 0
	for i < len(src) {
		switch {
		case src[i] == '/' && i+1 < len(src) && src[i+1] == '*':
			depth++
			i += 2
		case src[i] == '*' && i+1 < len(src) && src[i+1] == '/':
			depth--
			i += 2
			if depth == 0 {
				return i, nil
			}
		default:
			i++
		}
	}
	return 0, &lexError{start, "unterminated /* comment"}
}

// skipString returns the offset after the string whose content starts at
// i. Quotes double to escape; with backslash, \ escapes the next byte.
func skipString(src string, i int, backslash bool) (int, error) {
	start := i - 1
	for i < len(src) {
		switch c := src[i]; {
		case backslash && c == '\\':
			i += 2
		case c == '\'':
			if i+1 < len(src) && src[i+1] == '\'' {
				i += 2
				continue
			}
			return i + 1, nil
		default:
			i++
		}
	}
	return 0, &lexError{start, "unterminated string"}
}

// ascii says whether s is all ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// quotedIdent reads the quoted identifier at i (on its opening quote).
func quotedIdent(src string, i int) (string, int, error) {
	start := i
	var b strings.Builder
	i++
	for i < len(src) {
		if src[i] == '"' {
			if i+1 < len(src) && src[i+1] == '"' {
				b.WriteByte('"')
				i += 2
				continue
			}
			if b.Len() == 0 {
				return "", 0, &lexError{start, "zero-length quoted identifier"}
			}
			return b.String(), i + 1, nil
		}
		b.WriteByte(src[i])
		i++
	}
	return "", 0, &lexError{start, "unterminated quoted identifier"}
}

// dollarString reads a $tag$...$tag$ string at i. ok is false when the $
// does not open one.
func dollarString(src string, i int) (end int, ok bool, err error) {
	j := i + 1
	if j < len(src) && isIdentStart(src[j]) {
		for j < len(src) && isIdentChar(src[j]) && src[j] != '$' {
			j++
		}
	}
	if j >= len(src) || src[j] != '$' {
		return 0, false, nil
	}
	delim := src[i : j+1]
	k := strings.Index(src[j+1:], delim)
	if k < 0 {
		return 0, false, &lexError{i, "unterminated dollar-quoted string " + delim}
	}
	return j + 1 + k + len(delim), true, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentChar(c byte) bool { return isIdentStart(c) || isDigit(c) || c == '$' }

func isOpChar(c byte) bool { return strings.IndexByte("+-*/<>=~!@#%^&|`?", c) >= 0 }

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
