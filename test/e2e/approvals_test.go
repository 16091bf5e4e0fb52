// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/interlockhq/interlock/nodeagent/controlclient"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// approvalRequest is what a proxy files for requester's regenerateKey call.
func approvalRequest(requester, what string, minApprovals uint32, timeout, grantFor time.Duration) *interlockv1.ApprovalRequestRequest {
	fp := sha256.Sum256([]byte("POST management.azure.com /subscriptions/s/.../" + what + "/regenerateKey"))
	return &interlockv1.ApprovalRequestRequest{
		Requester:    &interlockv1.Identity{Issuer: plane.Issuer, Subject: requester},
		Workload:     &interlockv1.Workload{Name: "agent"},
		Target:       "arm",
		Operation:    "Microsoft.Storage/storageAccounts/regenerateKey/action",
		Summary:      "POST /subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/" + what + "/regenerateKey",
		Rule:         "key-rotation-needs-approval",
		Fingerprint:  fp[:],
		MinApprovals: minApprovals,
		Approvers:    []string{"group:" + plane.GroupApprovers},
		Timeout:      durationpb.New(timeout),
		GrantFor:     durationpb.New(grantFor),
	}
}

// waitAsync runs Wait in the background, as a held request does.
func waitAsync(n *testNode, id string, within time.Duration) <-chan *interlockv1.Approval {
	out := make(chan *interlockv1.Approval, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), within)
		defer cancel()
		ap, err := n.approvals.Wait(ctx, id)
		if err != nil {
			n.t.Errorf("wait %s: %v", id, err)
		}
		out <- ap
	}()
	return out
}

func TestApprovalsThroughTheNodeClient(t *testing.T) {
	p := plane.Start(t, nil)
	n := startNode(t, p, t.TempDir(), "node-a")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	approvers := interlockv1.NewApprovalServiceClient
	alice := approvers(p.Person(p.Token("alice", plane.GroupApprovers)))
	bob := approvers(p.Person(p.Token("bob", plane.GroupApprovers)))
	carol := approvers(p.Person(p.Token("carol", plane.GroupApprovers)))

	t.Run("requester cannot approve; two approvers needed", func(t *testing.T) {
		// alice's agent identity asks; alice is also an approver.
		ap, err := n.approvals.Request(ctx, approvalRequest("alice", "st1", 2, time.Minute, 0))
		if err != nil {
			t.Fatal(err)
		}
		done := waitAsync(n, ap.GetId(), 30*time.Second)
		_, err = alice.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true})
		if status.Code(err) != codes.PermissionDenied {
			t.Fatalf("requester approving her own request: %v, want PermissionDenied", err)
		}
		if _, err := bob.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true, Comment: "ok"}); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-done:
			t.Fatalf("approved by one of two approvers: wait returned %v", got.GetState())
		case <-time.After(300 * time.Millisecond):
		}
		start := time.Now()
		if _, err := carol.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true}); err != nil {
			t.Fatal(err)
		}
		got := <-done
		if got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_APPROVED || !controlclient.Granted(got, time.Now(), true) {
			t.Fatalf("after two approvals: %v", got)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("the node heard the decision after %v, want at once", d)
		}
		t.Logf("second approval → node's Wait returned in %v", time.Since(start).Round(time.Microsecond))
	})

	t.Run("deny", func(t *testing.T) {
		ap, err := n.approvals.Request(ctx, approvalRequest("agent-1", "st2", 1, time.Minute, 0))
		if err != nil {
			t.Fatal(err)
		}
		done := waitAsync(n, ap.GetId(), 30*time.Second)
		if _, err := bob.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: false, Comment: "no"}); err != nil {
			t.Fatal(err)
		}
		if got := <-done; got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_DENIED || controlclient.Granted(got, time.Now(), true) {
			t.Fatalf("denied: %v", got)
		}
	})

	t.Run("grant expires", func(t *testing.T) {
		const grantFor = 1500 * time.Millisecond
		req := approvalRequest("agent-2", "st3", 1, time.Minute, grantFor)
		ap, err := n.approvals.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := bob.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true}); err != nil {
			t.Fatal(err)
		}
		wctx, wcancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := n.approvals.Wait(wctx, ap.GetId())
		wcancel()
		if err != nil || got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_APPROVED {
			t.Fatalf("wait = %v, %v", got, err)
		}
		// The same identity repeats the same request within grantFor: the
		// grant answers, no new request.
		again, err := n.approvals.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if again.GetId() != ap.GetId() || !controlclient.Decided(again) || !controlclient.Granted(again, time.Now(), false) {
			t.Fatalf("repeat within the grant: %v", again)
		}
		// Another identity gets no grant.
		other, err := n.approvals.Request(ctx, approvalRequest("agent-3", "st3", 1, time.Minute, grantFor))
		if err != nil || other.GetId() == ap.GetId() || controlclient.Decided(other) {
			t.Fatalf("another identity's request: %v, %v", other, err)
		}
		time.Sleep(time.Until(got.GetGrantUntil().AsTime()) + 100*time.Millisecond)
		if controlclient.Granted(got, time.Now(), false) {
			t.Fatal("Granted after grant_until")
		}
		after, err := n.approvals.Request(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if after.GetId() == ap.GetId() || after.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING {
			t.Fatalf("repeat after the grant expired: %v, want a new pending request", after)
		}
	})

	t.Run("pending request expires", func(t *testing.T) {
		ap, err := n.approvals.Request(ctx, approvalRequest("agent-4", "st4", 1, 500*time.Millisecond, 0))
		if err != nil {
			t.Fatal(err)
		}
		got := <-waitAsync(n, ap.GetId(), 10*time.Second)
		if got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED {
			t.Fatalf("after its timeout: %v", got.GetState())
		}
		if _, err := bob.Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true}); status.Code(err) != codes.FailedPrecondition {
			t.Fatalf("approving an expired request: %v, want FailedPrecondition", err)
		}
	})
}
