// SPDX-License-Identifier: Apache-2.0

// Test helpers: loading testdata and building requests.

package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// loadFile loads testdata files into a bundle or fails the test.
func loadFile(tb testing.TB, names ...string) *Bundle {
	tb.Helper()
	var docs []Document
	for _, n := range names {
		y, err := os.ReadFile(filepath.Join("testdata", n))
		if err != nil {
			tb.Fatal(err)
		}
		docs = append(docs, Document{Name: n, YAML: y})
	}
	b, err := Load(docs, Options{})
	if err != nil {
		tb.Fatalf("load %v: %v", names, err)
	}
	return b
}

// armReq is a request for an ARM operation on the arm target.
func armReq(method, op string) *Request {
	return &Request{
		Target: TargetInfo{Name: "arm", Protocol: "https", Host: "management.azure.com", Port: 443},
		HTTP:   HTTP{Protocol: "HTTP/1.1", Method: method, Host: "management.azure.com", Path: "/subscriptions/s1"},
		ARM:    ARM{Subscription: "s1", ResourceGroup: "rg1", Operation: op},
	}
}

// sqlReq is a request for a SQL statement on orders-db.
func sqlReq(stmt string, hasWhere bool, tables ...string) *Request {
	return &Request{
		Target: TargetInfo{Name: "orders-db", Protocol: "postgres", Host: "orders.postgres.database.azure.com", Port: 5432},
		SQL:    SQL{StatementType: stmt, HasWhere: hasWhere, Tables: tables},
	}
}
