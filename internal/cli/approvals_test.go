// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestApprovalsCommands(t *testing.T) {
	p := startPlane(t)
	node := p.node("vm1")
	alice, bob, carol := p.person("alice", "approvers"), p.person("bob", "approvers"), p.person("carol", "auditors")
	a := request(t, node, "alice", "rotate", 2)

	out, err := p.cli(bob, "approvals", "list")
	if err != nil {
		t.Fatal(err)
	}
	if l := lines(out); len(l) != 2 || !strings.HasPrefix(l[0], "ID") || !strings.Contains(l[1], a.GetId()) || !strings.Contains(l[1], "pending") || !strings.Contains(l[1], "0/2") {
		t.Errorf("approvals list:\n%s", out)
	}
	tests := []struct {
		name  string
		token string
		args  []string
		want  string // in stdout, or in the error when err is set
		err   bool
	}{
		{"auditor cannot approve", carol, []string{"approvals", "approve", a.GetId()}, "permission denied: approvals approve needs role approver; you have auditor", true},
		{"requester cannot approve", alice, []string{"approvals", "approve", a.GetId()}, "permission denied: approvals approve you cannot decide your own request", true},
		{"first approval", bob, []string{"approvals", "approve", a.GetId(), "-m", "looks fine"}, "bob approved", false},
		{"same approver twice", bob, []string{"approvals", "approve", a.GetId()}, "already decided", true},
		{"show as auditor", carol, []string{"approvals", "show", a.GetId()}, "pending", false},
		{"unknown id", bob, []string{"approvals", "show", "nope"}, "approvals show: approval not found", true},
		{"bad state", bob, []string{"approvals", "list", "--state", "maybe"}, `--state "maybe"`, true},
		{"bad output", bob, []string{"approvals", "list", "-o", "xml"}, `--output "xml"`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.cli(tt.token, tt.args...)
			if tt.err {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want it to say %q", err, tt.want)
				}
				return
			}
			if err != nil || !strings.Contains(out, tt.want) {
				t.Fatalf("out = %q, err = %v; want %q", out, err, tt.want)
			}
		})
	}

	// Structured output: JSON and YAML carry the same fields.
	out, err = p.cli(bob, "approvals", "list", "--state", "all", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 1 || list[0]["id"] != a.GetId() || list[0]["state"] != "APPROVAL_STATE_PENDING" {
		t.Fatalf("json list = %v (%v):\n%s", list, err, out)
	}
	out, err = p.cli(bob, "approvals", "show", a.GetId(), "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var one map[string]any
	if err := yaml.Unmarshal([]byte(out), &one); err != nil || one["id"] != a.GetId() || one["rule"] != "key-rotation" {
		t.Fatalf("yaml show = %v (%v):\n%s", one, err, out)
	}

	// Watch sees the second approver's decision at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wout syncBuffer
	done := make(chan error, 1)
	go func() {
		var errb syncBuffer
		done <- Run(ctx, []string{"approvals", "watch", "--server", p.addr, "--ca", p.caFile, "--token-file", bob, "-o", "json"}, strings.NewReader(""), &wout, &errb)
	}()
	waitFor(t, 5*time.Second, "the watch to start with the pending approval", func() bool { return strings.Contains(wout.String(), a.GetId()) })
	dave := p.person("dave", "approvers")
	if _, err := p.cli(dave, "approvals", "approve", a.GetId()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the approval on the watch", func() bool { return strings.Contains(wout.String(), "APPROVAL_STATE_APPROVED") })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("watch ended with %v", err)
	}
	for _, l := range lines(wout.String()) {
		if !json.Valid([]byte(l)) {
			t.Errorf("watch -o json printed a line that is not JSON: %q", l)
		}
	}

	b := request(t, node, "agent", "delete-rg", 1)
	if _, err := p.cli(bob, "approvals", "deny", b.GetId(), "-m", "no"); err != nil {
		t.Fatal(err)
	}
	out, err = p.cli(bob, "approvals", "list", "--state", "denied")
	if err != nil || !strings.Contains(out, b.GetId()) || strings.Contains(out, a.GetId()) {
		t.Errorf("list --state denied = %v\n%s", err, out)
	}
}

func TestUnreachable(t *testing.T) {
	p := startPlane(t)
	bob := p.person("bob", "approvers")
	// A port nobody listens on: take one and close it.
	lis, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	lis.Close()
	var out, errb syncBuffer
	err = Run(context.Background(), []string{"approvals", "list", "--server", addr, "--ca", p.caFile, "--token-file", bob}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.HasPrefix(err.Error(), "cannot reach control plane at "+addr+": ") {
		t.Errorf("err = %v, want cannot reach control plane at %s", err, addr)
	}
	err = Run(context.Background(), []string{"sessions", "list", "--server", p.addr, "--ca", p.caFile, "--token-file", p.tokenFile("junk", "not-a-token")}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.HasPrefix(err.Error(), "not authenticated: ") {
		t.Errorf("err = %v, want not authenticated", err)
	}
}
