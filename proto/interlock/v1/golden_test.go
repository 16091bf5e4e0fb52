// SPDX-License-Identifier: Apache-2.0

// Wire-compatibility tests: recordings written today must decode the same
// way in years.

package interlockv1

import (
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var update = flag.Bool("update", false, "rewrite testdata golden files from the current schema")

// goldenEvents has one event of every kind, with every field set, as a
// session of an agent that lists storage keys and is refused a delete.
func goldenEvents() []*SessionEvent {
	t0 := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	ev := func(seq uint64, d time.Duration) *SessionEvent {
		return &SessionEvent{
			SessionId: "0190d5c8-7a1e-7b3c-9d2e-4f5a6b7c8d9e",
			Seq:       seq,
			Time:      timestamppb.New(t0.Add(d)),
			SinceOpen: durationpb.New(d),
		}
	}
	id := &Identity{
		Issuer: "https://sts.windows.net/72f988bf-0000-0000-0000-000000000001/", Subject: "sub-1",
		AppId: "app-1", ObjectId: "oid-1", TenantId: "72f988bf-0000-0000-0000-000000000001",
		Groups: []string{"g1"}, Roles: []string{"Reader"}, Audience: "https://management.core.windows.net/",
		TokenId: "uti-1", Expires: timestamppb.New(t0.Add(time.Hour)),
	}
	body := &Payload{
		Masked: []byte(`{"keys":[{"keyName":"key1","value":"[MASKED]"}]}`), Truncated: true, Size: 4096,
		Sha256: make([]byte, 32), ContentType: "application/json", ContentEncoding: "gzip",
		Masks: []*MaskApplied{
			{Rule: "mask-storage-keys", JsonPath: "$.keys[*].value", Detector: "azure-storage-key", Count: 2},
			{Rule: "mask-customer-email", Column: "email", Count: 3},
		},
	}
	hdr := []*Header{{Name: "Authorization", Values: []string{"[REDACTED]"}, Redacted: true}}
	var out []*SessionEvent

	e := ev(1, 0)
	e.Event = &SessionEvent_Open{Open: &SessionOpen{
		Node: "node-a", OriginalDestination: "20.0.0.1:443", ClientAddress: "10.0.0.5:40000",
		Protocol: Protocol_PROTOCOL_HTTPS, Target: "arm", ServerName: "management.azure.com",
		ClientTls:     &TLSInfo{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", Alpn: "h2"},
		PolicyVersion: "7", FailOpen: true, Identity: id, Database: "orders", User: "agent",
		Workload: &Workload{Kind: Workload_KIND_POD, Name: "agent-0", Namespace: "ai", ServiceAccount: "agent",
			PodUid: "uid-1", Unit: "agent.service", CgroupId: 1234, CgroupPath: "/kubepods/pod1", Pid: 42, Uid: 1000, Node: "node-a"},
	}}
	out = append(out, e)

	e = ev(2, time.Millisecond)
	e.Event = &SessionEvent_HttpRequest{HttpRequest: &HTTPRequest{
		ExchangeId: 1, Method: "POST", Host: "management.azure.com",
		Path:  "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa/listKeys",
		Query: "api-version=2025-01-01", Proto: "HTTP/2.0", Headers: hdr, Body: body, Identity: id, CredentialInjected: true,
		Azure: &AzureOperation{Subscription: "s", ResourceGroup: "rg", Provider: "Microsoft.Storage",
			ResourceType: "storageAccounts", ResourceName: "sa", Action: "listKeys", ApiVersion: "2025-01-01",
			Operation: "Microsoft.Storage/storageAccounts/listKeys/action", ResourceId: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/sa"},
	}}
	out = append(out, e)

	e = ev(3, 2*time.Millisecond)
	e.Event = &SessionEvent_Decision{Decision: &Decision{
		ExchangeId: 1, Action: Action_ACTION_APPROVE, Outcome: Action_ACTION_ALLOW, Rule: "r1",
		Matched: []string{"r1", "r2"}, Message: "m", PolicyVersion: "7", ApprovalId: "ap-1",
		ErrorCode: "ApprovalPending", Reason: "why",
	}}
	out = append(out, e)

	e = ev(4, 3*time.Millisecond)
	e.Event = &SessionEvent_Approval{Approval: &ApprovalEvent{
		ExchangeId: 1, ApprovalId: "ap-1", State: ApprovalState_APPROVAL_STATE_APPROVED,
		Approvers: []string{"alice"}, Comment: "ok", GrantUsed: true, GrantUntil: timestamppb.New(t0.Add(15 * time.Minute)),
	}}
	out = append(out, e)

	e = ev(5, 4*time.Millisecond)
	e.Event = &SessionEvent_HttpResponse{HttpResponse: &HTTPResponse{
		ExchangeId: 1, Status: 200, Headers: hdr, Body: body, FromProxy: true,
		UpstreamLatency: durationpb.New(time.Millisecond), ProxyLatency: durationpb.New(50 * time.Microsecond),
		ApprovalHold: durationpb.New(time.Second), RequestBody: body,
	}}
	out = append(out, e)

	e = ev(6, 5*time.Millisecond)
	e.Event = &SessionEvent_PgQuery{PgQuery: &PGQuery{
		ExchangeId: 2, Kind: PGQuery_KIND_EXECUTE, Text: "SELECT email FROM customers WHERE id = $1",
		StatementType: "SELECT", Tables: []string{"customers"}, Functions: []string{"lower"}, HasWhere: true,
		StatementName: "s1", PortalName: "p1", Parameters: body, Database: "orders", User: "agent",
	}}
	out = append(out, e)

	e = ev(7, 6*time.Millisecond)
	e.Event = &SessionEvent_PgResult{PgResult: &PGResult{
		ExchangeId: 2, CommandTag: "SELECT 1", Rows: 1, Columns: []*PGColumn{{Name: "email", TypeOid: 25}},
		Data: body, Error: &PGError{Severity: "ERROR", Sqlstate: "42501", Message: "m", Detail: "d"}, FromProxy: true,
		UpstreamLatency: durationpb.New(time.Millisecond), ProxyLatency: durationpb.New(time.Microsecond),
	}}
	out = append(out, e)

	e = ev(8, 7*time.Millisecond)
	e.Event = &SessionEvent_Close{Close: &SessionClose{
		Reason: "client closed", BytesFromClient: 10, BytesToClient: 20, Exchanges: 2, Duration: durationpb.New(7 * time.Millisecond),
	}}
	out = append(out, e)
	return out
}

func TestGoldenEvents(t *testing.T) {
	path := filepath.Join("testdata", "events.golden")
	want := &EventBatch{Events: goldenEvents()}
	if *update {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update once to create it): %v", err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	got := &EventBatch{}
	if err := (proto.UnmarshalOptions{DiscardUnknown: false}).Unmarshal(b, got); err != nil {
		t.Fatalf("golden recording no longer decodes: %v", err)
	}
	if !proto.Equal(got, want) {
		t.Fatalf("golden recording decodes differently: a field was renumbered or retyped\n got: %v\nwant: %v", got, want)
	}
	// Unknown fields would mean the schema lost a field the old encoding had.
	for i, ev := range got.Events {
		if u := ev.ProtoReflect().GetUnknown(); len(u) > 0 {
			n, _, _ := protowire.ConsumeTag(u)
			t.Errorf("event %d: unknown field %d in golden recording", i, n)
		}
	}
}

// TestEveryEventKindInGolden fails when a new event kind is added to the
// oneof without a golden example, so its wire format gets pinned too.
func TestEveryEventKindInGolden(t *testing.T) {
	oneof := (&SessionEvent{}).ProtoReflect().Descriptor().Oneofs().ByName("event")
	seen := map[string]bool{}
	for _, ev := range goldenEvents() {
		seen[string(ev.ProtoReflect().WhichOneof(oneof).Name())] = true
	}
	fields := oneof.Fields()
	for i := 0; i < fields.Len(); i++ {
		if name := string(fields.Get(i).Name()); !seen[name] {
			t.Errorf("event kind %q has no golden example", name)
		}
	}
}
