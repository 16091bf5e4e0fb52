// SPDX-License-Identifier: Apache-2.0

// PolicyService: push (validated, versioned), get, and watch.

package control

import (
	"context"
	"crypto/sha256"
	"errors"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

type policyService struct {
	interlockv1.UnimplementedPolicyServiceServer
	s *Server
}

// BundleDigest is the sha256 of a bundle's documents: for each, in order,
// its name, NUL, its YAML, NUL.
func BundleDigest(docs []*interlockv1.PolicyDocument) []byte {
	h := sha256.New()
	for _, d := range docs {
		h.Write([]byte(d.GetName()))
		h.Write([]byte{0})
		h.Write(d.GetYaml())
		h.Write([]byte{0})
	}
	return h.Sum(nil)
}

func (p *policyService) Push(ctx context.Context, req *interlockv1.PushPolicyRequest) (*interlockv1.PushPolicyResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	if err := p.s.cfg.Validate(req.GetDocuments()); err != nil {
		return nil, invalidPolicy(err)
	}
	b := &interlockv1.PolicyBundle{
		Sha256:    BundleDigest(req.GetDocuments()),
		Documents: req.GetDocuments(),
		Created:   timestamppb.Now(),
		CreatedBy: c.Name,
		Comment:   req.GetComment(),
	}
	if req.GetDryRun() {
		cur, err := p.s.cfg.Store.Bundle(ctx, 0)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, p.s.statusOf("policy", err)
		}
		if req.GetExpectedVersion() != 0 && cur.GetVersion() != req.GetExpectedVersion() {
			return nil, status.Errorf(codes.Aborted, "current version is %d, not %d", cur.GetVersion(), req.GetExpectedVersion())
		}
		b.Version = cur.GetVersion() + 1
		return &interlockv1.PushPolicyResponse{Bundle: b}, nil
	}
	stored, err := p.s.cfg.Store.PutBundle(ctx, b, req.GetExpectedVersion())
	if err != nil {
		return nil, p.s.statusOf("policy", err)
	}
	p.s.policies.notify()
	p.s.audit(ctx, store.AuditRecord{Time: time.Now(), Actor: c.Name, Action: "policy.push", Object: "policy", Detail: req.GetComment()})
	p.s.log.Info("policy pushed", "version", stored.GetVersion(), "by", c.Name)
	return &interlockv1.PushPolicyResponse{Bundle: stored}, nil
}

// invalidPolicy makes INVALID_ARGUMENT with the problems as details.
func invalidPolicy(err error) error {
	var problems []*interlockv1.PolicyProblem
	var pl ProblemLister
	if errors.As(err, &pl) {
		problems = pl.PolicyProblems()
	}
	if len(problems) == 0 {
		problems = []*interlockv1.PolicyProblem{{Message: err.Error()}}
	}
	st := status.New(codes.InvalidArgument, "invalid policy: "+err.Error())
	if withDetails, derr := st.WithDetails(&interlockv1.PolicyProblems{Problems: problems}); derr == nil {
		st = withDetails
	}
	return st.Err()
}

func (p *policyService) Get(ctx context.Context, req *interlockv1.GetPolicyRequest) (*interlockv1.PolicyBundle, error) {
	b, err := p.s.cfg.Store.Bundle(ctx, req.GetVersion())
	if err != nil {
		return nil, p.s.statusOf("policy bundle", err)
	}
	return b, nil
}

func (p *policyService) Watch(req *interlockv1.WatchPolicyRequest, stream grpc.ServerStreamingServer[interlockv1.PolicyBundle]) error {
	ctx := stream.Context()
	c, err := callerOf(ctx)
	if err != nil {
		return err
	}
	sent := req.GetHaveVersion()
	if err := p.s.cfg.Store.TouchNode(ctx, c.Node, time.Now(), sent); err != nil {
		return p.s.statusOf("node", err)
	}
	for {
		changed := p.s.policies.changed()
		b, err := p.s.cfg.Store.Bundle(ctx, 0)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return p.s.statusOf("policy bundle", err)
		case b.GetVersion() > sent:
			if err := stream.Send(b); err != nil {
				return err
			}
			sent = b.GetVersion()
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.s.ctx.Done():
			return status.Error(codes.Unavailable, "control plane shutting down")
		}
	}
}
