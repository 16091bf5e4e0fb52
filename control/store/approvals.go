// SPDX-License-Identifier: Apache-2.0

// Approvals and their decisions: filed, decided, expired; every step with
// its audit record in the same transaction.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// ApprovalQuery selects approvals for [DB.Approvals].
type ApprovalQuery struct {
	// State filters; APPROVAL_STATE_UNSPECIFIED selects all.
	State interlockv1.ApprovalState
	// Node, when set, selects only that node's approvals.
	Node string
	// Limit is the page size (at least 1).
	Limit int
	// Cursor continues a listing where the previous page ended.
	Cursor string
}

// FileApproval returns the pending request or live grant (approved,
// grant_until after now) that exists for identityKey and a's fingerprint,
// or stores a as a new request and appends rec. created says which.
func (s *DB) FileApproval(ctx context.Context, identityKey string, a *interlockv1.Approval, now time.Time, rec AuditRecord) (_ *interlockv1.Approval, created bool, err error) {
	var out *interlockv1.Approval
	err = s.write(ctx, func(tx *sql.Tx) error {
		var blob []byte
		err := tx.QueryRowContext(ctx, `SELECT approval FROM approvals
			WHERE identity_key = ? AND fingerprint = ?
			  AND ((state = ? AND expires > ?) OR (state = ? AND grant_until > ?))
			ORDER BY created DESC LIMIT 1`,
			identityKey, a.GetFingerprint(),
			int32(interlockv1.ApprovalState_APPROVAL_STATE_PENDING), now.UnixNano(),
			int32(interlockv1.ApprovalState_APPROVAL_STATE_APPROVED), now.UnixNano()).Scan(&blob)
		if err == nil {
			out, err = decodeApproval(blob)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: find approval: %w", err)
		}
		blob, err = proto.MarshalOptions{Deterministic: true}.Marshal(a)
		if err != nil {
			return fmt.Errorf("store: marshal approval: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO approvals
			(id, state, node, identity_key, fingerprint, created, expires, grant_until, approval)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.GetId(), int32(a.GetState()), a.GetNode(), identityKey, a.GetFingerprint(),
			a.GetCreated().AsTime().UnixNano(), a.GetExpires().AsTime().UnixNano(), grantUntil(a), blob)
		if err != nil {
			return fmt.Errorf("store: insert approval: %w", err)
		}
		created, out = true, a
		return appendAudit(ctx, tx, rec)
	})
	if err != nil {
		return nil, false, err
	}
	return out, created, nil
}

// UpdateApproval loads approval id, lets fn change it, and stores it with
// the audit records fn returns, in one transaction. When fn returns an
// error nothing is stored and that error is returned.
func (s *DB) UpdateApproval(ctx context.Context, id string, fn func(a *interlockv1.Approval) ([]AuditRecord, error)) (*interlockv1.Approval, error) {
	var out *interlockv1.Approval
	err := s.write(ctx, func(tx *sql.Tx) error {
		a, err := loadApproval(ctx, tx, id)
		if err != nil {
			return err
		}
		recs, err := fn(a)
		if err != nil {
			return err
		}
		if err := storeApproval(ctx, tx, a); err != nil {
			return err
		}
		for _, r := range recs {
			if err := appendAudit(ctx, tx, r); err != nil {
				return err
			}
		}
		out = a
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ExpireApprovals moves every pending approval whose expiry is not after
// now to EXPIRED, with an audit record by actor, and returns them.
func (s *DB) ExpireApprovals(ctx context.Context, now time.Time, actor string) ([]*interlockv1.Approval, error) {
	var out []*interlockv1.Approval
	err := s.write(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT approval FROM approvals WHERE state = ? AND expires <= ?",
			int32(interlockv1.ApprovalState_APPROVAL_STATE_PENDING), now.UnixNano())
		if err != nil {
			return fmt.Errorf("store: find expired approvals: %w", err)
		}
		var due []*interlockv1.Approval
		for rows.Next() {
			var blob []byte
			if err := rows.Scan(&blob); err != nil {
				rows.Close()
				return fmt.Errorf("store: scan approval: %w", err)
			}
			a, err := decodeApproval(blob)
			if err != nil {
				rows.Close()
				return err
			}
			due = append(due, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: find expired approvals: %w", err)
		}
		for _, a := range due {
			a.State = interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED
			if err := storeApproval(ctx, tx, a); err != nil {
				return err
			}
			rec := AuditRecord{Time: now, Actor: actor, Action: "approval.expire", Object: a.GetId(), Detail: "no decision before " + a.GetExpires().AsTime().UTC().Format(time.RFC3339)}
			if err := appendAudit(ctx, tx, rec); err != nil {
				return err
			}
		}
		out = due
		return nil
	})
	return out, err
}

// Approval returns one approval, or ErrNotFound.
func (s *DB) Approval(ctx context.Context, id string) (*interlockv1.Approval, error) {
	var blob []byte
	err := s.db.QueryRowContext(ctx, "SELECT approval FROM approvals WHERE id = ?", id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get approval: %w", err)
	}
	return decodeApproval(blob)
}

// Approvals returns a page of approvals, newest first, and the cursor of
// the next page ("" after the last).
func (s *DB) Approvals(ctx context.Context, q ApprovalQuery) ([]*interlockv1.Approval, string, error) {
	limit := max(q.Limit, 1)
	where, args := "1 = 1", []any{}
	if q.State != interlockv1.ApprovalState_APPROVAL_STATE_UNSPECIFIED {
		where += " AND state = ?"
		args = append(args, int32(q.State))
	}
	if q.Node != "" {
		where += " AND node = ?"
		args = append(args, q.Node)
	}
	if q.Cursor != "" {
		c, err := parseCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		where += " AND (created < ? OR (created = ? AND id < ?))"
		args = append(args, c.time, c.time, c.id)
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx,
		"SELECT approval FROM approvals WHERE "+where+" ORDER BY created DESC, id DESC LIMIT ?", args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list approvals: %w", err)
	}
	defer rows.Close()
	var out []*interlockv1.Approval
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, "", fmt.Errorf("store: scan approval: %w", err)
		}
		a, err := decodeApproval(blob)
		if err != nil {
			return nil, "", err
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list approvals: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor{time: last.GetCreated().AsTime().UnixNano(), id: last.GetId()}.String()
	}
	return out, next, nil
}

func loadApproval(ctx context.Context, tx *sql.Tx, id string) (*interlockv1.Approval, error) {
	var blob []byte
	err := tx.QueryRowContext(ctx, "SELECT approval FROM approvals WHERE id = ?", id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get approval: %w", err)
	}
	return decodeApproval(blob)
}

// storeApproval rewrites an existing approval and its decision rows.
func storeApproval(ctx context.Context, tx *sql.Tx, a *interlockv1.Approval) error {
	blob, err := proto.MarshalOptions{Deterministic: true}.Marshal(a)
	if err != nil {
		return fmt.Errorf("store: marshal approval: %w", err)
	}
	_, err = tx.ExecContext(ctx, "UPDATE approvals SET state = ?, expires = ?, grant_until = ?, approval = ? WHERE id = ?",
		int32(a.GetState()), a.GetExpires().AsTime().UnixNano(), grantUntil(a), blob, a.GetId())
	if err != nil {
		return fmt.Errorf("store: update approval: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM approval_decisions WHERE approval_id = ?", a.GetId()); err != nil {
		return fmt.Errorf("store: update decisions: %w", err)
	}
	for _, d := range a.GetDecisions() {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO approval_decisions (approval_id, approver, approve, comment, time) VALUES (?, ?, ?, ?, ?)",
			a.GetId(), d.GetApprover(), d.GetApprove(), d.GetComment(), d.GetTime().AsTime().UnixNano())
		if err != nil {
			return fmt.Errorf("store: insert decision: %w", err)
		}
	}
	return nil
}

func grantUntil(a *interlockv1.Approval) int64 {
	if a.GetGrantUntil() == nil {
		return 0
	}
	return a.GetGrantUntil().AsTime().UnixNano()
}

func decodeApproval(blob []byte) (*interlockv1.Approval, error) {
	a := &interlockv1.Approval{}
	if err := proto.Unmarshal(blob, a); err != nil {
		return nil, fmt.Errorf("store: decode approval: %w", err)
	}
	return a, nil
}
