// SPDX-License-Identifier: Apache-2.0

// Pod selectors: a namespace and a Kubernetes label selector (matchLabels
// and matchExpressions, with the semantics of metav1.LabelSelector).

package workload

import (
	"errors"
	"fmt"
	"slices"
)

// Selector selects pods by namespace and labels. A pod matches when it is
// in Namespace ("" means any namespace), has every MatchLabels pair and
// satisfies every MatchExpressions requirement. The empty Selector matches
// every pod, as an empty Kubernetes label selector does.
type Selector struct {
	Namespace        string            `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	MatchLabels      map[string]string `json:"matchLabels,omitempty" yaml:"matchLabels,omitempty"`
	MatchExpressions []Requirement     `json:"matchExpressions,omitempty" yaml:"matchExpressions,omitempty"`
}

// Requirement is one matchExpressions entry.
type Requirement struct {
	Key      string   `json:"key" yaml:"key"`
	Operator Operator `json:"operator" yaml:"operator"`
	Values   []string `json:"values,omitempty" yaml:"values,omitempty"`
}

// Operator is a matchExpressions operator, spelled as in Kubernetes.
type Operator string

// The operators of a Kubernetes label selector.
const (
	// OpIn: the label exists and its value is one of Values.
	OpIn Operator = "In"
	// OpNotIn: the label is absent or its value is none of Values.
	OpNotIn Operator = "NotIn"
	// OpExists: the label exists; Values must be empty.
	OpExists Operator = "Exists"
	// OpDoesNotExist: the label is absent; Values must be empty.
	OpDoesNotExist Operator = "DoesNotExist"
)

// Validate reports a malformed selector: an empty key, an unknown operator,
// In or NotIn without values, Exists or DoesNotExist with values.
func (s Selector) Validate() error {
	for k := range s.MatchLabels {
		if k == "" {
			return errors.New("matchLabels: empty key")
		}
	}
	for i, r := range s.MatchExpressions {
		if err := r.validate(); err != nil {
			return fmt.Errorf("matchExpressions[%d]: %w", i, err)
		}
	}
	return nil
}

func (r Requirement) validate() error {
	if r.Key == "" {
		return errors.New("empty key")
	}
	switch r.Operator {
	case OpIn, OpNotIn:
		if len(r.Values) == 0 {
			return fmt.Errorf("%s %s: needs values", r.Key, r.Operator)
		}
	case OpExists, OpDoesNotExist:
		if len(r.Values) != 0 {
			return fmt.Errorf("%s %s: takes no values", r.Key, r.Operator)
		}
	default:
		return fmt.Errorf("%s: unknown operator %q (In, NotIn, Exists, DoesNotExist)", r.Key, r.Operator)
	}
	return nil
}

// Matches reports whether p is selected. It assumes s is valid; an
// unknown operator matches nothing.
func (s Selector) Matches(p Pod) bool {
	if s.Namespace != "" && s.Namespace != p.Namespace {
		return false
	}
	for k, v := range s.MatchLabels {
		if got, ok := p.Labels[k]; !ok || got != v {
			return false
		}
	}
	for _, r := range s.MatchExpressions {
		if !r.matches(p.Labels) {
			return false
		}
	}
	return true
}

func (r Requirement) matches(labels map[string]string) bool {
	v, ok := labels[r.Key]
	switch r.Operator {
	case OpIn:
		return ok && slices.Contains(r.Values, v)
	case OpNotIn:
		return !ok || !slices.Contains(r.Values, v)
	case OpExists:
		return ok
	case OpDoesNotExist:
		return !ok
	default:
		return false
	}
}
