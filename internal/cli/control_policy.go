// SPDX-License-Identifier: Apache-2.0

// The policy validator `interlock control` checks pushes with: the policy
// engine's own loader.

package cli

import (
	"errors"

	"github.com/interlockhq/interlock/l7proxy/policy"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// validatePolicy loads docs with the policy engine; its problems become
// PolicyProblems.
func validatePolicy(docs []*interlockv1.PolicyDocument) error {
	in := make([]policy.Document, len(docs))
	for i, d := range docs {
		in[i] = policy.Document{Name: d.GetName(), YAML: d.GetYaml()}
	}
	_, err := policy.Load(in, policy.Options{})
	var ps policy.Problems
	if errors.As(err, &ps) {
		return policyProblems(ps)
	}
	return err
}

// policyProblems adapts policy.Problems to control.ProblemLister.
type policyProblems policy.Problems

func (p policyProblems) Error() string { return policy.Problems(p).Error() }

func (p policyProblems) PolicyProblems() []*interlockv1.PolicyProblem {
	out := make([]*interlockv1.PolicyProblem, len(p))
	for i, x := range p {
		out[i] = &interlockv1.PolicyProblem{Document: x.Document, Line: uint32(max(x.Line, 0)), Column: uint32(max(x.Column, 0)), Field: x.Field, Message: x.Message}
	}
	return out
}
