// SPDX-License-Identifier: Apache-2.0

// The scan for tables, functions and WHERE over a statement's tokens.

package sqlclass

import "strings"

// notFunctions are keywords that a parenthesis may follow without making
// a call, and type names that take modifiers (varchar(10)).
var notFunctions = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`all and any array as asc at between by cascade case cast check collate column
		conflict constraint create cross cube default desc distinct do else end except exclude exists filter
		following for foreign from full group grouping having ilike in include index inner insert intersect
		into is join key lateral left like limit materialized natural not null nulls of offset on only or
		order outer over partition preceding primary range recursive references returning returns right rollup
		row rows select sets similar some table then to union unique update using values when where window
		with within without
		analyse analyze cluster copy explain lock reindex vacuum
		bit char character dec decimal double float interval national nchar numeric precision time timestamp
		varbit varchar varying zone`) {
		notFunctions[w] = true
	}
}

// aliasStop are keywords that end a table reference where an alias could
// follow.
var aliasStop = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`where join inner left right full cross natural on using set group order
		limit offset union intersect except having window for returning values select default from into
		fetch tablesample with do when then and or as lateral only table`) {
		aliasStop[w] = true
	}
}

// scan fills tables, functions and hasWhere.
func (a *analysis) scan() {
	// parens tracks whether each open parenthesis is a call's.
	var parens []bool
	mainDepth := -1
	for i := 0; i < len(a.toks); i++ {
		t := a.toks[i]
		if i == a.main {
			mainDepth = len(parens)
		}
		switch {
		case t.is("("):
			parens = append(parens, a.isCall(i-1))
			continue
		case t.is(")"):
			if len(parens) > 0 {
				parens = parens[:len(parens)-1]
			}
			continue
		case t.is("where") && len(parens) == mainDepth && i > a.main:
			a.hasWhere = true
		}
		if t.kind != kIdent && t.kind != kQIdent {
			continue
		}
		if t.kind == kIdent {
			inCall := len(parens) > 0 && parens[len(parens)-1]
			a.tableClause(i, inCall, len(parens) == mainDepth)
		}
		if a.isCall(i) {
			a.funcs = appendNew(a.funcs, a.qualifiedBefore(i))
		}
	}
}

// isCall reports whether the name ending at toks[i] is called: a
// parenthesis follows, and it is not a keyword, a type, an object name or
// a table.
func (a *analysis) isCall(i int) bool {
	t := a.at(i)
	if (t.kind != kIdent && t.kind != kQIdent) || !a.at(i+1).is("(") || a.skip[i] {
		return false
	}
	if t.kind == kIdent && notFunctions[t.val] && !a.at(i-1).is(".") {
		return false
	}
	start := a.nameStart(i)
	if a.skip[start] {
		return false
	}
	p := start - 1
	for a.at(p).is("exists") || a.at(p).is("not") || a.at(p).is("if") {
		p-- // DROP FUNCTION IF EXISTS f(int)
	}
	prev := a.at(p)
	if prev.is("::") {
		return false // a type: x::numeric(10, 2)
	}
	if prev.is("function") || prev.is("procedure") || prev.is("routine") || prev.is("aggregate") {
		return a.at(p - 1).is("execute") // EXECUTE FUNCTION f() of a trigger calls f
	}
	return true
}

// nameStart returns the index of the first part of the qualified name
// ending at toks[i].
func (a *analysis) nameStart(i int) int {
	for i >= 2 && a.at(i-1).is(".") && (a.at(i-2).kind == kIdent || a.at(i-2).kind == kQIdent) {
		i -= 2
	}
	return i
}

// qualifiedBefore returns the qualified name ending at toks[i].
func (a *analysis) qualifiedBefore(i int) string {
	start := a.nameStart(i)
	var b strings.Builder
	for j := start; j <= i; j += 2 {
		if j > start {
			b.WriteByte('.')
		}
		b.WriteString(a.toks[j].val)
	}
	return b.String()
}

