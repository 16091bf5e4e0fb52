// SPDX-License-Identifier: Apache-2.0

// Audit records: who did what to which object, appended in the same
// transaction as the change they describe.

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// AuditRecord is one step someone (a node, a person, the control plane
// itself) took.
type AuditRecord struct {
	Time time.Time
	// Actor is the caller's subject, or "control" for the control plane.
	Actor string
	// Action names the step, e.g. approval.request, approval.decide.
	Action string
	// Object is what it acted on, e.g. an approval id.
	Object string
	Detail string
}

// AppendAudit appends one audit record on its own.
func (s *DB) AppendAudit(ctx context.Context, r AuditRecord) error {
	return s.write(ctx, func(tx *sql.Tx) error { return appendAudit(ctx, tx, r) })
}

// AuditRecords returns the records about object, oldest first.
func (s *DB) AuditRecords(ctx context.Context, object string) ([]AuditRecord, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT time, actor, action, object, detail FROM audit_records WHERE object = ? ORDER BY id", object)
	if err != nil {
		return nil, fmt.Errorf("store: audit records: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var r AuditRecord
		var t int64
		if err := rows.Scan(&t, &r.Actor, &r.Action, &r.Object, &r.Detail); err != nil {
			return nil, fmt.Errorf("store: scan audit record: %w", err)
		}
		r.Time = time.Unix(0, t)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: audit records: %w", err)
	}
	return out, nil
}

func appendAudit(ctx context.Context, tx *sql.Tx, r AuditRecord) error {
	_, err := tx.ExecContext(ctx, "INSERT INTO audit_records (time, actor, action, object, detail) VALUES (?, ?, ?, ?, ?)",
		r.Time.UnixNano(), r.Actor, r.Action, r.Object, r.Detail)
	if err != nil {
		return fmt.Errorf("store: append audit record: %w", err)
	}
	return nil
}
