// SPDX-License-Identifier: Apache-2.0

// The command of a statement: its first keyword, and the rules for WITH,
// EXPLAIN, SELECT INTO, PREPARE and EXECUTE.

package sqlclass

import "strings"

// analysis is the state of classifying one statement.
type analysis struct {
	toks     []token
	main     int             // index of the main statement's first token
	cmd      string          // the main statement's command
	ctes     map[string]bool // names of WITH queries
	skip     map[int]bool    // tokens that name objects, not calls
	tables   []string
	funcs    []string
	hasWhere bool
	name     string
}

// command returns the command of the statement at toks[i:], and why it
// is unknown. It records the main statement's position when top.
func (a *analysis) command(i int) (string, string) {
	for i < len(a.toks) && a.toks[i].is("(") {
		i++ // (SELECT ...) UNION (SELECT ...)
	}
	if i >= len(a.toks) || a.toks[i].kind != kIdent {
		return "", "does not start with a command keyword"
	}
	a.main = i
	cmd, why := a.commandAt(i)
	a.cmd = cmd
	return cmd, why
}

func (a *analysis) commandAt(i int) (string, string) {
	t := a.toks[i]
	next := a.at(i + 1)
	switch t.val {
	case "with":
		return a.with(i)
	case "explain":
		return a.explain(i)
	case "select":
		if a.selectInto(i) {
			return "CREATE", ""
		}
		return "SELECT", ""
	case "start":
		if next.is("transaction") {
			return "BEGIN", ""
		}
		return "", "START without TRANSACTION"
	case "prepare":
		if next.is("transaction") {
			return "PREPARE TRANSACTION", ""
		}
		if next.kind != kIdent && next.kind != kQIdent {
			return "", "PREPARE without a name"
		}
		a.name = next.val
		a.skip[i+1] = true
		for j := i + 2; j < len(a.toks); j++ {
			if a.toks[j].is("as") {
				if j+1 >= len(a.toks) {
					return "", "PREPARE without a statement"
				}
				return a.command(j + 1)
			}
		}
		return "", "PREPARE without AS"
	case "execute":
		if next.kind != kIdent && next.kind != kQIdent {
			return "", "EXECUTE without a name"
		}
		a.name = next.val
		a.skip[i+1] = true
		return "EXECUTE", ""
	case "declare":
		// DECLARE name [BINARY] [ASENSITIVE | INSENSITIVE] [[NO] SCROLL]
		// CURSOR [{WITH | WITHOUT} HOLD] FOR query: the query's tables
		// are what the cursor's FETCHes read.
		if next.kind != kIdent && next.kind != kQIdent {
			return "", "DECLARE without a cursor name"
		}
		a.name = next.val
		a.skip[i+1] = true
		for j := i + 2; j < len(a.toks); j++ {
			if a.toks[j].is("for") {
				if j+1 >= len(a.toks) {
					return "", "DECLARE without a query"
				}
				inner, unknown := a.command(j + 1)
				if unknown != "" {
					return "", unknown
				}
				if inner != "SELECT" {
					return "", "DECLARE of a " + inner + " cursor"
				}
				return "DECLARE", ""
			}
		}
		return "", "DECLARE without FOR"
	case "fetch", "move":
		// FETCH [direction] [FROM | IN] name: the name is the last word.
		last := a.at(len(a.toks) - 1)
		if len(a.toks) < 2 || (last.kind != kIdent && last.kind != kQIdent) {
			return "", strings.ToUpper(t.val) + " without a cursor name"
		}
		a.name = last.val
		a.skip[len(a.toks)-1] = true
		return strings.ToUpper(t.val), ""
	case "close":
		if next.kind == kIdent || next.kind == kQIdent {
			a.name = next.val // "all" for CLOSE ALL
			a.skip[i+1] = true
		}
		return "CLOSE", ""
	case "deallocate":
		j := i + 1
		if a.at(j).is("prepare") {
			j++
		}
		a.name = a.at(j).val // "all" for DEALLOCATE ALL
		a.skip[j] = true
		return "DEALLOCATE", ""
	}
	if cmd, ok := simpleCommands[t.val]; ok {
		return cmd, ""
	}
	return "", "unknown command " + t.val
}

// at returns toks[i], or a zero token past the end.
func (a *analysis) at(i int) token {
	if i < 0 || i >= len(a.toks) {
		return token{}
	}
	return a.toks[i]
}

