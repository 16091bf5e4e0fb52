// SPDX-License-Identifier: Apache-2.0

// Checkpoints of the audit log: the latest, signed when the log has grown.

package control

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// checkpoint returns the latest checkpoint signed with the log key,
// signing and keeping a new one first when the log has grown since.
func (s *Server) checkpoint(ctx context.Context) (store.Checkpoint, error) {
	s.cpMu.Lock()
	defer s.cpMu.Unlock()
	size, err := s.cfg.Store.LogSize(ctx)
	if err != nil {
		return store.Checkpoint{}, err
	}
	latest, err := s.cfg.Store.LatestCheckpoint(ctx, s.signer.KeyID())
	switch {
	case err == nil && latest.Size == size && latest.Origin == s.signer.Origin():
		return latest, nil
	case err == nil && latest.Size > size:
		// The log lost leaves that a checkpoint vouched for.
		s.log.Error("audit log is smaller than its last checkpoint", "size", size, "checkpoint", latest.Size)
		return store.Checkpoint{}, status.Errorf(codes.DataLoss, "the audit log has %d leaves, fewer than the %d its last checkpoint signed", size, latest.Size)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return store.Checkpoint{}, err
	}
	root, err := s.cfg.Store.LogRoot(ctx, size)
	if err != nil {
		return store.Checkpoint{}, err
	}
	signed, err := s.signer.SignCheckpoint(auditlog.Checkpoint{Origin: s.signer.Origin(), Size: size, Root: root, Time: time.Now()})
	if err != nil {
		return store.Checkpoint{}, fmt.Errorf("checkpoint: %w", err)
	}
	c := store.Checkpoint{
		Size: size, Time: signed.Time, Origin: signed.Origin, Root: root[:], KeyID: signed.KeyID,
		Signature: signed.Signature, Body: signed.Body, Note: signed.Note,
	}
	if err := s.cfg.Store.PutCheckpoint(ctx, c); err != nil {
		return store.Checkpoint{}, err
	}
	return c, nil
}

// checkpointProto fills the Checkpoint message.
func (s *Server) checkpointProto(c store.Checkpoint) *interlockv1.Checkpoint {
	return &interlockv1.Checkpoint{
		Origin: c.Origin, Size: c.Size, RootHash: c.Root, Time: timestamppb.New(c.Time),
		Note: string(c.Body), Signature: c.Signature, KeyId: c.KeyID, VerifierKey: s.signer.VerifierKey(),
	}
}
