// SPDX-License-Identifier: Apache-2.0

package auth

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseBinding(t *testing.T) {
	tests := []struct {
		in   string
		want Binding
		ok   bool
	}{
		{"approver=groups:sec-oncall", Binding{Claim: "groups", Value: "sec-oncall", Role: RoleApprover}, true},
		{"admin=roles:Interlock.Admin", Binding{Claim: "roles", Value: "Interlock.Admin", Role: RoleAdmin}, true},
		{"auditor=email:a:b@example.test", Binding{Claim: "email", Value: "a:b@example.test", Role: RoleAuditor}, true},
		{"node=groups:nodes", Binding{}, false}, // nodes are certificates, never tokens
		{"approver=groups", Binding{}, false},
		{"approver", Binding{}, false},
		{"approver=:x", Binding{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBinding(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Errorf("ParseBinding = %+v, %v; want %+v, ok=%v", got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestAdminToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "admin.token")
	tok, err := LoadOrCreateAdminToken(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, AdminTokenPrefix) || len(tok) < 40 {
		t.Fatalf("token %q", tok)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	again, err := LoadOrCreateAdminToken(path)
	if err != nil || again != tok {
		t.Fatalf("reload = %q, %v; want the same token", again, err)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateAdminToken(path); err == nil {
		t.Error("a group-readable token file was accepted")
	}
	if _, err := ReadTokenFile(path); err == nil {
		t.Error("ReadTokenFile accepted a group-readable file")
	}
}

func TestClaimHas(t *testing.T) {
	tests := []struct {
		v    any
		want bool
	}{
		{"x", true},
		{"y", false},
		{[]any{"a", "x"}, true},
		{[]any{1.0, "b"}, false},
		{nil, false},
		{map[string]any{"x": true}, false},
	}
	for _, tt := range tests {
		if got := claimHas(tt.v, "x"); got != tt.want {
			t.Errorf("claimHas(%v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
