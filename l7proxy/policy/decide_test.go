// SPDX-License-Identifier: Apache-2.0

// Decisions: deny over approve over allow, defaultAction, masks, case
// handling, and failing closed.

package policy

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDecisions(t *testing.T) {
	ex := loadFile(t, "example.yaml")
	hundred := loadFile(t, "hundred.yaml")
	withGroups := func(r *Request, groups ...string) *Request { r.Identity.Groups = groups; return r }
	withNS := func(r *Request, ns string) *Request { r.Workload.Namespace = ns; return r }
	withRG := func(r *Request, rg string) *Request { r.ARM.ResourceGroup = rg; return r }
	withAction := func(r *Request, a string) *Request { r.ARM.Action = a; return r }
	tests := []struct {
		name    string
		b       *Bundle
		req     *Request
		action  Action
		rule    string // deciding rule, "" for the default
		matched string // every matched rule, comma-separated
		masks   string // mask rules' JSONPath or column
	}{
		{"rg delete denied", ex, armReq("DELETE", "Microsoft.Resources/subscriptions/resourceGroups/delete"), Deny, "no-rg-delete", "no-rg-delete", ""},
		{"rg delete lower-case path", ex, armReq("DELETE", "microsoft.resources/subscriptions/resourcegroups/delete"), Deny, "no-rg-delete", "no-rg-delete", ""},
		{"key rotation", ex, armReq("POST", "Microsoft.Storage/storageAccounts/regenerateKey/action"), Approve, "key-rotation-needs-approval", "key-rotation-needs-approval", ""},
		{"list keys masked", ex, armReq("POST", "Microsoft.Storage/storageAccounts/listKeys/action"), Allow, "mask-storage-keys", "mask-storage-keys", "$.keys[*].value"},
		{"anything else default deny", ex, armReq("GET", "Microsoft.Compute/virtualMachines/read"), Deny, "", "", ""},
		{"ddl denied", ex, sqlReq("drop", false), Deny, "no-ddl", "no-ddl", ""},
		{"select default deny", ex, sqlReq("SELECT", true), Deny, "", "", ""},
		{"ddl on another target", ex, func() *Request { r := sqlReq("DROP", false); r.Target.Name = "other"; return r }(), Deny, "", "", ""},

		{"vm read allowed", hundred, armReq("GET", "Microsoft.Compute/virtualMachines/read"), Allow, "op-compute-virtualmachines-read", "op-compute-virtualmachines-read", ""},
		{"list keys allow with masks", hundred, armReq("POST", "Microsoft.Storage/storageAccounts/listKeys/action"), Allow, "suffix-listkeys", "suffix-listkeys", "$.keys[*].value"},
		{"role assignment: deny beats approve", hundred, armReq("PUT", "Microsoft.Authorization/roleDefinitions/write"), Deny, "providers-startswith-authorization", "op-authorization-roledefinitions-write,providers-startswith-authorization", ""},
		{"role assignment by POST: approve", hundred, armReq("POST", "Microsoft.Authorization/roleDefinitions/write"), Approve, "op-authorization-roledefinitions-write", "op-authorization-roledefinitions-write", ""},
		{"prod write: approve beats allow, masks kept", hundred, withAction(withRG(armReq("POST", "Microsoft.Storage/storageAccounts/listKeys/action"), "prod-data"), "write"), Approve, "prod-rg-writes-prod-data", "suffix-listkeys,prod-rg-writes-prod-data", "$.keys[*].value"},
		{"breakglass group", hundred, withGroups(armReq("GET", "Microsoft.Insights/metrics/read"), "x", "breakglass-admins"), Allow, "breakglass", "breakglass", ""},
		{"sandbox namespace", hundred, withNS(armReq("GET", "Microsoft.Insights/metrics/read"), "sandbox"), Allow, "sandbox-anything", "sandbox-anything", ""},
		{"sandbox rg", hundred, withRG(armReq("GET", "Microsoft.Insights/metrics/read"), "Sandbox-42"), Allow, "sandbox-anything", "sandbox-anything", ""},
		{"unbounded delete", hundred, sqlReq("DELETE", false, "orders"), Deny, "no-unbounded-delete", "no-unbounded-delete", ""},
		{"bounded delete", hundred, sqlReq("DELETE", true, "orders"), Approve, "orders-write", "orders-write", ""},
		{"customers select masks", hundred, sqlReq("SELECT", true, "orders", "customers"), Allow, "mask-customer-email", "mask-customer-email,orders-read", "email,phone"},
		{"no rule: default deny", hundred, armReq("GET", "Microsoft.Insights/metrics/read"), Deny, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
			for _, eval := range []struct {
				name string
				f    func(*Bundle, context.Context, *Request, *Decision) error
			}{{"indexed", (*Bundle).EvaluateInto}, {"reference", (*Bundle).evaluateAll}} {
				var d Decision
				if err := eval.f(tt.b, context.Background(), tt.req, &d); err != nil {
					t.Fatalf("%s: %v", eval.name, err)
				}
				rule := ""
				if d.Rule != nil {
					rule = d.Rule.Name
				}
				var masks []string
				for _, m := range d.Masks {
					if m.JSONPath != nil {
						masks = append(masks, m.JSONPath.String())
					} else if m.Column != "" {
						masks = append(masks, m.Column)
					}
				}
				got := []string{string(d.Action), rule, strings.Join(ruleNames(d.Matched), ","), strings.Join(masks, ",")}
				want := []string{string(tt.action), tt.rule, tt.matched, tt.masks}
				if strings.Join(got, " | ") != strings.Join(want, " | ") {
					t.Errorf("%s:\n got %q\nwant %q", eval.name, got, want)
				}
				if rule == "" && d.Message != "no rule matched: defaultAction deny" {
					t.Errorf("%s: default message %q", eval.name, d.Message)
				}
				if d.Action == Approve && d.Approval == nil {
					t.Errorf("%s: approve without approval parameters", eval.name)
				}
			}
		})
	}
}

