// SPDX-License-Identifier: Apache-2.0

// AuditService: search sessions, read recordings, checkpoints and
// consistency proofs of the audit log (evidence export is in export.go).

package control

import (
	"context"
	"slices"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

type auditService struct {
	interlockv1.UnimplementedAuditServiceServer
	s *Server
}

func (a *auditService) ListSessions(ctx context.Context, req *interlockv1.ListSessionsRequest) (*interlockv1.ListSessionsResponse, error) {
	size := int(req.GetPageSize())
	if size == 0 {
		size = 50
	}
	sessions, next, err := a.s.cfg.Store.Sessions(ctx, req.GetFilter(), size, req.GetPageToken())
	if err != nil {
		return nil, a.s.statusOf("sessions", err)
	}
	return &interlockv1.ListSessionsResponse{Sessions: sessions, NextPageToken: next}, nil
}

func (a *auditService) GetSession(ctx context.Context, req *interlockv1.GetSessionRequest) (*interlockv1.SessionSummary, error) {
	s, err := a.s.cfg.Store.Session(ctx, req.GetSessionId())
	if err != nil {
		return nil, a.s.statusOf("session", err)
	}
	return s, nil
}

func (a *auditService) ReadSession(req *interlockv1.ReadSessionRequest, stream grpc.ServerStreamingServer[interlockv1.SessionEvent]) error {
	ctx := stream.Context()
	if _, err := a.s.cfg.Store.Session(ctx, req.GetSessionId()); err != nil {
		return a.s.statusOf("session", err)
	}
	refs, err := a.s.cfg.Store.SessionChunks(ctx, req.GetSessionId())
	if err != nil {
		return a.s.statusOf("session chunks", err)
	}
	for _, ref := range refs {
		data, err := a.s.cfg.Store.ChunkData(ctx, ref.Node, ref.Seq)
		if err != nil {
			return a.s.statusOf("chunk", err)
		}
		raw, err := a.s.dec.DecodeAll(data, nil)
		if err != nil {
			return a.s.statusOf("chunk", err)
		}
		batch := &interlockv1.EventBatch{}
		if err := proto.Unmarshal(raw, batch); err != nil {
			return a.s.statusOf("chunk", err)
		}
		var evs []*interlockv1.SessionEvent
		for _, e := range batch.GetEvents() {
			if e.GetSessionId() == req.GetSessionId() && e.GetSeq() >= req.GetFromSeq() {
				evs = append(evs, e)
			}
		}
		slices.SortStableFunc(evs, func(x, y *interlockv1.SessionEvent) int {
			switch {
			case x.GetSeq() < y.GetSeq():
				return -1
			case x.GetSeq() > y.GetSeq():
				return 1
			}
			return 0
		})
		for _, e := range evs {
			if err := stream.Send(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *auditService) GetCheckpoint(ctx context.Context, _ *interlockv1.GetCheckpointRequest) (*interlockv1.Checkpoint, error) {
	c, err := a.s.checkpoint(ctx)
	if err != nil {
		return nil, a.s.statusOf("checkpoint", err)
	}
	return a.s.checkpointProto(c), nil
}

func (a *auditService) GetConsistencyProof(ctx context.Context, req *interlockv1.GetConsistencyProofRequest) (*interlockv1.ConsistencyProof, error) {
	second := req.GetSecondSize()
	if second == 0 {
		size, err := a.s.cfg.Store.LogSize(ctx)
		if err != nil {
			return nil, a.s.statusOf("log", err)
		}
		second = size
	}
	if req.GetFirstSize() > second {
		return nil, status.Errorf(codes.OutOfRange, "first_size %d is after the log's size %d", req.GetFirstSize(), second)
	}
	proof, err := a.s.cfg.Store.LogConsistency(ctx, req.GetFirstSize(), second)
	if err != nil {
		return nil, a.s.statusOf("consistency proof", err)
	}
	out := &interlockv1.ConsistencyProof{FirstSize: req.GetFirstSize(), SecondSize: second}
	for _, h := range proof {
		out.Hashes = append(out.Hashes, h[:])
	}
	return out, nil
}
