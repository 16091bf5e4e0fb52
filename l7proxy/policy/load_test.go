// SPDX-License-Identifier: Apache-2.0

// Loading: the example policies load, and every broken policy fails with
// exactly the problem its first line announces.

package policy

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadExample(t *testing.T) {
	b := loadFile(t, "example.yaml")
	if got := ruleNames(b.Rules()); strings.Join(got, ",") != "no-rg-delete,key-rotation-needs-approval,mask-storage-keys,no-ddl" {
		t.Errorf("rules = %v", got)
	}
	if len(b.Targets()) != 2 {
		t.Fatalf("targets = %d, want 2", len(b.Targets()))
	}
	arm := b.Targets()[0]
	if arm.Credential.Mode != CredentialInject || arm.Credential.Azure.Type != AzureWorkloadIdentity || arm.FailOpen {
		t.Errorf("arm target = %+v", arm)
	}
	want := Issuer{Issuer: "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/", Audience: "https://management.core.windows.net/"}
	if is := b.Issuers(); len(is) != 1 || is[0] != want {
		t.Errorf("issuers = %+v, want %+v", is, want)
	}
	ap := b.Rules()[1].Approval
	wantAp := Approval{Approvers: []string{"group:sec-oncall"}, MinApprovals: 1, Timeout: 10 * time.Minute, GrantFor: 15 * time.Minute, Hold: 30 * time.Second}
	if fmt.Sprint(*ap) != fmt.Sprint(wantAp) {
		t.Errorf("approval = %+v, want %+v", *ap, wantAp)
	}
	if m := b.Rules()[2].Masks; len(m) != 1 || m[0].JSONPath.String() != "$.keys[*].value" || m[0].Rule != "mask-storage-keys" {
		t.Errorf("masks = %+v", m)
	}
	if b.DefaultAction() != Deny {
		t.Errorf("defaultAction = %s", b.DefaultAction())
	}
}

func TestLoadHundred(t *testing.T) {
	b := loadFile(t, "hundred.yaml")
	if n := len(b.Rules()); n != 100 {
		t.Fatalf("rules = %d, want 100", n)
	}
	var full, partial, none int
	for _, r := range b.Rules() {
		switch {
		case r.cond.full:
			full++
		case len(r.cond.constraints) > 0:
			partial++
		default:
			none++
		}
	}
	t.Logf("fully indexed %d, partly %d, unindexed %d", full, partial, none)
	if none == 0 || partial == 0 {
		t.Errorf("the benchmark policy should hold unindexable and partly indexed rules")
	}
}

// TestBroken loads every testdata/broken file; its first line is
// "# want: " and the first problem, exactly.
func TestBroken(t *testing.T) {
	files, err := filepath.Glob("testdata/broken/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no broken policies: %v", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			y, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bytes.Cut(y, []byte("\n"))
			want, ok := strings.CutPrefix(string(first), "# want: ")
			if !ok {
				t.Fatalf("first line %q does not start with # want:", first)
			}
			_, err = Load([]Document{{Name: filepath.Base(f), YAML: y}}, Options{})
			var ps Problems
			if !errors.As(err, &ps) || len(ps) == 0 {
				t.Fatalf("Load = %v, want problems", err)
			}
			if got := ps[0].String(); got != want {
				t.Errorf("first problem:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestLoadLimits(t *testing.T) {
	rule := "  - {name: r%d, when: 'arm.operation == \"op%d\"', action: allow}\n"
	var many strings.Builder
	many.WriteString("apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: many}\nrules:\n")
	for i := range 11 {
		fmt.Fprintf(&many, rule, i, i)
	}
	tests := []struct {
		name string
		yaml string
		opts Options
		want string
	}{
		{"size", strings.Repeat("#", 2000), Options{MaxDocumentSize: 1000}, "x.yaml: document is 2000 bytes, more than the limit of 1000"},
		{"rules", many.String(), Options{MaxRules: 10}, "x.yaml: the bundle has 11 rules, more than the limit of 10"},
		{"empty", "# nothing\n", Options{}, "x.yaml: no policy document"},
		{"long condition", "apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: a}\nrules:\n  - {name: r, action: allow, when: '" + strings.Repeat("true && ", 1000) + "true'}\n", Options{},
			"x.yaml:5:37: rules[0].when: expression code point size exceeds limit: size: 8004, limit 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load([]Document{{Name: "x.yaml", YAML: []byte(tt.yaml)}}, tt.opts)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("Load = %v, want problems", err)
			}
			got := ps[0]
			if got.Document == "" {
				got.Document = "x.yaml"
			}
			if got.String() != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSeveralDocuments: documents of one file and of several files form
// one bundle, in order; the strictest defaultAction wins.
func TestSeveralDocuments(t *testing.T) {
	a := "apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: a}\nrules: [{name: ra, when: 'true', action: allow}]\ndefaultAction: allow\n---\n" +
		"apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: b}\nrules: [{name: rb, when: 'false', action: deny}]\ndefaultAction: allow\n---\n"
	c := "apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: c}\nrules: [{name: rc, when: 'true', action: allow}]\n"
	b, err := Load([]Document{{Name: "a.yaml", YAML: []byte(a)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ruleNames(b.Rules()), ","); got != "ra,rb" || b.DefaultAction() != Allow {
		t.Errorf("rules %s default %s", got, b.DefaultAction())
	}
	b, err = Load([]Document{{Name: "a.yaml", YAML: []byte(a)}, {Name: "c.yaml", YAML: []byte(c)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ruleNames(b.Rules()), ","); got != "ra,rb,rc" || b.DefaultAction() != Deny {
		t.Errorf("rules %s default %s", got, b.DefaultAction())
	}
}
