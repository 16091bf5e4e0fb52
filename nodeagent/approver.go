// SPDX-License-Identifier: Apache-2.0

// The proxies' approver: files approval requests with the control plane
// and holds the request while people decide, at most the rule's hold.

package nodeagent

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/interlockhq/interlock/l7proxy/https"
	"github.com/interlockhq/interlock/nodeagent/controlclient"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// defaultHold is how long a request is held when its rule names no hold.
const defaultHold = 30 * time.Second

// approver implements https.Approver with the control plane.
type approver struct {
	node string
	a    *controlclient.Approvals
}

func (p *approver) Approve(ctx context.Context, req https.ApprovalRequest) (https.ApprovalResult, error) {
	id := req.Identity
	ar := &interlockv1.ApprovalRequestRequest{
		Requester: &interlockv1.Identity{
			Issuer: id.Issuer, Subject: id.Subject, AppId: id.AppID, ObjectId: id.ObjectID, TenantId: id.Tenant,
			Groups: id.Groups, Roles: id.Roles,
		},
		Workload: &interlockv1.Workload{
			Name: req.Workload.Name, Namespace: req.Workload.Namespace, ServiceAccount: req.Workload.ServiceAccount,
			PodUid: req.Workload.PodUID, Unit: req.Workload.Unit, CgroupPath: req.Workload.CgroupPath, Node: p.node,
		},
		Target: req.Target, Operation: req.Operation, Summary: req.Summary, Rule: req.Rule,
		Fingerprint: req.Fingerprint, Reason: req.Reason, SessionId: req.SessionID, ExchangeId: req.ExchangeID,
	}
	hold := defaultHold
	if a := req.Approval; a != nil {
		ar.Approvers = a.Approvers
		ar.MinApprovals = uint32(a.MinApprovals)
		ar.Timeout = durationpb.New(a.Timeout)
		ar.GrantFor = durationpb.New(a.GrantFor)
		if a.Hold > 0 {
			hold = a.Hold
		}
	}
	ap, err := p.a.Request(ctx, ar)
	if err != nil {
		return https.ApprovalResult{}, err
	}
	grantUsed := controlclient.Granted(ap, time.Now(), false)
	if !grantUsed && !controlclient.Decided(ap) {
		wctx, cancel := context.WithTimeout(ctx, hold)
		decided, err := p.a.Wait(wctx, ap.GetId())
		cancel()
		switch {
		case err == nil:
			ap = decided
		case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
			// Still pending when the hold ended: the workload is told so
			// and may retry once it is approved.
		default:
			return https.ApprovalResult{ID: ap.GetId(), State: ap.GetState()}, err
		}
	}
	res := https.ApprovalResult{ID: ap.GetId(), State: ap.GetState(), GrantUsed: grantUsed}
	for _, d := range ap.GetDecisions() {
		res.Approvers = append(res.Approvers, d.GetApprover())
		if d.GetComment() != "" {
			res.Comment = d.GetComment()
		}
	}
	return res, nil
}
