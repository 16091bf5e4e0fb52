// SPDX-License-Identifier: Apache-2.0

// SessionService: resumable, idempotent upload of session chunks.

package control

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

type sessionService struct {
	interlockv1.UnimplementedSessionServiceServer
	s *Server
}

func (ss *sessionService) Resume(ctx context.Context, _ *interlockv1.ResumeRequest) (*interlockv1.ResumeResponse, error) {
	c, err := callerOf(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := ss.s.cfg.Store.LastChunk(ctx, c.Node)
	if err != nil {
		return nil, ss.s.statusOf("chunks", err)
	}
	return &interlockv1.ResumeResponse{Seq: seq}, nil
}

func (ss *sessionService) Upload(stream grpc.BidiStreamingServer[interlockv1.UploadChunk, interlockv1.UploadAck]) error {
	ctx := stream.Context()
	c, err := callerOf(ctx)
	if err != nil {
		return err
	}
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		seq, err := ss.s.ingest(ctx, c.Node, chunk)
		if err != nil {
			return err
		}
		if err := stream.Send(&interlockv1.UploadAck{Seq: seq}); err != nil {
			return err
		}
	}
}

// ingest verifies, decodes, indexes and stores one chunk and returns the
// seq to acknowledge.
func (s *Server) ingest(ctx context.Context, node string, c *interlockv1.UploadChunk) (uint64, error) {
	if len(c.GetZstd()) > s.cfg.MaxChunkBytes {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: %d bytes, more than %d", c.GetSeq(), len(c.GetZstd()), s.cfg.MaxChunkBytes)
	}
	sum := sha256.Sum256(c.GetZstd())
	if !bytes.Equal(sum[:], c.GetSha256()) {
		return 0, status.Errorf(codes.DataLoss, "chunk %d: sha256 does not match its data", c.GetSeq())
	}
	if c.GetUncompressedSize() > s.cfg.MaxBatchBytes {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: uncompressed size %d is more than %d", c.GetSeq(), c.GetUncompressedSize(), s.cfg.MaxBatchBytes)
	}
	raw, err := s.dec.DecodeAll(c.GetZstd(), make([]byte, 0, c.GetUncompressedSize()))
	if err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: zstd: %v", c.GetSeq(), err)
	}
	if uint64(len(raw)) != c.GetUncompressedSize() {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: %d bytes uncompressed, chunk says %d", c.GetSeq(), len(raw), c.GetUncompressedSize())
	}
	batch := &interlockv1.EventBatch{}
	if err := proto.Unmarshal(raw, batch); err != nil {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: decode EventBatch: %v", c.GetSeq(), err)
	}
	if len(batch.GetEvents()) != int(c.GetEvents()) {
		return 0, status.Errorf(codes.InvalidArgument, "chunk %d: %d events, chunk says %d", c.GetSeq(), len(batch.GetEvents()), c.GetEvents())
	}
	for i, e := range batch.GetEvents() {
		if e.GetSessionId() == "" || e.GetSeq() == 0 {
			return 0, status.Errorf(codes.InvalidArgument, "chunk %d: event %d has no session id or seq", c.GetSeq(), i)
		}
	}
	dup, err := s.cfg.Store.PutChunk(ctx, store.Chunk{
		Node:             node,
		Seq:              c.GetSeq(),
		SHA256:           c.GetSha256(),
		Data:             c.GetZstd(),
		Events:           c.GetEvents(),
		UncompressedSize: c.GetUncompressedSize(),
	}, sessionUpdates(batch.GetEvents()))
	var gap *store.GapError
	switch {
	case errors.As(err, &gap):
		st := status.New(codes.FailedPrecondition, gap.Error())
		if d, derr := st.WithDetails(&interlockv1.ResumeResponse{Seq: gap.Have}); derr == nil {
			st = d
		}
		return 0, st.Err()
	case errors.Is(err, store.ErrChunkMismatch):
		return 0, status.Errorf(codes.AlreadyExists, "chunk %d is stored with a different sha256", c.GetSeq())
	case errors.Is(err, store.ErrForeignSession):
		return 0, status.Errorf(codes.PermissionDenied, "chunk %d: %v", c.GetSeq(), err)
	case err != nil:
		return 0, s.statusOf("chunk", err)
	}
	if dup {
		last, err := s.cfg.Store.LastChunk(ctx, node)
		if err != nil {
			return 0, s.statusOf("chunks", err)
		}
		return last, nil
	}
	return c.GetSeq(), nil
}