// close returns the index of the parenthesis closing the one at i.
func (a *analysis) close(i int) int {
	depth := 0
	for j := i; j < len(a.toks); j++ {
		switch {
		case a.toks[j].is("(") || a.toks[j].is("["):
			depth++
		case a.toks[j].is(")") || a.toks[j].is("]"):
			depth--
			if depth == 0 {
				return j
			}
		}
	}
	return len(a.toks) - 1
}

// modifying are the commands a WITH query may hide.
var modifying = map[string]int{"DELETE": 4, "UPDATE": 3, "MERGE": 2, "INSERT": 1}

// with classifies WITH [RECURSIVE] q AS (...) [, ...] main: the main
// statement's command, unless a WITH query modifies data and the main
// statement does not, then the most destructive WITH query's.
func (a *analysis) with(i int) (string, string) {
	j := i + 1
	if a.at(j).is("recursive") {
		j++
	}
	hidden := ""
	for {
		name := a.at(j)
		if name.kind != kIdent && name.kind != kQIdent {
			return "", "WITH query without a name"
		}
		a.ctes[name.val] = true
		a.skip[j] = true
		j++
		if a.at(j).is("(") {
			j = a.close(j) + 1
		}
		if !a.at(j).is("as") {
			return "", "WITH query without AS"
		}
		j++
		if a.at(j).is("not") {
			j++
		}
		if a.at(j).is("materialized") {
			j++
		}
		if !a.at(j).is("(") {
			return "", "WITH query without a parenthesised statement"
		}
		end := a.close(j)
		inner := analysis{toks: a.toks[:end], ctes: a.ctes, skip: a.skip}
		sub, why := inner.command(j + 1)
		if why != "" {
			return "", "WITH query: " + why
		}
		if modifying[sub] > modifying[hidden] {
			hidden = sub
		}
		j = end + 1
		// SEARCH ... SET col and CYCLE ... SET col [USING col] of
		// recursive queries.
		for a.at(j).is("search") || a.at(j).is("cycle") {
			for j < len(a.toks) && !a.at(j).is(",") && a.at(j).kind == kIdent && a.at(j).val != "select" &&
				a.at(j).val != "insert" && a.at(j).val != "update" && a.at(j).val != "delete" && a.at(j).val != "merge" {
				j++
			}
		}
		if a.at(j).is(",") {
			j++
			continue
		}
		break
	}
	if j >= len(a.toks) {
		return "", "WITH without a main statement"
	}
	cmd, why := a.command(j)
	if why != "" {
		return "", why
	}
	if hidden != "" && modifying[cmd] == 0 {
		return hidden, ""
	}
	return cmd, ""
}

// explain classifies EXPLAIN [ANALYZE] [VERBOSE] stmt and EXPLAIN
// (options) stmt: as stmt when ANALYZE runs it, else EXPLAIN.
func (a *analysis) explain(i int) (string, string) {
	j := i + 1
	analyze := false
	if a.at(j).is("(") {
		end := a.close(j)
		for k := j + 1; k < end; k++ {
			if a.at(k).is("analyze") || a.at(k).is("analyse") {
				v := a.at(k + 1)
				// ANALYZE false|off does not run it; any other value
				// (0 included: numbers are not kept) is taken as on.
				analyze = !v.is("false") && !v.is("off")
			}
		}
		j = end + 1
	} else {
		for a.at(j).is("analyze") || a.at(j).is("analyse") || a.at(j).is("verbose") {
			if !a.at(j).is("verbose") {
				analyze = true
			}
			j++
		}
	}
	if j >= len(a.toks) {
		return "", "EXPLAIN without a statement"
	}
	cmd, why := a.command(j)
	if why != "" {
		return "", why
	}
	if analyze {
		return cmd, ""
	}
	return "EXPLAIN", ""
}

// selectInto reports a top-level INTO in the SELECT at i, which creates a
// table.
func (a *analysis) selectInto(i int) bool {
	depth := 0
	for j := i; j < len(a.toks); j++ {
		t := a.toks[j]
		switch {
		case t.is("("):
			depth++
		case t.is(")"):
			depth--
		case depth == 0 && (t.is("from") || t.is("union") || t.is("where")):
			return false
		case depth == 0 && t.is("into"):
			return true
		}
	}
	return false
}
