// SPDX-License-Identifier: Apache-2.0

package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// recorded builds a session: open, a listKeys request, its decision, the
// masked response, close.
func recorded(id, workload, subject string, action interlockv1.Action, opened time.Time) []*interlockv1.SessionEvent {
	ev := func(seq uint64, d time.Duration) *interlockv1.SessionEvent {
		return &interlockv1.SessionEvent{SessionId: id, Seq: seq, Time: timestamppb.New(opened.Add(d)), SinceOpen: durationpb.New(d)}
	}
	open := ev(1, 0)
	open.Event = &interlockv1.SessionEvent_Open{Open: &interlockv1.SessionOpen{Protocol: interlockv1.Protocol_PROTOCOL_HTTPS, Target: "arm",
		ServerName: "management.azure.com", ClientAddress: "10.0.0.5:40000", OriginalDestination: "20.0.0.1:443",
		Workload: &interlockv1.Workload{Kind: interlockv1.Workload_KIND_VM, Name: workload}}}
	req := ev(2, 25*time.Millisecond)
	req.Event = &interlockv1.SessionEvent_HttpRequest{HttpRequest: &interlockv1.HTTPRequest{ExchangeId: 1, Method: "POST", Host: "management.azure.com",
		Path: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/listKeys", Query: "api-version=2025-01-01", Proto: "HTTP/2.0",
		Headers:  []*interlockv1.Header{{Name: "Authorization", Redacted: true}},
		Identity: &interlockv1.Identity{Subject: subject},
		Azure:    &interlockv1.AzureOperation{Operation: "Microsoft.Storage/storageAccounts/listKeys/action"}}}
	dec := ev(3, 26*time.Millisecond)
	dec.Event = &interlockv1.SessionEvent_Decision{Decision: &interlockv1.Decision{ExchangeId: 1, Action: action, Outcome: action, Rule: "mask-storage-keys"}}
	resp := ev(4, 40*time.Millisecond)
	resp.Event = &interlockv1.SessionEvent_HttpResponse{HttpResponse: &interlockv1.HTTPResponse{ExchangeId: 1, Status: 200,
		UpstreamLatency: durationpb.New(12 * time.Millisecond),
		Body: &interlockv1.Payload{Masked: []byte(`{"keys":[{"keyName":"key1","value":"[MASKED]"}]}`), Size: 120,
			Masks: []*interlockv1.MaskApplied{{Rule: "mask-storage-keys", JsonPath: "$.keys[*].value", Count: 1}}}}}
	cl := ev(5, 50*time.Millisecond)
	cl.Event = &interlockv1.SessionEvent_Close{Close: &interlockv1.SessionClose{Reason: "client closed", Exchanges: 1}}
	return []*interlockv1.SessionEvent{open, req, dec, resp, cl}
}

func TestSessionsCommands(t *testing.T) {
	p := startPlane(t)
	node := p.node("vm1")
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	uploadChunk(t, node, 1, recorded("s-allowed", "billing", "app-1", interlockv1.Action_ACTION_ALLOW, t0))
	uploadChunk(t, node, 2, recorded("s-denied", "reports", "app-2", interlockv1.Action_ACTION_DENY, t0.Add(time.Minute)))
	carol := p.person("carol", "auditors")
	bob := p.person("bob", "approvers")
	admin := p.tokenFile("admin", p.admin)

	tests := []struct {
		name  string
		token string
		args  []string
		want  []string // substrings of stdout, in order
		not   string
	}{
		{"list", carol, []string{"sessions", "list"}, []string{"SESSION", "s-denied", "s-allowed"}, ""},
		{"list as local admin", admin, []string{"sessions", "list"}, []string{"s-denied", "s-allowed"}, ""},
		{"filter decision", carol, []string{"sessions", "list", "--decision", "deny"}, []string{"s-denied"}, "s-allowed"},
		{"filter identity", carol, []string{"sessions", "list", "--identity", "app-1"}, []string{"s-allowed"}, "s-denied"},
		{"filter workload", carol, []string{"sessions", "list", "--workload", "reports"}, []string{"s-denied"}, "s-allowed"},
		{"filter operation", carol, []string{"sessions", "list", "--operation", "Microsoft.Storage/storageAccounts/listKeys/action"}, []string{"s-denied", "s-allowed"}, ""},
		{"filter since", carol, []string{"sessions", "list", "--since", t0.Add(30 * time.Second).Format(time.RFC3339)}, []string{"s-denied"}, "s-allowed"},
		{"filter until duration", carol, []string{"sessions", "list", "--until", "59m30s"}, []string{"s-allowed"}, "s-denied"},
		{"show", carol, []string{"sessions", "show", "s-denied"}, []string{"Session:", "s-denied", "Workload:", "reports (vm)", "Denied:", "1", "closed"}, ""},
		{"replay", carol, []string{"sessions", "replay", "s-allowed"}, []string{
			"+   0.000s  open     https target=arm server=management.azure.com workload=billing (vm)",
			"+   0.025s  -> #1 POST management.azure.com/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/acct/listKeys?api-version=2025-01-01 HTTP/2.0 [Microsoft.Storage/storageAccounts/listKeys/action] as app-1",
			"Authorization: [redacted]",
			"+   0.026s  == #1 allow rule=mask-storage-keys",
			"+   0.040s  <- #1 200 upstream 12ms",
			`{"keys":[{"keyName":"key1","value":"[MASKED]"}]}`,
			"masked 1 by mask-storage-keys $.keys[*].value",
			"+   0.050s  close    client closed, 1 exchanges",
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := p.cli(tt.token, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			rest := out
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, out)
				}
				rest = rest[i+len(w):]
			}
			if tt.not != "" && strings.Contains(out, tt.not) {
				t.Errorf("output has %q:\n%s", tt.not, out)
			}
		})
	}

	out, err := p.cli(carol, "sessions", "replay", "s-denied", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var events []map[string]any
	if err := json.Unmarshal([]byte(out), &events); err != nil || len(events) != 5 || fmt.Sprint(events[4]["seq"]) != "5" {
		t.Fatalf("replay -o json = %v (%v)", events, err)
	}
	if _, err := p.cli(bob, "sessions", "list"); err == nil || err.Error() != "permission denied: sessions list needs role auditor or admin; you have approver" {
		t.Errorf("sessions list as approver: %v", err)
	}
	if _, err := p.cli(carol, "sessions", "list", "--decision", "maybe"); err == nil || !strings.Contains(err.Error(), `--decision "maybe"`) {
		t.Errorf("bad --decision: %v", err)
	}
	if _, err := p.cli(carol, "sessions", "show", "nope"); err == nil || err.Error() != "sessions show: session not found" {
		t.Errorf("unknown session: %v", err)
	}
}
