// SPDX-License-Identifier: Apache-2.0

package control

import (
	"context"
	"fmt"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

const (
	pending  = interlockv1.ApprovalState_APPROVAL_STATE_PENDING
	approved = interlockv1.ApprovalState_APPROVAL_STATE_APPROVED
	denied   = interlockv1.ApprovalState_APPROVAL_STATE_DENIED
	expired  = interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED
)

func TestDecide(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	node := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm1")))
	as := func(sub string, groups ...string) interlockv1.ApprovalServiceClient {
		return interlockv1.NewApprovalServiceClient(ts.person(iss.token(t, sub, groups...)))
	}
	alice, bob, carol := as("alice", "approvers"), as("bob", "approvers"), as("carol", "approvers", "sec-oncall")

	type step struct {
		who     interlockv1.ApprovalServiceClient
		approve bool
		code    codes.Code
		state   interlockv1.ApprovalState
	}
	tests := []struct {
		name      string
		requester string
		min       uint32
		approvers []string
		steps     []step
	}{
		{"requester cannot approve own request", "alice", 1, nil, []step{
			{alice, true, codes.PermissionDenied, pending},
			{bob, true, codes.OK, approved},
		}},
		{"requester matched by object id", "oid-bob", 1, nil, []step{
			{bob, true, codes.PermissionDenied, pending},
		}},
		{"two approvals need two people", "agent-1", 2, nil, []step{
			{alice, true, codes.OK, pending},
			{alice, true, codes.FailedPrecondition, pending},
			{bob, true, codes.OK, approved},
			{carol, true, codes.FailedPrecondition, approved},
		}},
		{"deny decides at once", "agent-2", 2, nil, []step{
			{alice, true, codes.OK, pending},
			{bob, false, codes.OK, denied},
			{carol, true, codes.FailedPrecondition, denied},
		}},
		{"approvers list", "agent-3", 1, []string{"group:sec-oncall"}, []step{
			{alice, true, codes.PermissionDenied, pending},
			{carol, true, codes.OK, approved},
		}},
	}
	ctx := context.Background()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := approvalReq(tt.requester, fmt.Sprint("fp", i), tt.min, time.Minute)
			req.Approvers = tt.approvers
			a, err := node.Request(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if a.GetState() != pending || a.GetNode() == "" {
				t.Fatalf("new approval = %v", a)
			}
			for j, s := range tt.steps {
				_, err := s.who.Decide(ctx, &interlockv1.DecideRequest{Id: a.GetId(), Approve: s.approve, Comment: "ok"})
				if status.Code(err) != s.code {
					t.Fatalf("step %d: Decide = %v, want %v", j, err, s.code)
				}
				got, err := bob.Get(ctx, &interlockv1.GetApprovalRequest{Id: a.GetId()})
				if err != nil {
					t.Fatal(err)
				}
				if got.GetState() != s.state {
					t.Fatalf("step %d: state %v, want %v", j, got.GetState(), s.state)
				}
				if s.state == approved && got.GetGrantUntil() == nil {
					t.Fatalf("approved without grant_until")
				}
			}
			recs, err := ts.db.AuditRecords(ctx, a.GetId())
			if err != nil || len(recs) < 2 || recs[0].Action != "approval.request" {
				t.Errorf("audit records = %+v, %v", recs, err)
			}
		})
	}
}

