// SPDX-License-Identifier: Apache-2.0

package control

import (
	"bytes"
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func docs(yaml ...string) []*interlockv1.PolicyDocument {
	var out []*interlockv1.PolicyDocument
	for i, y := range yaml {
		out = append(out, &interlockv1.PolicyDocument{Name: string(rune('a'+i)) + ".yaml", Yaml: []byte(y)})
	}
	return out
}

func TestPush(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	ctx := context.Background()
	admin := interlockv1.NewPolicyServiceClient(ts.person(iss.token(t, "dave", "admins")))
	tests := []struct {
		name    string
		req     *interlockv1.PushPolicyRequest
		code    codes.Code
		version uint64
	}{
		{"first", &interlockv1.PushPolicyRequest{Documents: docs("one")}, codes.OK, 1},
		{"second", &interlockv1.PushPolicyRequest{Documents: docs("two"), ExpectedVersion: 1}, codes.OK, 2},
		{"stale expected version", &interlockv1.PushPolicyRequest{Documents: docs("three"), ExpectedVersion: 1}, codes.Aborted, 0},
		{"dry run", &interlockv1.PushPolicyRequest{Documents: docs("three"), DryRun: true}, codes.OK, 3},
		{"invalid", &interlockv1.PushPolicyRequest{Documents: docs("fine", "invalid")}, codes.InvalidArgument, 0},
		{"no documents", &interlockv1.PushPolicyRequest{}, codes.InvalidArgument, 0},
		{"repeated names", &interlockv1.PushPolicyRequest{Documents: append(docs("x"), docs("y")...)}, codes.InvalidArgument, 0},
		{"third", &interlockv1.PushPolicyRequest{Documents: docs("three", "four")}, codes.OK, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := admin.Push(ctx, tt.req)
			if status.Code(err) != tt.code {
				t.Fatalf("Push = %v, want %v", err, tt.code)
			}
			if err == nil && resp.GetBundle().GetVersion() != tt.version {
				t.Errorf("version %d, want %d", resp.GetBundle().GetVersion(), tt.version)
			}
			if tt.name == "invalid" {
				var problems []*interlockv1.PolicyProblem
				for _, d := range status.Convert(err).Details() {
					if p, ok := d.(*interlockv1.PolicyProblems); ok {
						problems = p.GetProblems()
					}
				}
				if len(problems) != 1 || problems[0].GetDocument() != "b.yaml" || problems[0].GetField() != "rules[0].when" {
					t.Errorf("problems = %v", problems)
				}
			}
		})
	}
	b, err := admin.Get(ctx, &interlockv1.GetPolicyRequest{})
	if err != nil || b.GetVersion() != 3 || len(b.GetDocuments()) != 2 || b.GetCreatedBy() != "dave@example.test" {
		t.Fatalf("Get = %v, %v", b, err)
	}
	if !bytes.Equal(b.GetSha256(), BundleDigest(docs("three", "four"))) {
		t.Error("bundle digest differs")
	}
	if v1, err := admin.Get(ctx, &interlockv1.GetPolicyRequest{Version: 1}); err != nil || string(v1.GetDocuments()[0].GetYaml()) != "one" {
		t.Errorf("Get(1) = %v, %v", v1, err)
	}
	if _, err := admin.Get(ctx, &interlockv1.GetPolicyRequest{Version: 9}); status.Code(err) != codes.NotFound {
		t.Errorf("Get(9) = %v, want NotFound", err)
	}
}

// policyWatch collects the bundles a node receives.
func policyWatch(t *testing.T, ctx context.Context, c interlockv1.PolicyServiceClient, have uint64) <-chan *interlockv1.PolicyBundle {
	t.Helper()
	s, err := c.Watch(ctx, &interlockv1.WatchPolicyRequest{HaveVersion: have})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *interlockv1.PolicyBundle, 16)
	go func() {
		defer close(ch)
		for {
			b, err := s.Recv()
			if err != nil {
				return
			}
			ch <- b
		}
	}()
	return ch
}

func wantVersion(t *testing.T, ch <-chan *interlockv1.PolicyBundle, v uint64, within time.Duration) {
	t.Helper()
	select {
	case b, ok := <-ch:
		if !ok || b.GetVersion() != v {
			t.Fatalf("got bundle %d (open %v), want %d", b.GetVersion(), ok, v)
		}
	case <-time.After(within):
		t.Fatalf("no bundle %d within %v", v, within)
	}
}

func TestPolicyWatchAndRestart(t *testing.T) {
	ts := startServer(t, t.TempDir(), newIssuer(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	vm1, vm2 := ts.enroll("vm1"), ts.enroll("vm2")
	push := func(y string) {
		t.Helper()
		if _, err := interlockv1.NewPolicyServiceClient(ts.person(ts.admin)).Push(ctx, &interlockv1.PushPolicyRequest{Documents: docs(y)}); err != nil {
			t.Fatal(err)
		}
	}
	push("one")
	w1 := policyWatch(t, ctx, interlockv1.NewPolicyServiceClient(ts.node(vm1)), 0)
	w2 := policyWatch(t, ctx, interlockv1.NewPolicyServiceClient(ts.node(vm2)), 1)
	wantVersion(t, w1, 1, time.Second) // the current bundle at once
	start := time.Now()
	push("two")
	wantVersion(t, w1, 2, time.Second)
	wantVersion(t, w2, 2, time.Second) // vm2 had 1: it gets only 2
	t.Logf("push reached both nodes in %v", time.Since(start))

	// Approvals and sessions written before the restart are there after it.
	a, err := interlockv1.NewApprovalServiceClient(ts.node(vm1)).Request(ctx, approvalReq("agent", "fp", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	evs := sessionSpec{id: "s1", workload: "w", subject: "a", target: "arm", op: "op", opened: time.Now(), exchanges: 2, outcome: interlockv1.Action_ACTION_ALLOW}.events()
	if _, err := upload(ctx, ts.node(vm1), mkChunk(1, evs)); err != nil {
		t.Fatal(err)
	}

	ts.restart()
	// Watches of the old server ended; nodes reconnect (new address) and
	// resync from the version they have.
	for range w1 {
	}
	w1 = policyWatch(t, ctx, interlockv1.NewPolicyServiceClient(ts.node(vm1)), 2)
	push("three")
	wantVersion(t, w1, 3, time.Second)
	got, err := interlockv1.NewApprovalServiceClient(ts.node(vm1)).Get(ctx, &interlockv1.GetApprovalRequest{Id: a.GetId()})
	if err != nil || got.GetState() != pending {
		t.Errorf("approval after restart = %v, %v", got, err)
	}
	if r, err := interlockv1.NewSessionServiceClient(ts.node(vm1)).Resume(ctx, &interlockv1.ResumeRequest{}); err != nil || r.GetSeq() != 1 {
		t.Errorf("Resume after restart = %v, %v", r, err)
	}
	if n := len(readSession(t, ts.person(ts.admin), "s1", 0)); n != len(evs) {
		t.Errorf("read %d events after restart, want %d", n, len(evs))
	}
	nodes, err := interlockv1.NewNodeServiceClient(ts.person(ts.admin)).List(ctx, &interlockv1.ListNodesRequest{})
	if err != nil || len(nodes.GetNodes()) != 2 {
		t.Errorf("nodes after restart = %v, %v", nodes, err)
	}
}