// TestEvaluateDoesNotModify: the caller's request is left as it was.
func TestEvaluateDoesNotModify(t *testing.T) {
	b := loadFile(t, "example.yaml")
	r := armReq("DELETE", "Microsoft.Resources/subscriptions/resourceGroups/delete")
	if _, err := b.Evaluate(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	if r.ARM.Operation != "Microsoft.Resources/subscriptions/resourceGroups/delete" || r.HTTP.Method != "DELETE" {
		t.Errorf("request modified: %+v", r)
	}
}

func TestFailClosed(t *testing.T) {
	pol := `apiVersion: interlock/v1
kind: Policy
metadata: {name: errs}
rules:
  - name: allow-reads
    when: request.method == "GET"
    action: allow
  - name: header-check
    when: request.headers["x-reason"] == "ok"
    action: allow
  - name: expensive
    when: identity.groups.all(a, identity.groups.all(b, identity.groups.all(c, a + b + c != "")))
    action: allow
defaultAction: allow
`
	b, err := Load([]Document{{Name: "errs.yaml", YAML: []byte(pol)}}, Options{CostLimit: 10_000})
	if err != nil {
		t.Fatal(err)
	}
	big := make([]string, 100)
	for i := range big {
		big[i] = strings.Repeat("g", i+1)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		req  *Request
		rule string
		want string
	}{
		{"missing key", context.Background(), &Request{HTTP: HTTP{Method: "GET"}}, "header-check", "no such key: x-reason"},
		{"cost limit", context.Background(), &Request{HTTP: HTTP{Method: "GET", Headers: map[string]string{"x-reason": "ok"}}, Identity: Identity{Groups: big}}, "expensive", "cost limit exceeded"},
		{"cancelled", cancelled, &Request{HTTP: HTTP{Method: "GET"}}, "", "context canceled"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, eval := range []func(*Bundle, context.Context, *Request, *Decision) error{(*Bundle).EvaluateInto, (*Bundle).evaluateAll} {
				var d Decision
				err := eval(b, tt.ctx, tt.req, &d)
				var ee *EvalError
				if !errors.As(err, &ee) || ee.Rule != tt.rule || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("err = %v, want an EvalError of rule %q with %q", err, tt.rule, tt.want)
				}
				if d.Action != Deny || d.Rule != nil || len(d.Matched) != 0 || !strings.Contains(d.Message, "fail closed") {
					t.Errorf("decision = %+v, want a fail-closed deny", d)
				}
			}
		})
	}
}

