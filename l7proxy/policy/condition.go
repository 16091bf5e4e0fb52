// SPDX-License-Identifier: Apache-2.0

// Compiling a rule's condition: check it against the typed variables,
// normalise the literals it compares with case-insensitive fields, and find
// the conjuncts the index can use.

package policy

import (
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/parser"
)

// condition is a compiled `when`.
type condition struct {
	prg cel.Program
	// limited is true when the condition has a comprehension: it is run
	// with the cost limit. Other conditions run in time linear in their
	// size and the request's.
	limited bool
	// conjuncts are the top-level operands of &&, as written.
	conjuncts []conjunct
	// constraints are the conjuncts the index keys on (one per field).
	constraints []constraint
	// full is true when every conjunct is one of the constraints: a rule the
	// index selects then matches without running CEL.
	full bool

	// explain holds one program per conjunct, built on first use.
	explainOnce sync.Once
	explain     []cel.Program
	explainErr  error
	env         *cel.Env
}

// conjunct is one operand of the top-level &&.
type conjunct struct {
	// Text is the conjunct as written (unparsed from the original AST).
	text string
	// normText is the normalised conjunct, for compiling it alone.
	normText string
}

// constraintKind says how a constraint compares its field.
type constraintKind uint8

const (
	kindEqual    constraintKind = iota + 1 // field == lit, field in [lits]
	kindPrefix                             // field.startsWith(lit)
	kindSuffix                             // field.endsWith(lit)
	kindContains                           // lit in listField
)

// constraint is an indexable conjunct: it is false unless the field's
// value passes it.
type constraint struct {
	// field indexes stringFields, or listFields for kindContains.
	field  int
	kind   constraintKind
	values []string
}

// celError is a compile error at a position inside the expression.
type celError struct {
	line, column int // CEL's: 1-based line, 0-based column
	msg          string
}

// compileCondition compiles src. On failure it returns the CEL errors.
func compileCondition(env *cel.Env, src string, costLimit uint64) (*condition, []celError) {
	checked, iss := env.Compile(src)
	if iss != nil && iss.Err() != nil {
		var errs []celError
		for _, e := range iss.Errors() {
			errs = append(errs, celError{line: e.Location.Line(), column: e.Location.Column(), msg: e.Message})
		}
		return nil, errs
	}
	if !checked.OutputType().IsExactType(cel.BoolType) {
		return nil, []celError{{line: 1, msg: fmt.Sprintf("a condition must be a bool, this one is %s", checked.OutputType())}}
	}
	native := checked.NativeRep()
	info := native.SourceInfo()
	c := &condition{env: env}

	var exprs []celast.Expr
	flattenAnd(native.Expr(), &exprs)
	c.conjuncts = make([]conjunct, len(exprs))
	for i, e := range exprs {
		c.conjuncts[i].text, _ = parser.Unparse(e, info)
	}
	normalizeLiterals(native.Expr())
	for i, e := range exprs {
		c.conjuncts[i].normText, _ = parser.Unparse(e, info)
	}
	c.constraints, c.full = findConstraints(exprs)
	c.limited = hasComprehension(native.Expr())

	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if c.limited {
		opts = append(opts, cel.CostLimit(costLimit))
	}
	prg, err := env.Program(checked, opts...)
	if err != nil {
		return nil, []celError{{line: 1, msg: err.Error()}}
	}
	c.prg = prg
	return c, nil
}

// interruptEvery is how many comprehension iterations run between checks
// of the context.
const interruptEvery = 100

// flattenAnd appends the operands of nested && calls.
func flattenAnd(e celast.Expr, out *[]celast.Expr) {
	if e.Kind() == celast.CallKind {
		call := e.AsCall()
		if call.FunctionName() == operators.LogicalAnd && len(call.Args()) == 2 {
			flattenAnd(call.Args()[0], out)
			flattenAnd(call.Args()[1], out)
			return
		}
	}
	*out = append(*out, e)
}

