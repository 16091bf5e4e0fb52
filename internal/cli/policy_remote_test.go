// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestUnifiedDiff(t *testing.T) {
	tests := []struct {
		name, a, b string
		want       string // "" when equal
	}{
		{"equal", "a\nb\n", "a\nb\n", ""},
		{"change in the middle", "1\n2\n3\n4\n5\n6\n7\n8\n9\n", "1\n2\n3\n4\nfive\n6\n7\n8\n9\n",
			"--- a\n+++ b\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"},
		{"added to empty", "", "x\ny\n", "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n"},
		{"removed all", "x\n", "", "--- a\n+++ b\n@@ -1,1 +0,0 @@\n-x\n"},
		{"two hunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
			"--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			differ := unifiedDiff(&out, "a", "b", []byte(tt.a), []byte(tt.b))
			if differ != (tt.want != "") || out.String() != tt.want {
				t.Errorf("diff = %v\n%s\nwant\n%s", differ, out.String(), tt.want)
			}
		})
	}
}

func TestPolicyPushGetDiff(t *testing.T) {
	p := startPlane(t)
	admin := p.tokenFile("admin", p.admin)
	auditor := p.person("carol", "auditors")
	dir := t.TempDir()
	file := filepath.Join(dir, "prod.yaml")
	example, err := os.ReadFile("../../l7proxy/policy/testdata/example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, example, 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: bad}\nrules:\n  - name: r\n    when: arm.nope == 1\n    action: deny\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// Before any push, diff and get say there is no bundle.
	if _, err := p.cli(admin, "policy", "get"); err == nil || !strings.Contains(err.Error(), "policy get") {
		t.Fatalf("get before any push: %v", err)
	}
	tests := []struct {
		name  string
		token string
		args  []string
		want  string // in stdout, or in the error when err
		err   bool
	}{
		{"auditor cannot push", auditor, []string{"policy", "push", file}, "permission denied: policy push needs role admin", true},
		{"invalid policy refused with its line", admin, []string{"policy", "push", bad}, "bad.yaml:6", true},
		{"dry run", admin, []string{"policy", "push", file, "--dry-run"}, "would be version 1", false},
		{"push", admin, []string{"policy", "push", file, "--comment", "first"}, "pushed version 1 (1 documents", false},
		{"lost update refused", admin, []string{"policy", "push", file, "--expected-version", "7"}, "current version is 1, not 7", true},
		{"push expecting 1", admin, []string{"policy", "push", file, "--expected-version", "1"}, "pushed version 2", false},
		{"auditor gets", auditor, []string{"policy", "get"}, "# version 2", false},
		{"get an old version", admin, []string{"policy", "get", "--version", "1"}, "created", false},
		{"no diff", auditor, []string{"policy", "diff", file}, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.cli(tt.token, tt.args...)
			if tt.err {
				if err == nil || !strings.Contains(err.Error()+out, tt.want) {
					t.Fatalf("out %q, err %v; want %q", out, err, tt.want)
				}
				return
			}
			if err != nil || !strings.Contains(out, tt.want) {
				t.Fatalf("out = %q, err = %v; want %q", out, err, tt.want)
			}
		})
	}

	out, err := p.cli(admin, "policy", "get", "-o", "yaml")
	if err != nil {
		t.Fatal(err)
	}
	var view struct {
		Version   uint64
		Comment   string
		Documents []struct{ Name, YAML string }
	}
	if err := yaml.Unmarshal([]byte(out), &view); err != nil || view.Version != 2 || len(view.Documents) != 1 || view.Documents[0].YAML != string(example) {
		t.Fatalf("get -o yaml = %+v (%v):\n%s", view, err, out)
	}
	out, err = p.cli(admin, "policy", "get", "--version", "1", "-o", "json")
	if err != nil || !json.Valid([]byte(out)) || !strings.Contains(out, `"comment": "first"`) {
		t.Fatalf("get -o json = %v:\n%s", err, out)
	}

	// A changed file, and one the bundle does not have.
	changed := bytes.Replace(example, []byte("defaultAction: deny"), []byte("defaultAction: allow"), 1)
	if err := os.WriteFile(file, changed, 0o600); err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(dir, "extra.yaml")
	if err := os.WriteFile(extra, []byte("x: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err = p.cli(admin, "policy", "diff", file, extra)
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("diff of a changed file: %v, want exit status 1", err)
	}
	for _, want := range []string{"--- a/" + file + "\n+++ b/" + file + "\n", "-defaultAction: deny", "+defaultAction: allow", "--- /dev/null\n+++ b/" + extra + "\n@@ -0,0 +1,1 @@\n+x: 1\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff output lacks %q:\n%s", want, out)
		}
	}
}
