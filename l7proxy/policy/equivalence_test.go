// SPDX-License-Identifier: Apache-2.0

// The index must decide exactly as evaluating every rule does: generated
// rule sets against generated requests, seeded, plus a fuzz target.

package policy

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// Vocabulary of the generator: small, so that rules and requests meet.
var (
	genOps = []string{
		"Microsoft.Storage/storageAccounts/listKeys/action",
		"Microsoft.Storage/storageAccounts/regenerateKey/action",
		"Microsoft.Storage/storageAccounts/write",
		"Microsoft.Compute/virtualMachines/read",
		"Microsoft.Compute/virtualMachines/delete",
		"Microsoft.Resources/subscriptions/resourceGroups/delete",
		"Microsoft.KeyVault/vaults/read",
		"",
	}
	genSuffixes   = []string{"/action", "/listKeys/action", "/delete", "/read", "", "s/write", "keys/action"}
	genPrefixes   = []string{"Microsoft.Storage/", "microsoft.compute/", "Microsoft.", "", "Microsoft.Resources/subscriptions"}
	genMethods    = []string{"GET", "get", "PUT", "Post", "DELETE"}
	genStatements = []string{"SELECT", "drop", "DELETE", "TRUNCATE", "update"}
	genTargets    = []string{"arm", "orders-db", "vaults"}
	genGroups     = []string{"g1", "g2", "breakglass"}
	genRGs        = []string{"RG1", "rg2", "prod"}
)

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// randCase changes the case of some letters.
func randCase(r *rand.Rand, s string) string {
	b := []byte(s)
	for i, c := range b {
		if r.IntN(4) == 0 {
			switch {
			case c >= 'a' && c <= 'z':
				b[i] = c - 32
			case c >= 'A' && c <= 'Z':
				b[i] = c + 32
			}
		}
	}
	return string(b)
}

