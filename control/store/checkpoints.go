// SPDX-License-Identifier: Apache-2.0

// Signed checkpoints of the audit log, as the control plane issued them.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Checkpoint is a signed checkpoint as issued.
type Checkpoint struct {
	Size      uint64
	Time      time.Time
	Origin    string
	Root      []byte
	KeyID     string
	Signature []byte
	// Body is the signed text; Note is the whole signed note.
	Body []byte
	Note []byte
}

// PutCheckpoint keeps a checkpoint; another for the same key and size is
// ignored.
func (s *DB) PutCheckpoint(ctx context.Context, c Checkpoint) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO log_checkpoints
			(size, time, origin, root, key_id, signature, body, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Size, c.Time.UnixNano(), c.Origin, c.Root, c.KeyID, c.Signature, c.Body, c.Note)
		if err != nil {
			return fmt.Errorf("store: put checkpoint: %w", err)
		}
		return nil
	})
}

// LatestCheckpoint returns the checkpoint of the largest size signed by
// key keyID, or ErrNotFound before the first.
func (s *DB) LatestCheckpoint(ctx context.Context, keyID string) (Checkpoint, error) {
	var c Checkpoint
	var t int64
	err := s.db.QueryRowContext(ctx, `SELECT size, time, origin, root, key_id, signature, body, note
		FROM log_checkpoints WHERE key_id = ? ORDER BY size DESC LIMIT 1`, keyID).
		Scan(&c.Size, &t, &c.Origin, &c.Root, &c.KeyID, &c.Signature, &c.Body, &c.Note)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, ErrNotFound
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("store: latest checkpoint: %w", err)
	}
	c.Time = time.Unix(0, t)
	return c, nil
}
