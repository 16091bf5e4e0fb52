// SPDX-License-Identifier: Apache-2.0

// Classify: split a query into statements and classify each.

package sqlclass

import (
	"slices"
	"strings"
)

// Statement is one classified statement.
type Statement struct {
	// Type is the command in upper case (SELECT, INSERT, DROP, ...); ""
	// when Unknown is set.
	Type string
	// Tables and Functions are the names the statement touches, in order
	// of appearance, without duplicates.
	Tables    []string
	Functions []string
	// HasWhere says the main statement has a top-level WHERE clause.
	HasWhere bool
	// Text is the statement's source text, without the semicolon.
	Text string
	// With are the names of its WITH queries. A reference to one is in
	// Tables too: it may be the table of that name.
	With []string
	// Name is the prepared statement a PREPARE defines or an EXECUTE or
	// DEALLOCATE names, or the cursor a DECLARE defines or a FETCH, MOVE
	// or CLOSE names ("all" for DEALLOCATE ALL and CLOSE ALL).
	Name string
	// Unknown says why the statement could not be classified; callers
	// must fail closed.
	Unknown string
}

// Classify splits query into statements and classifies each. Empty
// statements (only semicolons, blanks and comments) are left out. A query
// that cannot be tokenised yields one Unknown statement with its text.
func Classify(query string) []Statement {
	toks, err := lex(query)
	if err != nil {
		return []Statement{{Text: strings.TrimSpace(query), Unknown: "cannot tokenise: " + err.Error()}}
	}
	var out []Statement
	for _, part := range split(toks) {
		if len(part) == 0 {
			continue
		}
		end := len(query)
		if last := part[len(part)-1]; last.pos < len(query) {
			end = tokenEnd(query, part, len(part)-1)
		}
		st := classify(part)
		st.Text = strings.TrimSpace(query[part[0].pos:end])
		out = append(out, st)
	}
	return out
}

// tokenEnd returns the offset after token i of toks in src.
func tokenEnd(src string, toks []token, i int) int {
	t := toks[i]
	switch t.kind {
	case kIdent:
		return t.pos + len(t.val)
	case kOp:
		return t.pos + len(t.val)
	}
	// Constants and quoted identifiers: lex again from the token.
	rest, err := lex(src[t.pos:])
	if err != nil || len(rest) < 2 {
		return len(src)
	}
	end := t.pos + rest[1].pos
	for end > t.pos && strings.IndexByte(" \t\r\n\f\v", src[end-1]) >= 0 {
		end--
	}
	return end
}

// split cuts toks at top-level semicolons. The BEGIN ATOMIC ... END body
// of CREATE FUNCTION or PROCEDURE holds semicolons of its own.
func split(toks []token) [][]token {
	var (
		out    [][]token
		start  int
		depth  int
		atomic int // nesting of BEGIN ATOMIC and CASE inside it
	)
	for i, t := range toks {
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case atomic == 0 && depth == 0 && t.is("begin") && i+1 < len(toks) && toks[i+1].is("atomic") && startsCreateRoutine(toks[start:i]):
			atomic = 1
		case atomic > 0 && t.is("case"):
			atomic++
		case atomic > 0 && t.is("end"):
			atomic--
		case t.is(";") && depth <= 0 && atomic == 0:
			out = append(out, toks[start:i])
			start = i + 1
			depth = 0
		}
	}
	return append(out, toks[start:])
}

// startsCreateRoutine reports whether toks start CREATE [OR REPLACE]
// FUNCTION or PROCEDURE.
func startsCreateRoutine(toks []token) bool {
	if len(toks) < 2 || !toks[0].is("create") {
		return false
	}
	i := 1
	if toks[i].is("or") && i+2 < len(toks) {
		i += 2
	}
	return toks[i].is("function") || toks[i].is("procedure")
}

// simpleCommands map a first keyword to its command when nothing more
// needs looking at.
var simpleCommands = map[string]string{
	"insert": "INSERT", "update": "UPDATE", "delete": "DELETE", "merge": "MERGE",
	"create": "CREATE", "alter": "ALTER", "drop": "DROP", "truncate": "TRUNCATE",
	"grant": "GRANT", "revoke": "REVOKE", "copy": "COPY", "call": "CALL", "do": "DO",
	"begin": "BEGIN", "commit": "COMMIT", "end": "COMMIT", "rollback": "ROLLBACK", "abort": "ROLLBACK",
	"savepoint": "SAVEPOINT", "release": "RELEASE", "set": "SET", "reset": "RESET", "show": "SHOW",
	"discard": "DISCARD", "listen": "LISTEN", "notify": "NOTIFY", "unlisten": "UNLISTEN", "lock": "LOCK",
	"vacuum": "VACUUM", "analyze": "ANALYZE", "analyse": "ANALYZE", "cluster": "CLUSTER", "reindex": "REINDEX",
	"checkpoint": "CHECKPOINT", "load": "LOAD", "refresh": "REFRESH", "fetch": "FETCH", "move": "MOVE",
	"close": "CLOSE", "declare": "DECLARE", "execute": "EXECUTE", "deallocate": "DEALLOCATE",
	"comment": "COMMENT", "security": "SECURITY LABEL", "import": "IMPORT", "reassign": "REASSIGN",
	"select": "SELECT", "values": "SELECT", "table": "SELECT",
}

// classify classifies one statement's tokens.
func classify(toks []token) Statement {
	var st Statement
	if bal := balance(toks); bal != "" {
		st.Unknown = bal
		return st
	}
	a := analysis{toks: toks, ctes: map[string]bool{}, skip: map[int]bool{}}
	st.Type, st.Unknown = a.command(0)
	if st.Unknown != "" {
		st.Type = ""
		return st
	}
	a.scan()
	st.Tables, st.Functions, st.HasWhere, st.Name = a.tables, a.funcs, a.hasWhere, a.name
	for n := range a.ctes {
		st.With = append(st.With, n)
	}
	slices.Sort(st.With)
	return st
}

// balance checks the parentheses and brackets.
func balance(toks []token) string {
	depth := 0
	for _, t := range toks {
		switch {
		case t.is("(") || t.is("["):
			depth++
		case t.is(")") || t.is("]"):
			depth--
			if depth < 0 {
				return "unbalanced parentheses"
			}
		}
	}
	if depth != 0 {
		return "unbalanced parentheses"
	}
	return ""
}