func quoteList(r *rand.Rand, vocab []string, n int) string {
	var q []string
	for range n {
		q = append(q, fmt.Sprintf("%q", randCase(r, pick(r, vocab))))
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// genConjunct makes one condition fragment: indexable ones, ones that are
// not, and ones that can fail at run time (a missing header).
func genConjunct(r *rand.Rand) string {
	switch r.IntN(20) {
	case 0, 1:
		return fmt.Sprintf("arm.operation == %q", randCase(r, pick(r, genOps)))
	case 2:
		return fmt.Sprintf("%q == arm.operation", randCase(r, pick(r, genOps)))
	case 3:
		return "arm.operation in " + quoteList(r, genOps, 1+r.IntN(3))
	case 4:
		return fmt.Sprintf("arm.operation.endsWith(%q)", randCase(r, pick(r, genSuffixes)))
	case 5:
		return fmt.Sprintf("arm.operation.startsWith(%q)", randCase(r, pick(r, genPrefixes)))
	case 6:
		return fmt.Sprintf("request.method == %q", pick(r, genMethods))
	case 7:
		return "sql.statementType in " + quoteList(r, genStatements, 1+r.IntN(3))
	case 8:
		return fmt.Sprintf("target.name == %q", pick(r, genTargets))
	case 9:
		return fmt.Sprintf("%q in identity.groups", pick(r, genGroups))
	case 10:
		return fmt.Sprintf("arm.resourceGroup == %q", pick(r, genRGs))
	case 11:
		return fmt.Sprintf("arm.operation != %q", pick(r, genOps))
	case 12:
		return "identity.groups.exists(g, g.startsWith(\"g\"))"
	case 13:
		return fmt.Sprintf("(arm.operation == %q || request.method == %q)", pick(r, genOps), pick(r, genMethods))
	case 14:
		return `request.headers["x-h"] == "v"`
	case 15:
		return "!sql.hasWhere"
	case 16:
		return fmt.Sprintf("arm.operation.contains(%q)", randCase(r, "storage"))
	case 17:
		return "now.getHours() < 12"
	case 18:
		return fmt.Sprintf("request.path.startsWith(%q)", "/sub")
	default:
		return fmt.Sprintf("(%s && %s)", genConjunct(r), genConjunct(r))
	}
}

// genPolicy makes a policy of n rules.
func genPolicy(r *rand.Rand, n int) string {
	var b strings.Builder
	b.WriteString("apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: gen}\nrules:\n")
	for i := range n {
		parts := make([]string, 1+r.IntN(3))
		for j := range parts {
			parts[j] = genConjunct(r)
		}
		when := strings.Join(parts, " && ")
		fmt.Fprintf(&b, "  - name: r%d\n    when: '%s'\n", i, strings.ReplaceAll(when, "'", "''"))
		switch r.IntN(4) {
		case 0:
			b.WriteString("    action: deny\n")
		case 1:
			b.WriteString("    action: approve\n    approval: {approvers: [\"group:a\"]}\n")
		default:
			fmt.Fprintf(&b, "    action: allow\n    mask: [{jsonPath: \"$.r%d\"}]\n", i)
		}
	}
	fmt.Fprintf(&b, "defaultAction: %s\n", pick(r, []string{"allow", "deny"}))
	return b.String()
}

func genRequest(r *rand.Rand) *Request {
	req := &Request{
		Target: TargetInfo{Name: pick(r, genTargets)},
		HTTP:   HTTP{Method: pick(r, genMethods), Path: pick(r, []string{"/subscriptions/x", "/secrets/y", ""})},
		ARM:    ARM{Operation: randCase(r, pick(r, genOps)), ResourceGroup: randCase(r, pick(r, genRGs))},
		SQL:    SQL{StatementType: randCase(r, pick(r, genStatements)), HasWhere: r.IntN(2) == 0},
		Now:    time.Date(2026, 1, 1, r.IntN(24), 0, 0, 0, time.UTC),
	}
	for _, g := range genGroups {
		if r.IntN(3) == 0 {
			req.Identity.Groups = append(req.Identity.Groups, g)
		}
	}
	if r.IntN(2) == 0 {
		req.HTTP.Headers = map[string]string{"x-h": pick(r, []string{"v", "w"})}
	}
	return req
}

// summary renders everything a decision says, for comparison.
func summary(d *Decision, err error) string {
	rule := "-"
	if d.Rule != nil {
		rule = d.Rule.Name
	}
	var masks []string
	for _, m := range d.Masks {
		masks = append(masks, m.Rule)
	}
	return fmt.Sprintf("%s rule=%s matched=%v masks=%v approval=%v msg=%q err=%v",
		d.Action, rule, ruleNames(d.Matched), masks, d.Approval != nil, d.Message, err)
}

// checkEquivalent evaluates reqs both ways and reports any difference.
func checkEquivalent(t *testing.T, b *Bundle, policy string, reqs []*Request) {
	t.Helper()
	ctx := context.Background()
	var di, dr Decision
	for _, req := range reqs {
		ei := b.EvaluateInto(ctx, req, &di)
		er := b.evaluateAll(ctx, req, &dr)
		if si, sr := summary(&di, ei), summary(&dr, er); si != sr {
			t.Fatalf("index and reference disagree\nrequest %+v\nindexed   %s\nreference %s\npolicy:\n%s", *req, si, sr, policy)
		}
	}
}

func TestIndexEquivalence(t *testing.T) {
	// Hand-picked cases first.
	table := []struct {
		when string
		reqs []*Request
	}{
		{`arm.operation.endsWith("")`, []*Request{armReq("GET", ""), armReq("GET", "x")}},
		{`arm.operation == ""`, []*Request{armReq("GET", ""), armReq("GET", "x")}},
		{`arm.operation in []`, []*Request{armReq("GET", "")}},
		{`arm.operation.startsWith("Microsoft.Storage/") && arm.operation.endsWith("/action")`, []*Request{armReq("POST", "microsoft.storage/a/action"), armReq("POST", "microsoft.storage/a/read")}},
		{`arm.operation == "A" && arm.operation == "B"`, []*Request{armReq("GET", "a"), armReq("GET", "b")}},
		{`request.headers["x"] == "y" && arm.operation == "A"`, []*Request{armReq("GET", "a"), armReq("GET", "b")}},
		{`"g" in identity.groups && "h" in identity.groups`, []*Request{{Identity: Identity{Groups: []string{"g"}}}, {Identity: Identity{Groups: []string{"g", "h"}}}}},
	}
	for i, tt := range table {
		pol := fmt.Sprintf("apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: t}\nrules:\n  - {name: r, when: '%s', action: allow}\n  - {name: s, when: 'true', action: deny}\n", tt.when)
		b, err := Load([]Document{{Name: fmt.Sprint(i), YAML: []byte(pol)}}, Options{})
		if err != nil {
			t.Fatal(err)
		}
		checkEquivalent(t, b, pol, tt.reqs)
	}
	// Then generated rule sets, seeded.
	iterations := 300
	if testing.Short() {
		iterations = 30
	}
	for seed := range uint64(iterations) {
		r := rand.New(rand.NewPCG(seed, 0x1e7e))
		pol := genPolicy(r, 1+r.IntN(80))
		b, err := Load([]Document{{Name: "gen.yaml", YAML: []byte(pol)}}, Options{})
		if err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, pol)
		}
		reqs := make([]*Request, 50)
		for i := range reqs {
			reqs[i] = genRequest(r)
		}
		checkEquivalent(t, b, pol, reqs)
	}
}

func FuzzIndexEquivalence(f *testing.F) {
	for i := range uint64(8) {
		f.Add(i, i*7919, uint8(20))
	}
	f.Fuzz(func(t *testing.T, policySeed, requestSeed uint64, rules uint8) {
		r := rand.New(rand.NewPCG(policySeed, 1))
		pol := genPolicy(r, 1+int(rules%100))
		b, err := Load([]Document{{Name: "gen.yaml", YAML: []byte(pol)}}, Options{})
		if err != nil {
			t.Fatalf("generated policy does not load: %v", err)
		}
		rr := rand.New(rand.NewPCG(requestSeed, 2))
		reqs := make([]*Request, 20)
		for i := range reqs {
			reqs[i] = genRequest(rr)
		}
		checkEquivalent(t, b, pol, reqs)
	})
}
