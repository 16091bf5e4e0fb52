// SPDX-License-Identifier: Apache-2.0

// Evaluate: the indexed evaluator the proxies call, and the reference
// evaluator that runs every rule.

package policy

import (
	"context"
	"math/bits"

	"cel.dev/cel-go/common/types"
)

// Evaluate decides req. It is safe for concurrent use. On error (see
// EvalError) the Decision denies, and the caller must refuse the request.
func (b *Bundle) Evaluate(ctx context.Context, req *Request) (Decision, error) {
	var d Decision
	err := b.EvaluateInto(ctx, req, &d)
	return d, err
}

// EvaluateInto is Evaluate writing into d, reusing the storage of
// d.Matched and d.Masks: with a reused d it does not allocate for the
// decision itself. The returned slices are valid until the next call with
// the same d.
func (b *Bundle) EvaluateInto(ctx context.Context, req *Request, d *Decision) error {
	d.reset()
	s := b.getState(req)
	defer b.putState(s)
	b.index.candidates(&s.req, s.cand, s.tmp)
	done := ctx.Done()
	for w, word := range s.cand {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			r := b.rules[i]
			if r.cond.full {
				d.Matched = append(d.Matched, r)
				continue
			}
			ok, err := b.run(ctx, done, r, s)
			if err != nil {
				d.fail(err, b.detectors)
				return err
			}
			if ok {
				d.Matched = append(d.Matched, r)
			}
		}
	}
	b.decide(d)
	return nil
}

// evaluateAll is the reference evaluator: it runs every rule's condition
// in order, with no index and no shortcut. Tests hold Evaluate to it.
func (b *Bundle) evaluateAll(ctx context.Context, req *Request, d *Decision) error {
	d.reset()
	s := b.getState(req)
	defer b.putState(s)
	done := ctx.Done()
	for _, r := range b.rules {
		ok, err := b.run(ctx, done, r, s)
		if err != nil {
			d.fail(err, b.detectors)
			return err
		}
		if ok {
			d.Matched = append(d.Matched, r)
		}
	}
	b.decide(d)
	return nil
}

// run evaluates one rule's condition.
func (b *Bundle) run(ctx context.Context, done <-chan struct{}, r *Rule, s *evalState) (bool, *EvalError) {
	select {
	case <-done:
		return false, &EvalError{Err: context.Cause(ctx)}
	default:
	}
	out, _, err := r.cond.prg.Eval(s)
	if err != nil {
		return false, &EvalError{Rule: r.Name, Err: err}
	}
	switch v := out.(type) {
	case types.Bool:
		return bool(v), nil
	default:
		return false, &EvalError{Rule: r.Name, Err: errNotBool}
	}
}

func (b *Bundle) getState(req *Request) *evalState {
	s, _ := b.states.Get().(*evalState)
	if s == nil {
		s = &evalState{cand: newBitset(len(b.rules)), tmp: newBitset(len(b.rules))}
	}
	s.reset(req)
	return s
}

func (b *Bundle) putState(s *evalState) {
	s.release()
	b.states.Put(s)
}
