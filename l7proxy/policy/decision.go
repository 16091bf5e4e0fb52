// SPDX-License-Identifier: Apache-2.0

// Decision: what the rules decided for one request, and how it is built
// from the rules that matched.

package policy

import (
	"errors"
	"fmt"
)

// Decision is the outcome of evaluating a request.
type Decision struct {
	Action Action
	// Rule is the deciding rule: the first matching deny rule, else the
	// first matching approve rule, else the first matching allow rule (in
	// bundle order: documents in the order given, rules in the order
	// written). Nil when no rule matched and the default action decided,
	// or when evaluation failed before any rule decided.
	Rule *Rule
	// Matched lists every rule whose condition held, in bundle order.
	Matched []*Rule
	// Message is the deciding rule's message, or says why the default
	// action or an error decided.
	Message string
	// Approval holds the deciding approve rule's parameters.
	Approval *Approval
	// Masks accumulates the masks of every matching allow and approve rule
	// when the decision is allow or approve; empty on deny.
	Masks []*MaskRule
	// Detectors are the bundle's masking.detectors: they apply to every
	// inspected response.
	Detectors []string
}

// EvalError is returned when a condition cannot be evaluated (a missing
// map key, a failed conversion, the cost limit, a cancelled context). The
// Decision that comes with it denies: callers fail closed.
type EvalError struct {
	// Rule is the rule whose condition failed; empty when the context
	// ended between rules.
	Rule string
	Err  error
}

func (e *EvalError) Error() string {
	if e.Rule == "" {
		return fmt.Sprintf("policy: evaluate: %v", e.Err)
	}
	return fmt.Sprintf("policy: rule %s: %v", e.Rule, e.Err)
}

func (e *EvalError) Unwrap() error { return e.Err }

// errNotBool is the error of a condition that yields no bool at run time.
var errNotBool = errors.New("condition did not evaluate to a bool")

// reset empties d for reuse, keeping its slices' storage.
func (d *Decision) reset() {
	clear(d.Matched)
	clear(d.Masks)
	*d = Decision{Matched: d.Matched[:0], Masks: d.Masks[:0]}
}

// decide sets the action, deciding rule, message, approval and masks from
// d.Matched.
func (b *Bundle) decide(d *Decision) {
	d.Detectors = b.detectors
	var deciding *Rule
	for _, r := range d.Matched {
		if deciding == nil || r.Action.rank() > deciding.Action.rank() {
			deciding = r
		}
	}
	if deciding == nil {
		d.Action = b.defaultAction
		d.Message = b.defaultMessage
		return
	}
	d.Action, d.Rule, d.Message, d.Approval = deciding.Action, deciding, deciding.Message, deciding.Approval
	if d.Action == Deny {
		return
	}
	for _, r := range d.Matched {
		d.Masks = append(d.Masks, r.Masks...)
	}
}

// fail turns d into the fail-closed denial for err.
func (d *Decision) fail(err *EvalError, detectors []string) {
	d.reset()
	d.Action = Deny
	d.Detectors = detectors
	d.Message = "policy evaluation failed, denied (fail closed): " + err.Error()
}

// ruleNames lists the names of rules.
func ruleNames(rs []*Rule) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Name
	}
	return out
}
