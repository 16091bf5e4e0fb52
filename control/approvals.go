// SPDX-License-Identifier: Apache-2.0

// ApprovalService: request, get, list and watch.

package control

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

type approvalService struct {
	interlockv1.UnimplementedApprovalServiceServer
	s *Server
}

// identityKey names who asked, for deduplication and grants: the same
// issuer and the same subject, object id and app id.
func identityKey(id *interlockv1.Identity) string {
	return strings.Join([]string{id.GetIssuer(), id.GetSubject(), id.GetObjectId(), id.GetAppId()}, "\x00")
}

func (a *approvalService) Request(ctx context.Context, req *interlockv1.ApprovalRequestRequest) (*interlockv1.Approval, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, a.s.statusOf("approval id", err)
	}
	now := time.Now()
	timeout := req.GetTimeout().AsDuration()
	if timeout <= 0 {
		timeout = a.s.cfg.DefaultApprovalTimeout
	}
	timeout = min(timeout, a.s.cfg.MaxApprovalTimeout)
	ap := &interlockv1.Approval{
		Id:           id.String(),
		State:        interlockv1.ApprovalState_APPROVAL_STATE_PENDING,
		Requester:    req.GetRequester(),
		Workload:     req.GetWorkload(),
		Node:         c.Node,
		Target:       req.GetTarget(),
		Operation:    req.GetOperation(),
		Summary:      req.GetSummary(),
		Rule:         req.GetRule(),
		Fingerprint:  req.GetFingerprint(),
		Reason:       req.GetReason(),
		Approvers:    req.GetApprovers(),
		MinApprovals: max(req.GetMinApprovals(), 1),
		Created:      timestamppb.New(now),
		Expires:      timestamppb.New(now.Add(timeout)),
		GrantFor:     durationpb.New(req.GetGrantFor().AsDuration()),
	}
	rec := store.AuditRecord{Time: now, Actor: c.Name, Action: "approval.request", Object: ap.GetId(),
		Detail: fmt.Sprintf("%s %s by %s (rule %s, session %s exchange %d)", req.GetTarget(), req.GetOperation(),
			requesterName(req.GetRequester()), req.GetRule(), req.GetSessionId(), req.GetExchangeId())}
	got, created, err := a.s.cfg.Store.FileApproval(ctx, identityKey(req.GetRequester()), ap, now, rec)
	if err != nil {
		return nil, a.s.statusOf("approval", err)
	}
	if created {
		a.s.approvals.publish(got)
		return got, nil
	}
	action := "approval.repeat"
	if got.GetState() == interlockv1.ApprovalState_APPROVAL_STATE_APPROVED {
		action = "approval.grant-used"
	}
	a.s.audit(ctx, store.AuditRecord{Time: now, Actor: c.Name, Action: action, Object: got.GetId(),
		Detail: fmt.Sprintf("session %s exchange %d", req.GetSessionId(), req.GetExchangeId())})
	return got, nil
}

func requesterName(id *interlockv1.Identity) string {
	for _, s := range []string{id.GetSubject(), id.GetObjectId(), id.GetAppId()} {
		if s != "" {
			return s
		}
	}
	return "?"
}

func (a *approvalService) Get(ctx context.Context, req *interlockv1.GetApprovalRequest) (*interlockv1.Approval, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	ap, err := a.s.cfg.Store.Approval(ctx, req.GetId())
	if err != nil {
		return nil, a.s.statusOf("approval", err)
	}
	if !mayRead(c, ap) {
		return nil, status.Error(codes.NotFound, "approval not found")
	}
	return ap, nil
}

// mayRead: approvers and auditors read every approval, a node only its own.
func mayRead(c *auth.Caller, ap *interlockv1.Approval) bool {
	return c.Has(auth.RoleApprover) || c.Has(auth.RoleAuditor) || (c.Has(auth.RoleNode) && ap.GetNode() == c.Node)
}

func (a *approvalService) List(ctx context.Context, req *interlockv1.ListApprovalsRequest) (*interlockv1.ListApprovalsResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	aps, next, err := a.s.cfg.Store.Approvals(ctx, store.ApprovalQuery{State: req.GetState(), Limit: size, Cursor: req.GetPageToken()})
	if err != nil {
		return nil, a.s.statusOf("approvals", err)
	}
	return &interlockv1.ListApprovalsResponse{Approvals: aps, NextPageToken: next}, nil
}

// watchSnapshot is how many existing approvals a watch starts with.
const watchSnapshot = 1000

func (a *approvalService) Watch(req *interlockv1.WatchApprovalsRequest, stream grpc.ServerStreamingServer[interlockv1.Approval]) error {
	ctx := stream.Context()
	c, err := callerOf(ctx)
	if err != nil {
		return err
	}
	node := ""
	if !c.Has(auth.RoleApprover) {
		node = c.Node
	}
	// Subscribe before reading the snapshot, so nothing falls between.
	sub := a.s.approvals.subscribe(node)
	defer a.s.approvals.unsubscribe(sub)
	q := store.ApprovalQuery{Node: node, Limit: watchSnapshot}
	if req.GetPendingOnly() {
		q.State = interlockv1.ApprovalState_APPROVAL_STATE_PENDING
	}
	snap, _, err := a.s.cfg.Store.Approvals(ctx, q)
	if err != nil {
		return a.s.statusOf("approvals", err)
	}
	slices.Reverse(snap) // oldest first, like the changes that follow
	for _, ap := range snap {
		if err := stream.Send(ap); err != nil {
			return err
		}
	}
	for {
		select {
		case ap := <-sub.ch:
			if err := stream.Send(ap); err != nil {
				return err
			}
		case <-sub.lagged:
			return status.Error(codes.Unavailable, "approval watch fell behind; watch again")
		case <-ctx.Done():
			return ctx.Err()
		case <-a.s.ctx.Done():
			return status.Error(codes.Unavailable, "control plane shutting down")
		}
	}
}