// tableClause reads the table names that follow the keyword at toks[i],
// if it introduces any. inCall says the keyword is inside a call's
// parentheses (EXTRACT(year FROM ts)), where FROM names no table; top
// that it is at the main statement's level.
func (a *analysis) tableClause(i int, inCall, top bool) {
	t := a.toks[i]
	next := a.at(i + 1)
	switch t.val {
	case "from":
		// EXTRACT(f FROM x), IS DISTINCT FROM x, COPY t FROM STDIN
		// REVOKE ... FROM role
		if inCall || a.at(i-1).is("distinct") || (a.cmd == "COPY" && top) || a.cmd == "GRANT" || a.cmd == "REVOKE" {
			return
		}
		a.names(i+1, true, true)
	case "join":
		a.names(i+1, true, false)
	case "update":
		if i == a.main || a.at(i-1).is("(") || a.at(i-1).is("as") {
			a.names(i+1, false, false)
		}
	case "into":
		j := i + 1
		for a.at(j).is("temp") || a.at(j).is("temporary") || a.at(j).is("unlogged") || a.at(j).is("table") {
			j++
		}
		a.names(j, false, false)
	case "using":
		if a.cmd == "MERGE" || a.cmd == "DELETE" {
			a.names(i+1, true, true)
		}
	case "table":
		if next.is("(") {
			return // RETURNS TABLE (...)
		}
		a.names(i+1, false, true)
	case "view":
		a.names(i+1, false, true)
	case "truncate", "lock":
		if i == a.main && !next.is("table") {
			a.names(i+1, false, true)
		}
	case "copy":
		if i == a.main {
			a.names(i+1, false, false)
		}
	case "references":
		a.names(i+1, false, false)
	case "on":
		switch a.cmd {
		case "GRANT", "REVOKE":
			j := i + 1
			if a.at(j).kind == kIdent && grantObjects[a.at(j).val] {
				return
			}
			a.names(j, false, true)
		case "CREATE":
			a.names(i+1, false, false) // INDEX ... ON t, TRIGGER ... ON t
		}
	case "vacuum", "analyze", "analyse", "cluster":
		if i != a.main {
			return
		}
		j := i + 1
		if a.at(j).is("(") {
			j = a.close(j) + 1
		}
		for a.at(j).is("full") || a.at(j).is("freeze") || a.at(j).is("verbose") || a.at(j).is("analyze") || a.at(j).is("analyse") {
			j++
		}
		a.names(j, false, true)
	}
}

// grantObjects are GRANT ... ON objects that are not tables.
var grantObjects = map[string]bool{
	"all": true, "schema": true, "database": true, "function": true, "procedure": true, "routine": true,
	"sequence": true, "domain": true, "type": true, "language": true, "foreign": true, "tablespace": true,
	"large": true, "parameter": true,
}

// names reads a table reference (or, with list, a comma-separated list of
// them) starting at toks[j]. With parenIsCall a name followed by "(" is a
// function in FROM, not a table; without it the parenthesis is a column
// list (INSERT INTO t (a, b)).
func (a *analysis) names(j int, parenIsCall, list bool) {
	for {
		for a.at(j).is("only") || a.at(j).is("lateral") || a.at(j).is("if") || a.at(j).is("not") ||
			a.at(j).is("exists") || a.at(j).is("concurrently") || a.at(j).is("materialized") {
			j++
		}
		t := a.at(j)
		if t.is("(") {
			if !list {
				return
			}
			j = a.close(j) + 1 // a subquery; its own FROM is scanned on its own
		} else {
			if t.kind != kIdent && t.kind != kQIdent {
				return
			}
			if t.kind == kIdent && aliasStop[t.val] {
				return
			}
			end := j
			for a.at(end+1).is(".") && (a.at(end+2).kind == kIdent || a.at(end+2).kind == kQIdent) {
				end += 2
			}
			if parenIsCall && a.at(end+1).is("(") {
				j = a.close(end+1) + 1 // a function in FROM: counted as a call
			} else {
				// A name a WITH query also has is a table too: a WITH
				// query does not see itself or the ones after it, so
				// some such references are the table's.
				a.tables = appendNew(a.tables, a.qualifiedBefore(end))
				for k := j; k <= end; k += 2 {
					a.skip[k] = true
				}
				j = end + 1
			}
		}
		// * , alias, (column aliases)
		if a.at(j).is("*") {
			j++
		}
		if a.at(j).is("as") {
			j++
		}
		if t := a.at(j); (t.kind == kIdent && !aliasStop[t.val]) || t.kind == kQIdent {
			a.skip[j] = true
			j++
			if a.at(j).is("(") && list {
				j = a.close(j) + 1
			}
		}
		if !list || !a.at(j).is(",") {
			return
		}
		j++
	}
}

// appendNew appends s unless it is there already.
func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
