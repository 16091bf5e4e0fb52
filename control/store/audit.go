// SPDX-License-Identifier: Apache-2.0

// Audit records: who did what to which object, appended in the same
// transaction as the change they describe, each a leaf of the audit log.

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/interlockhq/interlock/control/auditlog"
)

// AuditRecord is one step someone (a node, a person, the control plane
// itself) took.
type AuditRecord struct {
	// ID numbers records from 1 in the order they were appended; Leaf is
	// the record's index in the audit log. Both are set by the store.
	ID   uint64
	Leaf uint64
	Time time.Time
	// Actor is the caller's subject, or "control" for the control plane.
	Actor string
	// Action names the step, e.g. approval.request, approval.decide.
	Action string
	// Object is what it acted on, e.g. an approval id.
	Object string
	Detail string
}

// LogLeaf is the record's leaf in the audit log.
func (r AuditRecord) LogLeaf() auditlog.RecordLeaf {
	return auditlog.RecordLeaf{ID: r.ID, Time: r.Time, Actor: r.Actor, Action: r.Action, Object: r.Object, Detail: r.Detail}
}

// AppendAudit appends one audit record on its own.
func (s *DB) AppendAudit(ctx context.Context, r AuditRecord) error {
	return s.write(ctx, func(tx *sql.Tx) error { return appendAudit(ctx, tx, r) })
}

// AuditRecords returns the records about object, oldest first.
func (s *DB) AuditRecords(ctx context.Context, object string) ([]AuditRecord, error) {
	return s.queryAudit(ctx, "WHERE object = ? ORDER BY id", object)
}

// AuditQuery selects audit records for AuditLog.
type AuditQuery struct {
	// Since and Until bound the records' times (Until excluded); zero
	// means unbounded.
	Since, Until time.Time
	// BeforeLeaf keeps only records whose leaf is below it (a checkpoint's
	// size).
	BeforeLeaf uint64
	// AfterID continues a listing after the record with this id.
	AfterID uint64
	// Limit is the page size (at least 1).
	Limit int
}

// AuditLog returns a page of audit records matching q, in id order.
func (s *DB) AuditLog(ctx context.Context, q AuditQuery) ([]AuditRecord, error) {
	where, args := "WHERE leaf < ? AND id > ?", []any{q.BeforeLeaf, q.AfterID}
	if !q.Since.IsZero() {
		where += " AND time >= ?"
		args = append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where += " AND time < ?"
		args = append(args, q.Until.UnixNano())
	}
	args = append(args, max(q.Limit, 1))
	return s.queryAudit(ctx, where+" ORDER BY id LIMIT ?", args...)
}

func (s *DB) queryAudit(ctx context.Context, tail string, args ...any) ([]AuditRecord, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT id, COALESCE(leaf, -1), time, actor, action, object, detail FROM audit_records "+tail, args...)
	if err != nil {
		return nil, fmt.Errorf("store: audit records: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var r AuditRecord
		var t, leaf int64
		if err := rows.Scan(&r.ID, &leaf, &t, &r.Actor, &r.Action, &r.Object, &r.Detail); err != nil {
			return nil, fmt.Errorf("store: scan audit record: %w", err)
		}
		if leaf < 0 {
			return nil, fmt.Errorf("store: audit record %d has no log leaf", r.ID)
		}
		r.Leaf, r.Time = uint64(leaf), time.Unix(0, t)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit records: %w", err)
	}
	return out, nil
}

// appendAudit inserts r and appends its leaf to the log.
func appendAudit(ctx context.Context, tx *sql.Tx, r AuditRecord) error {
	leaf, err := logSize(ctx, tx)
	if err != nil {
		return err
	}
	err = tx.QueryRowContext(ctx, `INSERT INTO audit_records (time, actor, action, object, detail, leaf)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		r.Time.UnixNano(), r.Actor, r.Action, r.Object, r.Detail, leaf).Scan(&r.ID)
	if err != nil {
		return fmt.Errorf("store: append audit record: %w", err)
	}
	return appendLeaf(ctx, tx, leaf, r.LogLeaf().Encode())
}
