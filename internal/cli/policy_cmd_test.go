// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// pt is the policy package's testdata, shared with these tests.
const pt = "../../l7proxy/policy/testdata/"

func TestPolicyValidate(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		out     string
		wantErr string
	}{
		{"good", []string{pt + "example.yaml"}, pt + "example.yaml: ok\n", ""},
		{"hundred rules", []string{pt + "hundred.yaml"}, pt + "hundred.yaml: ok\n", ""},
		{"typo", []string{pt + "example.yaml", pt + "broken/typo-field.yaml"},
			pt + "example.yaml: ok\n" + pt + "broken/typo-field.yaml:7:14: rules[0].when: undefined field 'opration'\n", "policy validate: 1 problem(s)"},
		{"clash across files", []string{pt + "example.yaml", pt + "hundred.yaml"},
			pt + "example.yaml: ok\n" +
				pt + `hundred.yaml:8:5: targets[0].name: target "arm" is already defined at ` + pt + "example.yaml:8\n" +
				pt + `hundred.yaml:11:5: targets[3].name: target "orders-db" is already defined at ` + pt + "example.yaml:13\n" +
				pt + `hundred.yaml:318:5: rules[86].name: rule "no-ddl" is already defined at ` + pt + "example.yaml:33\n",
			"policy validate: 3 problem(s)"},
		{"missing file", []string{pt + "nope.yaml"}, "", "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, append([]string{"policy", "validate"}, tt.args...)...)
			if (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if out != tt.out {
				t.Errorf("out:\n%s\nwant:\n%s", out, tt.out)
			}
		})
	}
}

func TestPolicyTestTable(t *testing.T) {
	const detectors = "detectors: azure-storage-key azure-sas azure-connection-string entra-client-secret jwt private-key email credit-card iban\n"
	tests := []struct {
		name string
		args []string
		out  string
	}{
		{"allow with mask", []string{pt + "example.yaml", "--request", pt + "requests/list-keys.yaml"}, `decision: allow
rule:     mask-storage-keys
rules:
  mask-storage-keys (allow, policy prod-agents): matched
    true   arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action"
masks:
  jsonPath $.keys[*].value (rule mask-storage-keys)
` + detectors},
		{"deny, lower-case path", []string{pt + "example.yaml", "--request", pt + "requests/rg-delete.yaml"}, `decision: deny
rule:     no-rg-delete
message:  Agents may not delete resource groups.
rules:
  no-rg-delete (deny, policy prod-agents): matched
    true   arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
masks:    none
` + detectors},
		{"approve", []string{pt + "example.yaml", "--request", pt + "requests/regenerate-key.yaml"}, `decision: approve
rule:     key-rotation-needs-approval
approval: approvers group:sec-oncall, minApprovals 1, timeout 10m0s, grantFor 15m0s, hold 30s
rules:
  key-rotation-needs-approval (approve, policy prod-agents): matched
    true   arm.operation.endsWith("/regenerateKey/action")
masks:    none
` + detectors},
		{"sql target found by host, all rules", []string{pt + "example.yaml", "--request", pt + "requests/drop-table.yaml", "--all"}, `decision: deny
rule:     no-ddl
rules:
  no-rg-delete (deny, policy prod-agents): not matched
    false  arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
  key-rotation-needs-approval (approve, policy prod-agents): not matched
    false  arm.operation.endsWith("/regenerateKey/action")
  mask-storage-keys (allow, policy prod-agents): not matched
    false  arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action"
  no-ddl (deny, policy prod-agents): matched
    true   target.name == "orders-db"
    true   sql.statementType in ["DROP", "TRUNCATE", "ALTER"]
masks:    none
` + detectors},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, append([]string{"policy", "test"}, tt.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			if out != tt.out {
				t.Errorf("out:\n%s\nwant:\n%s", out, tt.out)
			}
		})
	}
}

func TestPolicyTestStructured(t *testing.T) {
	for _, format := range []string{"json", "yaml"} {
		t.Run(format, func(t *testing.T) {
			out, _, err := run(t, "policy", "test", pt+"hundred.yaml", "--request", pt+"requests/list-keys.yaml", "-o", format)
			if err != nil {
				t.Fatal(err)
			}
			var res testResult
			if format == "json" {
				err = json.Unmarshal([]byte(out), &res)
			} else {
				err = yaml.Unmarshal([]byte(out), &res)
			}
			if err != nil {
				t.Fatalf("not %s: %v\n%s", format, err, out)
			}
			if res.Decision != "allow" || res.Rule != "suffix-listkeys" || len(res.Rules) != 1 || len(res.Masks) != 1 ||
				res.Masks[0].JSONPath != "$.keys[*].value" || strings.Join(res.Masks[0].Detectors, ",") != "azure-storage-key" {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestPolicyTestErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		want  string
		usage bool
	}{
		{"no request", []string{pt + "example.yaml"}, "--request is required", true},
		{"bad output", []string{pt + "example.yaml", "--request", pt + "requests/list-keys.yaml", "-o", "xml"}, `--output "xml"`, true},
		{"misspelt request field", []string{pt + "example.yaml", "--request", pt + "requests/misspelt.yaml"}, "field opration not found", false},
		{"not a target", []string{pt + "example.yaml", "--request", pt + "requests/not-a-target.yaml"}, "example.com:443 is no target", false},
		{"broken policy", []string{pt + "broken/typo-field.yaml", "--request", pt + "requests/list-keys.yaml"}, "typo-field.yaml:7:14: rules[0].when: undefined field 'opration'", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, append([]string{"policy", "test"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			var usage *UsageError
			if errors.As(err, &usage) != tt.usage {
				t.Errorf("usage error = %v, want %v", !tt.usage, tt.usage)
			}
		})
	}
}
