// SPDX-License-Identifier: Apache-2.0

// Selector validation and matching, with Kubernetes label selector
// semantics.

package workload

import "testing"

func TestSelectorMatches(t *testing.T) {
	web := Pod{Namespace: "agents", Labels: map[string]string{"app": "agent", "tier": "web"}}
	bare := Pod{Namespace: "agents"}
	tests := []struct {
		name string
		sel  Selector
		pod  Pod
		want bool
	}{
		{"empty selects all", Selector{}, bare, true},
		{"namespace", Selector{Namespace: "agents"}, web, true},
		{"other namespace", Selector{Namespace: "kube-system"}, web, false},
		{"matchLabels", Selector{MatchLabels: map[string]string{"app": "agent"}}, web, true},
		{"matchLabels all pairs", Selector{MatchLabels: map[string]string{"app": "agent", "tier": "db"}}, web, false},
		{"matchLabels missing", Selector{MatchLabels: map[string]string{"app": "agent"}}, bare, false},
		{"In", Selector{MatchExpressions: []Requirement{{Key: "tier", Operator: OpIn, Values: []string{"db", "web"}}}}, web, true},
		{"In absent", Selector{MatchExpressions: []Requirement{{Key: "tier", Operator: OpIn, Values: []string{"web"}}}}, bare, false},
		{"NotIn", Selector{MatchExpressions: []Requirement{{Key: "tier", Operator: OpNotIn, Values: []string{"web"}}}}, web, false},
		{"NotIn absent", Selector{MatchExpressions: []Requirement{{Key: "tier", Operator: OpNotIn, Values: []string{"web"}}}}, bare, true},
		{"Exists", Selector{MatchExpressions: []Requirement{{Key: "app", Operator: OpExists}}}, web, true},
		{"Exists absent", Selector{MatchExpressions: []Requirement{{Key: "app", Operator: OpExists}}}, bare, false},
		{"DoesNotExist", Selector{MatchExpressions: []Requirement{{Key: "app", Operator: OpDoesNotExist}}}, web, false},
		{"DoesNotExist absent", Selector{MatchExpressions: []Requirement{{Key: "app", Operator: OpDoesNotExist}}}, bare, true},
		{"labels and expressions", Selector{Namespace: "agents", MatchLabels: map[string]string{"app": "agent"},
			MatchExpressions: []Requirement{{Key: "tier", Operator: OpNotIn, Values: []string{"system"}}}}, web, true},
		{"unknown operator", Selector{MatchExpressions: []Requirement{{Key: "app", Operator: "Gt"}}}, web, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.sel.Matches(tt.pod); got != tt.want {
				t.Errorf("%+v.Matches(%+v) = %v, want %v", tt.sel, tt.pod, got, tt.want)
			}
		})
	}
}

func TestSelectorValidate(t *testing.T) {
	tests := []struct {
		name string
		sel  Selector
		ok   bool
	}{
		{"empty", Selector{}, true},
		{"full", Selector{Namespace: "a", MatchLabels: map[string]string{"k": "v"},
			MatchExpressions: []Requirement{{Key: "k", Operator: OpIn, Values: []string{"v"}}, {Key: "x", Operator: OpDoesNotExist}}}, true},
		{"empty label key", Selector{MatchLabels: map[string]string{"": "v"}}, false},
		{"empty expression key", Selector{MatchExpressions: []Requirement{{Operator: OpExists}}}, false},
		{"In without values", Selector{MatchExpressions: []Requirement{{Key: "k", Operator: OpIn}}}, false},
		{"NotIn without values", Selector{MatchExpressions: []Requirement{{Key: "k", Operator: OpNotIn}}}, false},
		{"Exists with values", Selector{MatchExpressions: []Requirement{{Key: "k", Operator: OpExists, Values: []string{"v"}}}}, false},
		{"unknown operator", Selector{MatchExpressions: []Requirement{{Key: "k", Operator: "in", Values: []string{"v"}}}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.sel.Validate(); (err == nil) != tt.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tt.ok)
			}
		})
	}
}