// listFieldOf returns the list field e selects (identity.groups), if it is
// one.
func listFieldOf(e celast.Expr) (int, bool) {
	if e.Kind() != celast.SelectKind {
		return 0, false
	}
	sel := e.AsSelect()
	if sel.IsTestOnly() || sel.Operand().Kind() != celast.IdentKind {
		return 0, false
	}
	return listFieldByPath(sel.Operand().AsIdent() + "." + sel.FieldName())
}

// fieldOf returns the string field e selects (arm.operation), if it is one.
func fieldOf(e celast.Expr) (int, bool) {
	if e.Kind() != celast.SelectKind {
		return 0, false
	}
	sel := e.AsSelect()
	if sel.IsTestOnly() || sel.Operand().Kind() != celast.IdentKind {
		return 0, false
	}
	return fieldByPath(sel.Operand().AsIdent() + "." + sel.FieldName())
}

// stringLit returns the value of a string literal.
func stringLit(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// stringList returns the values of a list literal of string literals.
func stringList(e celast.Expr) ([]string, bool) {
	if e.Kind() != celast.ListKind {
		return nil, false
	}
	l := e.AsList()
	if len(l.OptionalIndices()) > 0 {
		return nil, false
	}
	out := make([]string, 0, l.Size())
	for _, el := range l.Elements() {
		s, ok := stringLit(el)
		if !ok {
			return nil, false
		}
		out = append(out, s)
	}
	return out, true
}

// normalizeLiterals rewrites, everywhere in e, the string literals compared
// directly with a normalised field (==, !=, in [...], startsWith, endsWith,
// contains) into the field's normal form, so that
// arm.operation == "Microsoft.Resources/..." compares case-insensitively.
func normalizeLiterals(e celast.Expr) {
	fac := celast.NewExprFactory()
	setLit := func(lit celast.Expr, n norm) {
		if s, ok := stringLit(lit); ok {
			lit.SetKindCase(fac.NewLiteral(lit.ID(), types.String(n.apply(s))))
		}
	}
	normOf := func(e celast.Expr) norm {
		if i, ok := fieldOf(e); ok {
			return stringFields[i].norm
		}
		return asIs
	}
	visit := func(e celast.Expr) {
		if e.Kind() != celast.CallKind {
			return
		}
		call := e.AsCall()
		args := call.Args()
		switch call.FunctionName() {
		case operators.Equals, operators.NotEquals:
			if len(args) == 2 {
				if n := normOf(args[0]); n != asIs {
					setLit(args[1], n)
				}
				if n := normOf(args[1]); n != asIs {
					setLit(args[0], n)
				}
			}
		case operators.In:
			if len(args) == 2 && args[1].Kind() == celast.ListKind {
				if n := normOf(args[0]); n != asIs {
					for _, el := range args[1].AsList().Elements() {
						setLit(el, n)
					}
				}
			}
		case "startsWith", "endsWith", "contains":
			if call.IsMemberFunction() && len(args) == 1 {
				if n := normOf(call.Target()); n != asIs {
					setLit(args[0], n)
				}
			}
		}
	}
	walk(e, visit)
}

// walk calls visit on e and every expression below it.
func walk(e celast.Expr, visit func(celast.Expr)) {
	visit(e)
	switch e.Kind() {
	case celast.CallKind:
		c := e.AsCall()
		if c.IsMemberFunction() {
			walk(c.Target(), visit)
		}
		for _, a := range c.Args() {
			walk(a, visit)
		}
	case celast.ComprehensionKind:
		c := e.AsComprehension()
		walk(c.IterRange(), visit)
		walk(c.AccuInit(), visit)
		walk(c.LoopCondition(), visit)
		walk(c.LoopStep(), visit)
		walk(c.Result(), visit)
	case celast.ListKind:
		for _, el := range e.AsList().Elements() {
			walk(el, visit)
		}
	case celast.MapKind:
		for _, en := range e.AsMap().Entries() {
			walk(en.AsMapEntry().Key(), visit)
			walk(en.AsMapEntry().Value(), visit)
		}
	case celast.SelectKind:
		walk(e.AsSelect().Operand(), visit)
	case celast.StructKind:
		for _, f := range e.AsStruct().Fields() {
			walk(f.AsStructField().Value(), visit)
		}
	}
}

func hasComprehension(e celast.Expr) bool {
	found := false
	walk(e, func(e celast.Expr) {
		if e.Kind() == celast.ComprehensionKind {
			found = true
		}
	})
	return found
}

// findConstraints picks, per field, the first indexable conjunct (equality
// or in-list before prefix and suffix). full reports whether every conjunct
// was picked.
func findConstraints(conjuncts []celast.Expr) (cs []constraint, full bool) {
	full = true
	type key struct {
		field int
		list  bool
	}
	byField := map[key]int{} // field → position in cs
	for _, e := range conjuncts {
		c, ok := asConstraint(e)
		if !ok {
			full = false
			continue
		}
		k := key{c.field, c.kind == kindContains}
		if j, seen := byField[k]; seen {
			full = false
			if cs[j].kind != kindEqual && c.kind == kindEqual {
				cs[j] = c
			}
			continue
		}
		byField[k] = len(cs)
		cs = append(cs, c)
	}
	return cs, full
}

// asConstraint recognises field == "lit", "lit" == field,
// field in ["a", "b"], field.startsWith("lit"), field.endsWith("lit") and
// "lit" in listField.
func asConstraint(e celast.Expr) (constraint, bool) {
	if e.Kind() != celast.CallKind {
		return constraint{}, false
	}
	call := e.AsCall()
	args := call.Args()
	switch call.FunctionName() {
	case operators.Equals:
		if len(args) != 2 {
			break
		}
		for _, p := range [][2]celast.Expr{{args[0], args[1]}, {args[1], args[0]}} {
			f, okf := fieldOf(p[0])
			s, oks := stringLit(p[1])
			if okf && oks {
				return constraint{field: f, kind: kindEqual, values: []string{s}}, true
			}
		}
	case operators.In:
		if len(args) != 2 {
			break
		}
		f, okf := fieldOf(args[0])
		vals, okl := stringList(args[1])
		if okf && okl {
			return constraint{field: f, kind: kindEqual, values: vals}, true
		}
		lf, oklf := listFieldOf(args[1])
		s, oks := stringLit(args[0])
		if oklf && oks {
			return constraint{field: lf, kind: kindContains, values: []string{s}}, true
		}
	case "startsWith", "endsWith":
		if !call.IsMemberFunction() || len(args) != 1 {
			break
		}
		f, okf := fieldOf(call.Target())
		s, oks := stringLit(args[0])
		if okf && oks {
			k := kindPrefix
			if call.FunctionName() == "endsWith" {
				k = kindSuffix
			}
			return constraint{field: f, kind: k, values: []string{s}}, true
		}
	}
	return constraint{}, false
}

// conjunctPrograms compiles each conjunct on its own, for Explain.
func (c *condition) conjunctPrograms(costLimit uint64) ([]cel.Program, error) {
	c.explainOnce.Do(func() {
		for _, cj := range c.conjuncts {
			ast, iss := c.env.Compile(cj.normText)
			if iss != nil && iss.Err() != nil {
				c.explainErr = fmt.Errorf("compile conjunct %q: %w", cj.text, iss.Err())
				return
			}
			prg, err := c.env.Program(ast, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(interruptEvery))
			if err != nil {
				c.explainErr = fmt.Errorf("program for conjunct %q: %w", cj.text, err)
				return
			}
			c.explain = append(c.explain, prg)
		}
	})
	return c.explain, c.explainErr
}
