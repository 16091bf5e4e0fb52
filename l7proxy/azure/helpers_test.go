// SPDX-License-Identifier: Apache-2.0

// Test helpers: a parse case, checked field by field.

package azure

import (
	"strings"
	"testing"
)

// sub is a subscription id in tests.
const sub = "8f3b2a1c-5d6e-4f70-9a8b-1c2d3e4f5a6b"

// S is the path prefix of that subscription.
const S = "/subscriptions/" + sub

// parseCase is one request and the Operation expected for it.
type parseCase struct {
	method, host, path, query string

	sub, rg, provider, typ, name, action, version, operation string
	poll, data                                               bool
	// scope, account and container are checked when not empty; "-" means
	// they must be empty.
	scope, account, container string
}

// check parses c and compares every field.
func (c parseCase) check(t *testing.T) {
	t.Helper()
	op, err := Parse(c.method, c.host, c.path, c.query)
	if err != nil {
		t.Fatalf("Parse(%s %s%s?%s): %v", c.method, c.host, c.path, c.query, err)
	}
	fields := []struct {
		name, got, want string
	}{
		{"Subscription", op.Subscription, c.sub},
		{"ResourceGroup", op.ResourceGroup, c.rg},
		{"Provider", op.Provider, c.provider},
		{"ResourceType", op.ResourceType, c.typ},
		{"ResourceName", op.ResourceName, c.name},
		{"Action", op.Action, c.action},
		{"APIVersion", op.APIVersion, c.version},
		{"Operation", op.Operation, c.operation},
	}
	for _, f := range fields {
		if f.got != f.want {
			t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, f.name, f.got, f.want)
		}
	}
	if op.Poll != c.poll {
		t.Errorf("%s %s: Poll = %v, want %v", c.method, c.path, op.Poll, c.poll)
	}
	if op.DataAction != c.data {
		t.Errorf("%s %s: DataAction = %v, want %v", c.method, c.path, op.DataAction, c.data)
	}
	optional := []struct {
		name, got, want string
	}{
		{"Scope", op.Scope, c.scope},
		{"Account", op.Account, c.account},
		{"Container", op.Container, c.container},
	}
	for _, f := range optional {
		want := f.want
		if want == "-" {
			want = ""
		} else if want == "" {
			continue
		}
		if f.got != want {
			t.Errorf("%s %s: %s = %q, want %q", c.method, c.path, f.name, f.got, want)
		}
	}
	checkInvariants(t, &op)
}

// checkInvariants holds for every Operation Parse returns.
func checkInvariants(t *testing.T, op *Operation) {
	t.Helper()
	if op.Provider == "" || !strings.HasPrefix(op.Operation, op.Provider+"/") {
		t.Fatalf("operation %q does not start with provider %q", op.Operation, op.Provider)
	}
	want := op.Provider + "/"
	if op.ResourceType != "" {
		want += op.ResourceType + "/"
	}
	want += op.Action
	if !isVerb(op.Action) {
		want += "/action"
	}
	if op.Operation != want {
		t.Fatalf("operation %q, want %q from its parts", op.Operation, want)
	}
	if op.Action == "" {
		t.Fatalf("empty action in %q", op.Operation)
	}
	if op.Poll && op.Action != VerbRead {
		t.Fatalf("poll %q is not a read", op.Operation)
	}
	if op.Plane < PlaneARM || op.Plane > PlaneBlob {
		t.Fatalf("plane %d", op.Plane)
	}
}
