// SPDX-License-Identifier: Apache-2.0

// Target lookup and host patterns.

package policy

import (
	"errors"
	"testing"
)

func TestTarget(t *testing.T) {
	pol := `apiVersion: interlock/v1
kind: Policy
metadata: {name: targets}
targets:
  - {name: arm, protocol: https, hosts: [management.azure.com]}
  - {name: vaults, protocol: https, hosts: ["*.vault.azure.net"]}
  - {name: prod-vault, protocol: https, hosts: [prod.vault.azure.net]}
  - {name: blobs, protocol: https, hosts: ["*.core.windows.net"]}
  - {name: prod-blobs, protocol: https, hosts: ["*.blob.core.windows.net", "alt.example.com:8443"]}
  - {name: pg, protocol: postgres, hosts: ["*.postgres.database.azure.com", "*.postgres.database.azure.com:6432"]}
`
	b, err := Load([]Document{{Name: "t.yaml", YAML: []byte(pol)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		host     string
		port     uint16
		protocol string
		want     string // target name, "" for none
		mismatch bool
	}{
		{"management.azure.com", 443, "https", "arm", false},
		{"Management.Azure.COM.", 443, "https", "arm", false},
		{"management.azure.com", 8443, "https", "", false},
		{"a.vault.azure.net", 443, "https", "vaults", false},
		{"prod.vault.azure.net", 443, "https", "prod-vault", false},       // exact beats wildcard
		{"x.prod.vault.azure.net", 443, "https", "vaults", false},         // several labels under the wildcard
		{"vault.azure.net", 443, "https", "", false},                      // the suffix itself is not matched
		{"acct.blob.core.windows.net", 443, "https", "prod-blobs", false}, // longest suffix wins
		{"acct.queue.core.windows.net", 443, "https", "blobs", false},
		{"alt.example.com", 8443, "https", "prod-blobs", false},
		{"alt.example.com", 443, "https", "", false},
		{"orders.postgres.database.azure.com", 5432, "postgres", "pg", false},
		{"orders.postgres.database.azure.com", 6432, "postgres", "pg", false},
		{"orders.postgres.database.azure.com", 5432, "https", "pg", true},
		{"management.azure.com", 443, "postgres", "arm", true},
		{"example.com", 443, "https", "", false},
		{"", 443, "https", "", false},
	}
	for _, tt := range tests {
		tg, err := b.Target(tt.host, tt.port, tt.protocol)
		got := ""
		if tg != nil {
			got = tg.Name
		}
		if got != tt.want || errors.Is(err, ErrProtocolMismatch) != tt.mismatch || (err != nil) != tt.mismatch {
			t.Errorf("Target(%q, %d, %s) = %q, %v; want %q, mismatch %v", tt.host, tt.port, tt.protocol, got, err, tt.want, tt.mismatch)
		}
	}
}

func TestParseHostPattern(t *testing.T) {
	tests := []struct {
		in, protocol string
		want         string // String() of the pattern, or the error
	}{
		{"management.azure.com", "https", "management.azure.com:443"},
		{"MANAGEMENT.azure.com", "https", "management.azure.com:443"},
		{"*.vault.azure.net", "https", "*.vault.azure.net:443"},
		{"*.postgres.database.azure.com", "postgres", "*.postgres.database.azure.com:5432"},
		{"db.internal:6432", "postgres", "db.internal:6432"},
		{"10.0.0.4:5432", "postgres", "10.0.0.4:5432"},
		{"*.com", "https", "a wildcard needs a suffix of two labels or more (*.example.com)"},
		{"a.*.com", "https", "a wildcard may only be the first label, as *.suffix"},
		{"host:0", "https", "port must be a number from 1 to 65535"},
		{"host:https", "https", "port must be a number from 1 to 65535"},
		{"-bad.example.com", "https", "a host label may not start or end with a hyphen"},
		{"a..b", "https", "host name has an empty or over-long label"},
		{"under_score.example.com", "https", "a host name holds only letters, digits, hyphens and dots"},
		{"", "https", "empty host name"},
	}
	for _, tt := range tests {
		h, err := parseHostPattern(tt.in, tt.protocol)
		got := h.String()
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("parseHostPattern(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