func TestRequestDedupeGrantAndExpiry(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	ctx := context.Background()
	node := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm1")))
	approver := interlockv1.NewApprovalServiceClient(ts.person(iss.token(t, "alice", "approvers")))

	first, err := node.Request(ctx, approvalReq("agent", "fp", 1, 400*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	again, err := node.Request(ctx, approvalReq("agent", "fp", 1, 400*time.Millisecond))
	if err != nil || again.GetId() != first.GetId() {
		t.Fatalf("second request = %v, %v; want the open one", again.GetId(), err)
	}
	other, err := node.Request(ctx, approvalReq("agent", "other-fp", 1, 0))
	if err != nil || other.GetId() == first.GetId() {
		t.Fatalf("other fingerprint got the same approval: %v", err)
	}
	if _, err := approver.Decide(ctx, &interlockv1.DecideRequest{Id: first.GetId(), Approve: true}); err != nil {
		t.Fatal(err)
	}
	granted, err := node.Request(ctx, approvalReq("agent", "fp", 1, 400*time.Millisecond))
	if err != nil || granted.GetId() != first.GetId() || granted.GetState() != approved {
		t.Fatalf("request within grant = %v (%v), %v; want the approved one", granted.GetId(), granted.GetState(), err)
	}
	other2, err := node.Request(ctx, approvalReq("someone-else", "fp", 1, 0))
	if err != nil || other2.GetId() == first.GetId() {
		t.Fatalf("another identity used the grant: %v", err)
	}
	time.Sleep(time.Until(granted.GetGrantUntil().AsTime()) + 50*time.Millisecond)
	after, err := node.Request(ctx, approvalReq("agent", "fp", 1, 400*time.Millisecond))
	if err != nil || after.GetId() == first.GetId() || after.GetState() != pending {
		t.Fatalf("request after the grant = %v (%v), %v; want a new pending one", after.GetId(), after.GetState(), err)
	}
	recs, _ := ts.db.AuditRecords(ctx, first.GetId())
	var actions []string
	for _, r := range recs {
		actions = append(actions, r.Action)
	}
	if want := "[approval.request approval.repeat approval.approve approval.approved approval.grant-used]"; fmt.Sprint(actions) != want {
		t.Errorf("audit trail %v, want %s", actions, want)
	}

	// Timeout: nobody decides, the request expires.
	req := approvalReq("agent", "slow", 1, 0)
	req.Timeout = durationpb.New(200 * time.Millisecond)
	slow, err := node.Request(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got, err := node.Get(ctx, &interlockv1.GetApprovalRequest{Id: slow.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		if got.GetState() == expired {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("approval still %v after its timeout", got.GetState())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := approver.Decide(ctx, &interlockv1.DecideRequest{Id: slow.GetId(), Approve: true}); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Decide on expired = %v, want FailedPrecondition", err)
	}
}

func TestApprovalVisibility(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	ctx := context.Background()
	n1 := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm1")))
	n2 := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm2")))
	a, err := n1.Request(ctx, approvalReq("agent", "fp", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Get(ctx, &interlockv1.GetApprovalRequest{Id: a.GetId()}); status.Code(err) != codes.NotFound {
		t.Errorf("vm2 reads vm1's approval: %v", err)
	}
	if _, err := n1.Get(ctx, &interlockv1.GetApprovalRequest{Id: a.GetId()}); err != nil {
		t.Errorf("vm1 reads its approval: %v", err)
	}
}

// recvWithin receives one approval from a watch or fails after d.
func recvWithin(t *testing.T, ch <-chan *interlockv1.Approval, d time.Duration) *interlockv1.Approval {
	t.Helper()
	select {
	case a := <-ch:
		return a
	case <-time.After(d):
		t.Fatalf("nothing on the watch within %v", d)
		return nil
	}
}

func watch(t *testing.T, ctx context.Context, c interlockv1.ApprovalServiceClient, pendingOnly bool) <-chan *interlockv1.Approval {
	t.Helper()
	s, err := c.Watch(ctx, &interlockv1.WatchApprovalsRequest{PendingOnly: pendingOnly})
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan *interlockv1.Approval, 16)
	go func() {
		defer close(ch)
		for {
			a, err := s.Recv()
			if err != nil {
				return
			}
			ch <- a
		}
	}()
	return ch
}

func TestWatchDeliversWithinASecond(t *testing.T) {
	iss := newIssuer(t)
	ts := startServer(t, t.TempDir(), iss)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n1 := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm1")))
	n2 := interlockv1.NewApprovalServiceClient(ts.node(ts.enroll("vm2")))
	approver := interlockv1.NewApprovalServiceClient(ts.person(iss.token(t, "alice", "approvers")))

	old, err := n1.Request(ctx, approvalReq("agent", "old", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	aw := watch(t, ctx, approver, true)
	if got := recvWithin(t, aw, time.Second); got.GetId() != old.GetId() {
		t.Fatalf("watch did not start with the pending approval: %v", got)
	}
	w1, w2 := watch(t, ctx, n1, true), watch(t, ctx, n2, true)
	if got := recvWithin(t, w1, time.Second); got.GetId() != old.GetId() {
		t.Fatalf("vm1's watch did not start with its pending approval")
	}
	start := time.Now()
	a, err := n1.Request(ctx, approvalReq("agent", "new", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got := recvWithin(t, aw, time.Second); got.GetId() != a.GetId() || got.GetState() != pending {
		t.Fatalf("approver saw %v", got)
	}
	if got := recvWithin(t, w1, time.Second); got.GetId() != a.GetId() {
		t.Fatalf("vm1 saw %v", got)
	}
	if _, err := approver.Decide(ctx, &interlockv1.DecideRequest{Id: a.GetId(), Approve: true}); err != nil {
		t.Fatal(err)
	}
	if got := recvWithin(t, w1, time.Second); got.GetId() != a.GetId() || got.GetState() != approved {
		t.Fatalf("vm1 saw %v, want its approval approved", got)
	}
	t.Logf("request and decision delivered in %v", time.Since(start))
	select {
	case got := <-w2:
		t.Fatalf("vm2 saw vm1's approval %v", got)
	case <-time.After(100 * time.Millisecond):
	}
}
