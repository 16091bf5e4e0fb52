// SPDX-License-Identifier: Apache-2.0

// The audit log's Merkle tree: leaves appended inside the transactions
// that store what they describe, perfect-subtree nodes kept beside them,
// and roots and proofs read from those nodes.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/interlockhq/interlock/control/merkle"
)

// querier is what reads need: a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// logSize is the number of leaves in the log.
func logSize(ctx context.Context, q querier) (uint64, error) {
	var n uint64
	if err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX(idx) + 1, 0) FROM log_leaves").Scan(&n); err != nil {
		return 0, fmt.Errorf("store: log size: %w", err)
	}
	return n, nil
}

// nodes reads the stored perfect-subtree hashes through q.
func nodes(ctx context.Context, q querier) merkle.NodeFunc {
	return func(level uint8, index uint64) (merkle.Hash, error) {
		var b []byte
		err := q.QueryRowContext(ctx, "SELECT hash FROM log_nodes WHERE level = ? AND idx = ?", level, index).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			return merkle.Hash{}, fmt.Errorf("store: log node %d/%d missing", level, index)
		}
		if err != nil {
			return merkle.Hash{}, fmt.Errorf("store: log node: %w", err)
		}
		if len(b) != merkle.HashSize {
			return merkle.Hash{}, fmt.Errorf("store: log node %d/%d is %d bytes", level, index, len(b))
		}
		return merkle.Hash(b), nil
	}
}

// appendLeaf appends a leaf at index (which must be the log's size) and
// the tree nodes it completes.
func appendLeaf(ctx context.Context, tx *sql.Tx, index uint64, data []byte) error {
	if _, err := tx.ExecContext(ctx, "INSERT INTO log_leaves (idx, data) VALUES (?, ?)", index, data); err != nil {
		return fmt.Errorf("store: append log leaf: %w", err)
	}
	added, err := merkle.Appended(index, merkle.LeafHash(data), nodes(ctx, tx))
	if err != nil {
		return err
	}
	for _, n := range added {
		if _, err := tx.ExecContext(ctx, "INSERT INTO log_nodes (level, idx, hash) VALUES (?, ?, ?)", n.Level, n.Index, n.Hash[:]); err != nil {
			return fmt.Errorf("store: append log node: %w", err)
		}
	}
	return nil
}

// LogSize returns the number of leaves in the audit log.
func (s *DB) LogSize(ctx context.Context) (uint64, error) { return logSize(ctx, s.db) }

// LogRoot returns the tree head of the audit log's first size leaves.
func (s *DB) LogRoot(ctx context.Context, size uint64) (merkle.Hash, error) {
	if err := s.checkSize(ctx, size); err != nil {
		return merkle.Hash{}, err
	}
	return merkle.Root(size, nodes(ctx, s.db))
}

// LogInclusion returns the audit path of leaf index in the log of size
// leaves.
func (s *DB) LogInclusion(ctx context.Context, index, size uint64) ([]merkle.Hash, error) {
	if err := s.checkSize(ctx, size); err != nil {
		return nil, err
	}
	return merkle.InclusionProof(index, size, nodes(ctx, s.db))
}

// LogConsistency returns the proof that the log of size first is a prefix
// of the log of size second.
func (s *DB) LogConsistency(ctx context.Context, first, second uint64) ([]merkle.Hash, error) {
	if err := s.checkSize(ctx, second); err != nil {
		return nil, err
	}
	return merkle.ConsistencyProof(first, second, nodes(ctx, s.db))
}

// LogLeaf returns the bytes of leaf index, or ErrNotFound.
func (s *DB) LogLeaf(ctx context.Context, index uint64) ([]byte, error) {
	var b []byte
	err := s.db.QueryRowContext(ctx, "SELECT data FROM log_leaves WHERE idx = ?", index).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: log leaf: %w", err)
	}
	return b, nil
}

// checkSize fails with merkle.ErrSize for a size past the log's end.
func (s *DB) checkSize(ctx context.Context, size uint64) error {
	n, err := logSize(ctx, s.db)
	if err != nil {
		return err
	}
	if size > n {
		return fmt.Errorf("store: log of %d leaves has no size %d: %w", n, size, merkle.ErrSize)
	}
	return nil
}
