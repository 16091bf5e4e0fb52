// SPDX-License-Identifier: Apache-2.0

// Benchmarks: the 100-rule policy through the index and through the
// reference evaluator, and loading it.

package policy

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"
)

// benchRequests is a realistic mix: operations that hit a rule, suffix
// actions, operations no rule names, SQL statements and Key Vault reads.
func benchRequests() []*Request {
	reqs := []*Request{
		armReq("GET", "Microsoft.Compute/virtualMachines/read"),
		armReq("PUT", "Microsoft.Storage/storageAccounts/write"),
		armReq("DELETE", "Microsoft.Resources/subscriptions/resourceGroups/delete"),
		armReq("POST", "Microsoft.Storage/storageAccounts/listKeys/action"),
		armReq("POST", "Microsoft.Storage/storageAccounts/regenerateKey/action"),
		armReq("POST", "Microsoft.Compute/virtualMachines/restart/action"),
		armReq("GET", "Microsoft.Insights/metrics/read"),
		armReq("PUT", "Microsoft.Authorization/roleAssignments/write"),
		armReq("GET", "microsoft.network/virtualnetworks/read"),
		sqlReq("SELECT", true, "orders"),
		sqlReq("DROP", false, "orders"),
		sqlReq("DELETE", false, "orders"),
	}
	kv := &Request{
		Target: TargetInfo{Name: "vaults", Protocol: "https", Host: "prod.vault.azure.net", Port: 443},
		HTTP:   HTTP{Method: "GET", Host: "prod.vault.azure.net", Path: "/secrets/db-password/", Headers: map[string]string{"authorization": "Bearer x"}},
	}
	reqs = append(reqs, kv)
	for _, r := range reqs {
		r.Identity = Identity{Issuer: "https://sts.windows.net/t/", Subject: "agent", Groups: []string{"agents", "readers"}}
		r.Workload = Workload{Kind: "pod", Name: "agent-0", Namespace: "agents"}
		r.Now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	}
	return reqs
}

func benchEvaluate(b *testing.B, eval func(*Bundle, context.Context, *Request, *Decision) error) {
	bundle := loadFile(b, "hundred.yaml")
	reqs := benchRequests()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var d Decision
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if err := eval(bundle, ctx, reqs[i%len(reqs)], &d); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	// Percentiles over single evaluations, timed one by one.
	const n = 20000
	lat := make([]time.Duration, n)
	for i := range lat {
		start := time.Now()
		_ = eval(bundle, ctx, reqs[i%len(reqs)], &d)
		lat[i] = time.Since(start)
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[n*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkEvaluate100Rules(b *testing.B) {
	benchEvaluate(b, (*Bundle).EvaluateInto)
}

func BenchmarkEvaluateNaive100Rules(b *testing.B) {
	benchEvaluate(b, (*Bundle).evaluateAll)
}

func BenchmarkLoad(b *testing.B) {
	y, err := os.ReadFile("testdata/hundred.yaml")
	if err != nil {
		b.Fatal(err)
	}
	docs := []Document{{Name: "hundred.yaml", YAML: y}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(docs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
