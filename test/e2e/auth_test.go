// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/interlockhq/interlock/internal/cli"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/e2e/plane"
)

// A node certificate cannot call approver or admin methods; an auditor
// cannot push policy, through the CLI.
func TestRoles(t *testing.T) {
	p := plane.Start(t, nil)
	n := startNode(t, p, t.TempDir(), "node-a")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cc := n.client.Conn()
	ap, err := n.approvals.Request(ctx, approvalRequest("agent", "st9", 1, time.Minute, 0))
	if err != nil {
		t.Fatal(err)
	}
	calls := []struct {
		name string
		call func() error
	}{
		{"ApprovalService.Decide (approver)", func() error {
			_, err := interlockv1.NewApprovalServiceClient(cc).Decide(ctx, &interlockv1.DecideRequest{Id: ap.GetId(), Approve: true})
			return err
		}},
		{"ApprovalService.List (approver, auditor)", func() error {
			_, err := interlockv1.NewApprovalServiceClient(cc).List(ctx, &interlockv1.ListApprovalsRequest{})
			return err
		}},
		{"PolicyService.Push (admin)", func() error {
			_, err := interlockv1.NewPolicyServiceClient(cc).Push(ctx, &interlockv1.PushPolicyRequest{Documents: []*interlockv1.PolicyDocument{{Name: "p.yaml", Yaml: policyDoc(1)}}})
			return err
		}},
		{"PolicyService.Get (admin, auditor)", func() error {
			_, err := interlockv1.NewPolicyServiceClient(cc).Get(ctx, &interlockv1.GetPolicyRequest{})
			return err
		}},
		{"NodeService.List (admin)", func() error {
			_, err := interlockv1.NewNodeServiceClient(cc).List(ctx, &interlockv1.ListNodesRequest{})
			return err
		}},
		{"AuditService.ListSessions (auditor, admin)", func() error {
			_, err := interlockv1.NewAuditServiceClient(cc).ListSessions(ctx, &interlockv1.ListSessionsRequest{})
			return err
		}},
	}
	for _, c := range calls {
		t.Run("node calls "+c.name, func(t *testing.T) {
			if err := c.call(); status.Code(err) != codes.PermissionDenied {
				t.Fatalf("err = %v, want PermissionDenied", err)
			}
		})
	}
	approver := interlockv1.NewApprovalServiceClient(p.Person(p.Token("eve", plane.GroupApprovers)))
	if got, err := approver.Get(ctx, &interlockv1.GetApprovalRequest{Id: ap.GetId()}); err != nil || got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING {
		t.Fatalf("after the node's attempt to decide, the approval is %v (%v), want pending", got.GetState(), err)
	}

	// People through the CLI.
	file := filepath.Join(t.TempDir(), "p.yaml")
	if err := os.WriteFile(file, policyDoc(1), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(token string, args ...string) (string, error) {
		var out, errb bytes.Buffer
		args = append(args, "--server", p.Addr, "--ca", p.CAFile, "--token-file", token)
		err := cli.Run(ctx, args, strings.NewReader(""), &out, &errb)
		return out.String(), err
	}
	auditor := p.TokenFile("auditor", p.Token("carol", plane.GroupAuditors))
	admin := p.TokenFile("admin", p.Token("dana", plane.GroupAdmins))
	if _, err := run(auditor, "policy", "push", file); err == nil || !strings.Contains(err.Error(), "permission denied: policy push needs role admin") {
		t.Fatalf("auditor push: %v", err)
	}
	if out, err := run(admin, "policy", "push", file); err != nil || !strings.Contains(out, "pushed version 1") {
		t.Fatalf("admin push: %q, %v", out, err)
	}
	if err := n.waitVersion(1, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if out, err := run(auditor, "policy", "diff", file); err != nil {
		t.Fatalf("auditor diff of the pushed file: %q, %v", out, err)
	}
}
