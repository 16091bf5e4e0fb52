// SPDX-License-Identifier: Apache-2.0

// The cost of naming a request: a typical listKeys, a resource group
// list, a Key Vault getSecret, and allocation limits pinned by a test.

package azure

import "testing"

var benchCases = []struct{ name, method, host, path, query string }{
	{"listKeys", "POST", "management.azure.com", acct + "/listKeys", "api-version=2025-01-01"},
	{"listGroups", "GET", "management.azure.com", S + "/resourcegroups", "api-version=2025-04-01"},
	{"roleAssignment", "PUT", "management.azure.com", acct + raID, "api-version=2022-04-01"},
	{"getSecret", "GET", "myvault.vault.azure.net", "/secrets/db-password/", "api-version=2026-04-01"},
	{"getBlob", "GET", "acct1.blob.core.windows.net", "/logs/2025/01/app.log", ""},
}

func BenchmarkParse(b *testing.B) {
	for _, c := range benchCases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(c.method, c.host, c.path, c.query); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestParseAllocations(t *testing.T) {
	limits := map[string]float64{
		"listKeys":       1, // the action string
		"listGroups":     0, // constant names
		"roleAssignment": 1,
		"getSecret":      0,
		"getBlob":        0,
	}
	for _, c := range benchCases {
		n := testing.AllocsPerRun(100, func() {
			if _, err := Parse(c.method, c.host, c.path, c.query); err != nil {
				t.Fatal(err)
			}
		})
		if n > limits[c.name] {
			t.Errorf("%s: %v allocations, want at most %v", c.name, n, limits[c.name])
		}
	}
}
