// SPDX-License-Identifier: Apache-2.0

// Explain: the decision for a request with, for every rule, which of its
// conjuncts held. For people (interlock policy test), not the data path.

package policy

import (
	"context"
	"errors"
	"fmt"

	"cel.dev/cel-go/common/types"
)

// Explanation is a decision and the reasons for it.
type Explanation struct {
	Decision Decision
	// Err is the evaluation error, if any; Decision then denies.
	Err error
	// Rules holds every rule in evaluation order.
	Rules []RuleExplanation
}

// RuleExplanation says whether a rule matched and what each top-level
// conjunct of its condition (the operands of &&) evaluated to.
type RuleExplanation struct {
	Rule      *Rule
	Matched   bool
	Conjuncts []ConjunctResult
}

// ConjunctResult is one conjunct and its value: "true", "false" or
// "error: ...".
type ConjunctResult struct {
	Expr  string
	Value string
}

// errIndexDisagrees means the index and the reference evaluator decided
// differently: a bug in this package.
var errIndexDisagrees = errors.New("policy: internal error: the rule index and the reference evaluator disagree")

// Explain evaluates req with the reference evaluator (every rule), checks
// that the index agrees, and evaluates each conjunct of each rule on its
// own. It is slow: use Evaluate on the data path.
func (b *Bundle) Explain(ctx context.Context, req *Request) (*Explanation, error) {
	ex := &Explanation{}
	ex.Err = b.evaluateAll(ctx, req, &ex.Decision)
	var indexed Decision
	ierr := b.EvaluateInto(ctx, req, &indexed)
	if fmt.Sprint(ierr) != fmt.Sprint(ex.Err) || indexed.Action != ex.Decision.Action || indexed.Rule != ex.Decision.Rule ||
		fmt.Sprint(ruleNames(indexed.Matched)) != fmt.Sprint(ruleNames(ex.Decision.Matched)) {
		return nil, errIndexDisagrees
	}
	matched := map[*Rule]bool{}
	for _, r := range ex.Decision.Matched {
		matched[r] = true
	}
	s := b.getState(req)
	defer b.putState(s)
	for _, r := range b.rules {
		re := RuleExplanation{Rule: r, Matched: matched[r]}
		prgs, err := r.cond.conjunctPrograms(b.costLimit)
		if err != nil {
			return nil, fmt.Errorf("policy: rule %s: %w", r.Name, err)
		}
		for i, prg := range prgs {
			cr := ConjunctResult{Expr: r.cond.conjuncts[i].text}
			out, _, err := prg.ContextEval(ctx, s)
			switch v := out.(type) {
			case types.Bool:
				cr.Value = fmt.Sprint(bool(v))
			default:
				if err == nil {
					err = errNotBool
				}
				cr.Value = "error: " + err.Error()
			}
			if err != nil {
				cr.Value = "error: " + err.Error()
			}
			re.Conjuncts = append(re.Conjuncts, cr)
		}
		ex.Rules = append(ex.Rules, re)
	}
	return ex, nil
}
