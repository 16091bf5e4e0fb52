// SPDX-License-Identifier: Apache-2.0

// Enrolled nodes and their one-time bootstrap tokens.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Node is an enrolled node.
type Node struct {
	ID            string
	Name          string
	Enrolled      time.Time
	LastSeen      time.Time
	PolicyVersion uint64
}

// Token is a bootstrap token as stored: only its hash, never the token.
type Token struct {
	// Hash is the SHA-256 of the token.
	Hash    []byte
	Comment string
	Created time.Time
	Expires time.Time
}

// AddToken stores a bootstrap token.
func (s *DB) AddToken(ctx context.Context, t Token) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"INSERT INTO bootstrap_tokens (hash, comment, created, expires) VALUES (?, ?, ?, ?)",
			t.Hash, t.Comment, t.Created.UnixNano(), t.Expires.UnixNano())
		if err != nil {
			return fmt.Errorf("store: add token: %w", err)
		}
		return nil
	})
}

// Enroll consumes the bootstrap token whose hash is tokenHash and records
// n, in one transaction: a token enrols exactly one node. It returns
// ErrTokenInvalid when the token is unknown, used or expired at now.
func (s *DB) Enroll(ctx context.Context, tokenHash []byte, now time.Time, n Node) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx,
			"UPDATE bootstrap_tokens SET used = ?, used_by = ? WHERE hash = ? AND used = 0 AND expires > ?",
			now.UnixNano(), n.ID, tokenHash, now.UnixNano())
		if err != nil {
			return fmt.Errorf("store: use token: %w", err)
		}
		if k, err := res.RowsAffected(); err != nil || k != 1 {
			return ErrTokenInvalid
		}
		_, err = tx.ExecContext(ctx,
			"INSERT INTO nodes (id, name, enrolled, last_seen, policy_version) VALUES (?, ?, ?, ?, ?)",
			n.ID, n.Name, n.Enrolled.UnixNano(), n.LastSeen.UnixNano(), n.PolicyVersion)
		if err != nil {
			return fmt.Errorf("store: add node: %w", err)
		}
		return nil
	})
}

// Nodes returns every enrolled node, in enrolment order.
func (s *DB) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.QueryContext(ctx,
		"SELECT id, name, enrolled, last_seen, policy_version FROM nodes ORDER BY enrolled, id")
	if err != nil {
		return nil, fmt.Errorf("store: list nodes: %w", err)
	}
	defer rows.Close()
	var out []Node
	for rows.Next() {
		n, err := scanNode(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list nodes: %w", err)
	}
	return out, nil
}

// Node returns one node, or ErrNotFound.
func (s *DB) Node(ctx context.Context, id string) (Node, error) {
	row := s.db.QueryRowContext(ctx,
		"SELECT id, name, enrolled, last_seen, policy_version FROM nodes WHERE id = ?", id)
	n, err := scanNode(row)
	if errors.Is(err, sql.ErrNoRows) {
		return Node{}, ErrNotFound
	}
	return n, err
}

// TouchNode records that the node was seen at t enforcing policyVersion.
func (s *DB) TouchNode(ctx context.Context, id string, t time.Time, policyVersion uint64) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx,
			"UPDATE nodes SET last_seen = ?, policy_version = ? WHERE id = ?", t.UnixNano(), policyVersion, id)
		if err != nil {
			return fmt.Errorf("store: touch node: %w", err)
		}
		return nil
	})
}

type scanner interface{ Scan(dest ...any) error }

func scanNode(r scanner) (Node, error) {
	var n Node
	var enrolled, seen int64
	if err := r.Scan(&n.ID, &n.Name, &enrolled, &seen, &n.PolicyVersion); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return Node{}, err
		}
		return Node{}, fmt.Errorf("store: scan node: %w", err)
	}
	n.Enrolled, n.LastSeen = time.Unix(0, enrolled), time.Unix(0, seen)
	return n, nil
}
