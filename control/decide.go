// SPDX-License-Identifier: Apache-2.0

// ApprovalService.Decide: separation of duties, distinct approvers, grants.

package control

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/auth"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func (a *approvalService) Decide(ctx context.Context, req *interlockv1.DecideRequest) (*interlockv1.Approval, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	ap, err := a.s.cfg.Store.UpdateApproval(ctx, req.GetId(), func(ap *interlockv1.Approval) ([]store.AuditRecord, error) {
		return decide(c, ap, req, now)
	})
	if err != nil {
		if st, ok := status.FromError(err); ok && st.Code() == codes.PermissionDenied {
			a.s.audit(ctx, store.AuditRecord{Time: now, Actor: c.Name, Action: "approval.decide-refused", Object: req.GetId(), Detail: st.Message()})
		}
		return nil, a.s.statusOf("approval", err)
	}
	a.s.approvals.publish(ap)
	return ap, nil
}

// decide applies one approver's answer to a pending approval.
func decide(c *auth.Caller, ap *interlockv1.Approval, req *interlockv1.DecideRequest, now time.Time) ([]store.AuditRecord, error) {
	if ap.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING {
		return nil, status.Errorf(codes.FailedPrecondition, "approval is %s, not pending", stateName(ap.GetState()))
	}
	if !now.Before(ap.GetExpires().AsTime()) {
		return nil, status.Errorf(codes.FailedPrecondition, "approval expired at %s", ap.GetExpires().AsTime().UTC().Format(time.RFC3339))
	}
	if isRequester(c, ap.GetRequester()) {
		return nil, status.Error(codes.PermissionDenied, "you cannot decide your own request (separation of duties)")
	}
	if !mayApprove(c, ap.GetApprovers()) {
		return nil, status.Errorf(codes.PermissionDenied, "this approval needs one of %s", strings.Join(ap.GetApprovers(), ", "))
	}
	for _, d := range ap.GetDecisions() {
		if d.GetApprover() == c.Subject {
			return nil, status.Error(codes.FailedPrecondition, "you already decided this approval")
		}
	}
	ap.Decisions = append(ap.Decisions, &interlockv1.ApprovalDecision{
		Approver: c.Subject,
		Approve:  req.GetApprove(),
		Comment:  req.GetComment(),
		Time:     timestamppb.New(now),
	})
	verb := "deny"
	if req.GetApprove() {
		verb = "approve"
	}
	recs := []store.AuditRecord{{Time: now, Actor: c.Name, Action: "approval." + verb, Object: ap.GetId(), Detail: req.GetComment()}}
	switch {
	case !req.GetApprove():
		ap.State = interlockv1.ApprovalState_APPROVAL_STATE_DENIED
	case approvals(ap) >= int(max(ap.GetMinApprovals(), 1)):
		ap.State = interlockv1.ApprovalState_APPROVAL_STATE_APPROVED
		ap.GrantUntil = timestamppb.New(now.Add(ap.GetGrantFor().AsDuration()))
	}
	if ap.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_PENDING {
		recs = append(recs, store.AuditRecord{Time: now, Actor: c.Name, Action: "approval." + stateName(ap.GetState()), Object: ap.GetId(),
			Detail: fmt.Sprintf("%d of %d approvals", approvals(ap), max(ap.GetMinApprovals(), 1))})
	}
	return recs, nil
}

// approvals counts the distinct approvers who approved.
func approvals(ap *interlockv1.Approval) int {
	var who []string
	for _, d := range ap.GetDecisions() {
		if d.GetApprove() && !slices.Contains(who, d.GetApprover()) {
			who = append(who, d.GetApprover())
		}
	}
	return len(who)
}

// isRequester compares every id the approver has with every id of the
// requester's identity.
func isRequester(c *auth.Caller, req *interlockv1.Identity) bool {
	for _, mine := range c.IDs() {
		for _, theirs := range []string{req.GetSubject(), req.GetObjectId(), req.GetAppId()} {
			if theirs != "" && strings.EqualFold(mine, theirs) {
				return true
			}
		}
	}
	return false
}

// mayApprove matches the caller against an approval's approvers:
// "group:NAME" (token groups), "user:NAME" (subject, object id or name);
// no approvers means any approver.
func mayApprove(c *auth.Caller, approvers []string) bool {
	if len(approvers) == 0 {
		return true
	}
	for _, a := range approvers {
		kind, name, ok := strings.Cut(a, ":")
		if !ok {
			kind, name = "user", a
		}
		switch kind {
		case "group":
			if slices.Contains(c.Groups, name) {
				return true
			}
		case "user":
			if name == c.Subject || name == c.ObjectID || strings.EqualFold(name, c.Name) {
				return true
			}
		}
	}
	return false
}

func stateName(s interlockv1.ApprovalState) string {
	return strings.ToLower(strings.TrimPrefix(s.String(), "APPROVAL_STATE_"))
}
