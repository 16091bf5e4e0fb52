// SPDX-License-Identifier: Apache-2.0

// Schema version 2: the audit log's leaves for what an older store already
// holds — chunks and audit records, merged by the time they were stored.

package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/interlockhq/interlock/control/auditlog"
)

// pendingLeaf is a stored chunk or audit record without a leaf yet.
type pendingLeaf struct {
	time int64
	// chunk, else record
	chunk  *ChunkRef
	record *AuditRecord
	order  int64 // rowid of the chunk or id of the record
}

// backfillLog appends a leaf for every chunk (by its stored time, then
// upload order) and every audit record (by time, then id), interleaved by
// time so the log reads in the order things happened.
func backfillLog(ctx context.Context, tx *sql.Tx) error {
	var todo []pendingLeaf
	rows, err := tx.QueryContext(ctx, "SELECT rowid, node, seq, sha256, stored FROM chunks ORDER BY rowid")
	if err != nil {
		return fmt.Errorf("backfill: chunks: %w", err)
	}
	for rows.Next() {
		p := pendingLeaf{chunk: &ChunkRef{}}
		if err := rows.Scan(&p.order, &p.chunk.Node, &p.chunk.Seq, &p.chunk.SHA256, &p.time); err != nil {
			rows.Close()
			return fmt.Errorf("backfill: scan chunk: %w", err)
		}
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill: chunks: %w", err)
	}
	rows, err = tx.QueryContext(ctx, "SELECT id, time, actor, action, object, detail FROM audit_records ORDER BY id")
	if err != nil {
		return fmt.Errorf("backfill: audit records: %w", err)
	}
	for rows.Next() {
		p := pendingLeaf{record: &AuditRecord{}}
		if err := rows.Scan(&p.record.ID, &p.time, &p.record.Actor, &p.record.Action, &p.record.Object, &p.record.Detail); err != nil {
			rows.Close()
			return fmt.Errorf("backfill: scan audit record: %w", err)
		}
		p.record.Time, p.order = time.Unix(0, p.time), int64(p.record.ID)
		todo = append(todo, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("backfill: audit records: %w", err)
	}
	slices.SortStableFunc(todo, func(a, b pendingLeaf) int {
		switch {
		case a.time != b.time:
			return cmp.Compare(a.time, b.time)
		case (a.chunk == nil) != (b.chunk == nil):
			if a.chunk != nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(a.order, b.order)
	})
	leaf, err := logSize(ctx, tx)
	if err != nil {
		return err
	}
	for _, p := range todo {
		var data []byte
		if c := p.chunk; c != nil {
			sessions, err := chunkSessions(ctx, tx, c.Node, c.Seq)
			if err != nil {
				return err
			}
			if len(c.SHA256) != 32 {
				return fmt.Errorf("backfill: chunk %s/%d: sha256 of %d bytes", c.Node, c.Seq, len(c.SHA256))
			}
			data = auditlog.ChunkLeaf{Node: c.Node, Seq: c.Seq, SHA256: [32]byte(c.SHA256), Sessions: sessions}.Encode()
			if _, err := tx.ExecContext(ctx, "UPDATE chunks SET leaf = ? WHERE node = ? AND seq = ?", leaf, c.Node, c.Seq); err != nil {
				return fmt.Errorf("backfill: chunk leaf: %w", err)
			}
		} else {
			data = p.record.LogLeaf().Encode()
			if _, err := tx.ExecContext(ctx, "UPDATE audit_records SET leaf = ? WHERE id = ?", leaf, p.record.ID); err != nil {
				return fmt.Errorf("backfill: audit record leaf: %w", err)
			}
		}
		if err := appendLeaf(ctx, tx, leaf, data); err != nil {
			return fmt.Errorf("backfill: %w", err)
		}
		leaf++
	}
	return nil
}

// chunkSessions lists the sessions with events in a chunk.
func chunkSessions(ctx context.Context, tx *sql.Tx, node string, seq uint64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT session_id FROM session_chunks WHERE node = ? AND seq = ? ORDER BY session_id", node, seq)
	if err != nil {
		return nil, fmt.Errorf("backfill: chunk sessions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("backfill: scan chunk session: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("backfill: chunk sessions: %w", err)
	}
	return out, nil
}
