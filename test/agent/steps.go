// SPDX-License-Identifier: Apache-2.0

// The steps the agent can run, their arguments, and the parsing of the
// command line into steps.

package main

import (
	"context"
	"fmt"
	"strings"
)

// step is one action; run gets exactly nargs arguments.
type step struct {
	name  string
	nargs int
	run   func(ctx context.Context, a *agent, args []string) (any, error)
}

// call is a step with its arguments.
type call struct {
	step step
	args []string
}

// steps lists every step.
func steps() []step {
	return []step{
		{"list-groups", 0, listGroups},
		{"create-group", 1, createGroup},
		{"delete-group", 1, deleteGroup},
		{"list-storage", 0, listStorage},
		{"create-storage", 2, createStorage},
		{"list-keys", 2, listKeys},
		{"regenerate-key", 3, regenerateKey},
		{"get-secret", 2, getSecret},
		{"set-secret", 3, setSecret},
		{"list-secrets", 1, listSecrets},
		{"download-blob", 3, downloadBlob},
	}
}

// parseSteps splits args into steps, each followed by its arguments.
func parseSteps(args []string) ([]call, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no steps given; steps: %s", stepNames())
	}
	var calls []call
	for len(args) > 0 {
		s, ok := findStep(args[0])
		if !ok {
			return nil, fmt.Errorf("unknown step %q; steps: %s", args[0], stepNames())
		}
		if len(args)-1 < s.nargs {
			return nil, fmt.Errorf("step %s needs %d arguments, got %d", s.name, s.nargs, len(args)-1)
		}
		calls = append(calls, call{step: s, args: args[1 : 1+s.nargs]})
		args = args[1+s.nargs:]
	}
	return calls, nil
}

func findStep(name string) (step, bool) {
	for _, s := range steps() {
		if s.name == name {
			return s, true
		}
	}
	return step{}, false
}

func stepNames() string {
	var names []string
	for _, s := range steps() {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}
