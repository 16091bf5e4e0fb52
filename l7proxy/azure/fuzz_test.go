// SPDX-License-Identifier: Apache-2.0

// FuzzParse: Parse never panics, fails only with its sentinels, and every
// Operation it returns keeps the package's invariants.

package azure

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	seeds := []struct{ method, host, path, query string }{
		{"GET", "management.azure.com", S + "/resourcegroups", "api-version=2025-04-01"},
		{"POST", "management.azure.com", acct + "/listKeys", "api-version=2025-01-01"},
		{"POST", "management.azure.com", site + "/config/appsettings/list", "api-version=2024-04-01"},
		{"PUT", "management.azure.com", acct + "/blobServices/default/containers/c1" + raID, "api-version=2022-04-01"},
		{"GET", "management.azure.com", S + "/providers/Microsoft.Compute/locations/westus/operations/x", "api-version=2024-07-01"},
		{"POST", "management.azure.com", S + "/providers/Microsoft.Storage/checkNameAvailability", "api-version=2025-01-01"},
		{"GET", "management.azure.com", "/providers/Microsoft.Management/managementGroups/mg/providers/Microsoft.Authorization/roleAssignments", ""},
		{"DELETE", "management.azure.com", S + "/resourcegroups/rg%2F1", "api-version=2025-04-01"},
		{"GET", "management.azure.com:443", S + "/resourceGroups/my%20rg%C3%A9/", "api-version=2025-04-01&api-version=1"},
		{"GET", "myvault.vault.azure.net", "/secrets/db-password/", "api-version=2026-04-01"},
		{"POST", "myvault.vault.azure.net", "/keys/k//wrapkey", "api-version=2026-04-01"},
		{"PUT", "myvault.vault.azure.net", "/certificates/issuers/x", "api-version=2026-04-01"},
		{"GET", "acct1.blob.core.windows.net", "/logs/dir%2Fa.txt", "comp=tags"},
		{"GET", "acct1.blob.core.windows.net", "/", "comp=list"},
		{"PUT", "acct1.blob.core.windows.net", "/logs", "restype=container&comp=acl"},
		{"DELETE", "acct1.blob.core.windows.net", "/logs/a", "versionid=x&deletetype=permanent"},
	}
	for _, s := range seeds {
		f.Add(s.method, s.host, s.path, s.query)
	}
	f.Fuzz(func(t *testing.T, method, host, path, query string) {
		op, err := Parse(method, host, path, query)
		if err != nil {
			if !errors.Is(err, ErrUnknownHost) && !errors.Is(err, ErrUnknownOperation) && !errors.Is(err, ErrInvalidRequest) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			if op != (Operation{}) {
				t.Fatalf("operation not zero on error: %+v", op)
			}
			return
		}
		checkInvariants(t, &op)
		again, err := Parse(method, host, path, query)
		if err != nil || again != op {
			t.Fatalf("not deterministic: %+v, then %+v, %v", op, again, err)
		}
		if len(op.Operation) > len(path)+len(host)+128 {
			t.Fatalf("operation %d bytes from a %d-byte path", len(op.Operation), len(path))
		}
		if op.Subscription != "" && !validSubscription(op.Subscription) {
			t.Fatalf("subscription %q", op.Subscription)
		}
		switch op.Plane {
		case PlaneARM:
			if op.DataAction || op.Account != "" {
				t.Fatalf("ARM operation with data-plane fields: %+v", op)
			}
			if strings.ContainsAny(op.ResourceName, "/\\%") || strings.ContainsAny(op.ResourceGroup, "/\\%") {
				t.Fatalf("separator in a name: %+v", op)
			}
			if !strings.HasSuffix(op.ResourceID, op.ResourceName) || !strings.HasPrefix(op.ResourceID, op.Scope) {
				t.Fatalf("ResourceID %q, Scope %q, name %q", op.ResourceID, op.Scope, op.ResourceName)
			}
		case PlaneKeyVault:
			if !op.DataAction || op.Provider != nsKeyVault || strings.Contains(op.ResourceName, "/") {
				t.Fatalf("Key Vault operation %+v", op)
			}
		case PlaneBlob:
			if op.Provider != nsStorage || op.Account == "" {
				t.Fatalf("Blob operation %+v", op)
			}
		}
	})
}
