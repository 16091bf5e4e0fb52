// SPDX-License-Identifier: Apache-2.0

// Store: what the control plane needs from its storage.

package control

import (
	"context"
	"time"

	"github.com/interlockhq/interlock/control/merkle"
	"github.com/interlockhq/interlock/control/store"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Store is the control plane's storage. *store.DB (SQLite plus chunk
// files) is the embedded implementation; a PostgreSQL + Azure Blob one
// must return the same sentinel errors of package store, and append a
// chunk's or audit record's log leaf in the transaction that stores it.
type Store interface {
	AddToken(ctx context.Context, t store.Token) error
	Enroll(ctx context.Context, tokenHash []byte, now time.Time, n store.Node) error
	Nodes(ctx context.Context) ([]store.Node, error)
	Node(ctx context.Context, id string) (store.Node, error)
	TouchNode(ctx context.Context, id string, t time.Time, policyVersion uint64) error

	PutBundle(ctx context.Context, b *interlockv1.PolicyBundle, expected uint64) (*interlockv1.PolicyBundle, error)
	Bundle(ctx context.Context, version uint64) (*interlockv1.PolicyBundle, error)

	FileApproval(ctx context.Context, identityKey string, a *interlockv1.Approval, now time.Time, rec store.AuditRecord) (*interlockv1.Approval, bool, error)
	UpdateApproval(ctx context.Context, id string, fn func(a *interlockv1.Approval) ([]store.AuditRecord, error)) (*interlockv1.Approval, error)
	ExpireApprovals(ctx context.Context, now time.Time, actor string) ([]*interlockv1.Approval, error)
	Approval(ctx context.Context, id string) (*interlockv1.Approval, error)
	Approvals(ctx context.Context, q store.ApprovalQuery) ([]*interlockv1.Approval, string, error)
	AppendAudit(ctx context.Context, r store.AuditRecord) error

	PutChunk(ctx context.Context, c store.Chunk, updates []store.SessionUpdate) (bool, error)
	LastChunk(ctx context.Context, node string) (uint64, error)
	ChunkData(ctx context.Context, node string, seq uint64) ([]byte, error)
	SessionChunks(ctx context.Context, sessionID string) ([]store.ChunkRef, error)
	Sessions(ctx context.Context, f *interlockv1.SessionFilter, limit int, cursor string) ([]*interlockv1.SessionSummary, string, error)
	Session(ctx context.Context, id string) (*interlockv1.SessionSummary, error)

	LogSize(ctx context.Context) (uint64, error)
	LogLeaf(ctx context.Context, index uint64) ([]byte, error)
	LogRoot(ctx context.Context, size uint64) (merkle.Hash, error)
	LogInclusion(ctx context.Context, index, size uint64) ([]merkle.Hash, error)
	LogConsistency(ctx context.Context, first, second uint64) ([]merkle.Hash, error)
	LatestCheckpoint(ctx context.Context, keyID string) (store.Checkpoint, error)
	PutCheckpoint(ctx context.Context, c store.Checkpoint) error
	AuditLog(ctx context.Context, q store.AuditQuery) ([]store.AuditRecord, error)
}

var _ Store = (*store.DB)(nil)