func TestNowDefaultsToEvaluationTime(t *testing.T) {
	pol := "apiVersion: interlock/v1\nkind: Policy\nmetadata: {name: t}\nrules: [{name: recent, when: 'now > timestamp(\"2020-01-01T00:00:00Z\")', action: allow}]\n"
	b, err := Load([]Document{{Name: "t.yaml", YAML: []byte(pol)}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d, err := b.Evaluate(context.Background(), &Request{})
	if err != nil || d.Action != Allow {
		t.Fatalf("zero Now: %s, %v; want allow", d.Action, err)
	}
	d, err = b.Evaluate(context.Background(), &Request{Now: time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || d.Action != Deny {
		t.Fatalf("Now 2019: %s, %v; want deny", d.Action, err)
	}
}

// TestNormalizeMatchesTable: normalize and the stringFields table agree on
// which fields are normalised and how.
func TestNormalizeMatchesTable(t *testing.T) {
	for i, f := range stringFields {
		r := &Request{}
		// Set the field through a request whose every field is "MiXed".
		setAll(r, "MiXed")
		normalize(r)
		want := f.norm.apply("MiXed")
		if got := f.get(r); got != want {
			t.Errorf("field %d %s: normalised %q, want %q", i, f.path, got, want)
		}
	}
}

func setAll(r *Request, v string) {
	r.Identity = Identity{Issuer: v, Subject: v, AppID: v, ObjectID: v, Tenant: v}
	r.Workload = Workload{Kind: v, Name: v, Namespace: v, ServiceAccount: v, Unit: v, Cgroup: v}
	r.Target = TargetInfo{Name: v, Protocol: v, Host: v}
	r.HTTP = HTTP{Protocol: v, Method: v, Host: v, Path: v}
	r.ARM = ARM{Subscription: v, ResourceGroup: v, Provider: v, ResourceType: v, ResourceName: v, Action: v, APIVersion: v, Operation: v}
	r.SQL = SQL{StatementType: v, Text: v}
}

// TestEvaluateAllocations pins the allocations of a decision with a reused
// Decision: the index and the activation allocate nothing per request.
func TestEvaluateAllocations(t *testing.T) {
	if raceEnabled {
		t.Log("allocation counts are not pinned under the race detector (sync.Pool drops items)")
		return
	}
	b := loadFile(t, "hundred.yaml")
	tests := []struct {
		name string
		req  *Request
		max  float64
	}{
		// Lower-case operation, fully indexed rules only besides the few
		// unindexable ones.
		{"arm lower-case", armReq("GET", "microsoft.compute/virtualmachines/read"), 4},
		// A mixed-case operation costs one more: its lower-case copy.
		{"arm mixed-case", armReq("GET", "Microsoft.Compute/virtualMachines/read"), 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Now = time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
			var d Decision
			ctx := context.Background()
			got := testing.AllocsPerRun(200, func() {
				if err := b.EvaluateInto(ctx, tt.req, &d); err != nil {
					t.Fatal(err)
				}
			})
			t.Logf("%s: %.1f allocations per decision", tt.name, got)
			if got > tt.max {
				t.Errorf("%s: %.1f allocations per decision, want at most %.0f", tt.name, got, tt.max)
			}
		})
	}
}

// TestConcurrentEvaluate: one bundle, many goroutines (run with -race).
func TestConcurrentEvaluate(t *testing.T) {
	b := loadFile(t, "hundred.yaml")
	reqs := benchRequests()
	want := make([]string, len(reqs))
	for i, r := range reqs {
		d, err := b.Evaluate(context.Background(), r)
		want[i] = summary(&d, err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := range 8 {
		wg.Go(func() {
			var d Decision
			for i := range 200 {
				k := (g + i) % len(reqs)
				err := b.EvaluateInto(context.Background(), reqs[k], &d)
				if got := summary(&d, err); got != want[k] {
					errs <- got + " != " + want[k]
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
