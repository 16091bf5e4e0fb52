// SPDX-License-Identifier: Apache-2.0

// The operations Parse names, decided by the real policy engine: rules
// written with the RBAC documentation's spelling match requests in any
// case the SDKs send.

package azure

import (
	"context"
	"testing"

	"github.com/interlockhq/interlock/l7proxy/policy"
)

const testPolicy = `apiVersion: interlock/v1
kind: Policy
metadata: {name: azure-ops}
rules:
  - name: no-rg-delete
    when: arm.operation == "Microsoft.Resources/subscriptions/resourceGroups/delete"
    action: deny
  - name: key-rotation
    when: arm.operation.endsWith("/regenerateKey/action")
    action: approve
    approval: {approvers: ["group:sec"]}
  - name: list-keys
    when: arm.operation == "Microsoft.Storage/storageAccounts/listKeys/action" && arm.resourceName == "acct1"
    action: allow
  - name: polls
    when: arm.operation.endsWith("/operationstatuses/read") || arm.operation.endsWith("/asyncoperations/read")
    action: allow
  - name: role-assignments
    when: arm.provider == "Microsoft.Authorization" && arm.resourceType == "roleAssignments"
    action: deny
  - name: get-secret
    when: arm.operation == "Microsoft.KeyVault/vaults/secrets/getSecret/action"
    action: allow
defaultAction: deny
`

func TestPolicyDecisions(t *testing.T) {
	b, err := policy.Load([]policy.Document{{Name: "azure.yaml", YAML: []byte(testPolicy)}}, policy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		method, host, path, rule string
	}{
		{"DELETE", "management.azure.com", S + "/resourcegroups/rg1", "no-rg-delete"},
		{"DELETE", "management.azure.com", S + "/RESOURCEGROUPS/rg1", "no-rg-delete"},
		{"POST", "management.azure.com", acct + "/regeneratekey", "key-rotation"},
		{"POST", "management.azure.com", acct + "/listkeys", "list-keys"},
		{"POST", "management.azure.com", rgpl + "microsoft.storage/STORAGEACCOUNTS/acct1/listKeys", "list-keys"},
		{"GET", "management.azure.com", S + "/providers/Microsoft.Storage/locations/eastus/asyncoperations/x", "polls"},
		{"GET", "management.azure.com", rgp + "Microsoft.Resources/deployments/d/operationStatuses/1", "polls"},
		{"PUT", "management.azure.com", acct + raID, "role-assignments"},
		{"GET", "myvault.vault.azure.net", "/secrets/db-password/", "get-secret"},
	}
	for _, c := range cases {
		op, err := Parse(c.method, c.host, c.path, "api-version=2025-01-01")
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		req := policy.Request{ARM: op.ARM(), HTTP: policy.HTTP{Method: c.method, Host: c.host, Path: c.path}}
		d, err := b.Evaluate(context.Background(), &req)
		if err != nil {
			t.Fatalf("%s %s: %v", c.method, c.path, err)
		}
		if d.Rule == nil || d.Rule.Name != c.rule {
			got := "<default>"
			if d.Rule != nil {
				got = d.Rule.Name
			}
			t.Errorf("%s %s (%s): decided by %s, want %s", c.method, c.path, op.Operation, got, c.rule)
		}
	}
}
