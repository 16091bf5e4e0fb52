// SPDX-License-Identifier: Apache-2.0

// The sessions index: search and summaries.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Sessions returns a page of sessions matching f, newest (by open time)
// first, and the cursor of the next page ("" after the last).
func (s *DB) Sessions(ctx context.Context, f *interlockv1.SessionFilter, limit int, cur string) ([]*interlockv1.SessionSummary, string, error) {
	limit = max(limit, 1)
	where, args := "1 = 1", []any{}
	if v := f.GetIdentity(); v != "" {
		where += " AND (subject = ? OR app_id = ? OR object_id = ?)"
		args = append(args, v, v, v)
	}
	if v := f.GetWorkload(); v != "" {
		where += " AND workload = ?"
		args = append(args, v)
	}
	if v := f.GetTarget(); v != "" {
		where += " AND target = ?"
		args = append(args, v)
	}
	if v := f.GetNode(); v != "" {
		where += " AND node = ?"
		args = append(args, v)
	}
	if v := f.GetOperation(); v != "" {
		where += " AND EXISTS (SELECT 1 FROM session_terms t WHERE t.session_id = sessions.id AND t.kind = 'operation' AND t.value = ?)"
		args = append(args, v)
	}
	if v := f.GetDecision(); v != interlockv1.Action_ACTION_UNSPECIFIED {
		where += " AND EXISTS (SELECT 1 FROM session_terms t WHERE t.session_id = sessions.id AND t.kind = 'decision' AND t.value = ?)"
		args = append(args, v.String())
	}
	if f.GetSince() != nil {
		where += " AND opened >= ?"
		args = append(args, f.GetSince().AsTime().UnixNano())
	}
	if f.GetUntil() != nil {
		where += " AND opened < ?"
		args = append(args, f.GetUntil().AsTime().UnixNano())
	}
	if cur != "" {
		c, err := parseCursor(cur)
		if err != nil {
			return nil, "", err
		}
		where += " AND (opened < ? OR (opened = ? AND id < ?))"
		args = append(args, c.time, c.time, c.id)
	}
	args = append(args, limit+1)
	rows, err := s.db.QueryContext(ctx,
		"SELECT summary FROM sessions WHERE "+where+" ORDER BY opened DESC, id DESC LIMIT ?", args...)
	if err != nil {
		return nil, "", fmt.Errorf("store: list sessions: %w", err)
	}
	defer rows.Close()
	var out []*interlockv1.SessionSummary
	for rows.Next() {
		var blob []byte
		if err := rows.Scan(&blob); err != nil {
			return nil, "", fmt.Errorf("store: scan session: %w", err)
		}
		sum := &interlockv1.SessionSummary{}
		if err := proto.Unmarshal(blob, sum); err != nil {
			return nil, "", fmt.Errorf("store: decode session: %w", err)
		}
		out = append(out, sum)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("store: list sessions: %w", err)
	}
	next := ""
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = cursor{time: last.GetOpened().AsTime().UnixNano(), id: last.GetSessionId()}.String()
	}
	return out, next, nil
}

// Session returns one session's summary, or ErrNotFound.
func (s *DB) Session(ctx context.Context, id string) (*interlockv1.SessionSummary, error) {
	var blob []byte
	err := s.db.QueryRowContext(ctx, "SELECT summary FROM sessions WHERE id = ?", id).Scan(&blob)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: get session: %w", err)
	}
	sum := &interlockv1.SessionSummary{}
	if err := proto.Unmarshal(blob, sum); err != nil {
		return nil, fmt.Errorf("store: decode session: %w", err)
	}
	return sum, nil
}
