// SPDX-License-Identifier: Apache-2.0

// Schema migrations, versioned in code and tracked in PRAGMA user_version.

package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migration is one schema step: sql, then fn (if any) in the same
// transaction.
type migration struct {
	sql string
	fn  func(ctx context.Context, tx *sql.Tx) error
}

// migrations[i] takes the schema from version i to i+1. Only ever append.
var migrations = []migration{{sql: `
CREATE TABLE nodes (
	id TEXT PRIMARY KEY,
	name TEXT NOT NULL,
	enrolled INTEGER NOT NULL,
	last_seen INTEGER NOT NULL,
	policy_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE bootstrap_tokens (
	hash BLOB PRIMARY KEY,
	comment TEXT NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	used INTEGER NOT NULL DEFAULT 0,
	used_by TEXT NOT NULL DEFAULT ''
);
CREATE TABLE policy_bundles (
	version INTEGER PRIMARY KEY,
	bundle BLOB NOT NULL
);
CREATE TABLE approvals (
	id TEXT PRIMARY KEY,
	state INTEGER NOT NULL,
	node TEXT NOT NULL,
	identity_key TEXT NOT NULL,
	fingerprint BLOB NOT NULL,
	created INTEGER NOT NULL,
	expires INTEGER NOT NULL,
	grant_until INTEGER NOT NULL DEFAULT 0,
	approval BLOB NOT NULL
);
CREATE INDEX approvals_by_request ON approvals (identity_key, fingerprint);
CREATE INDEX approvals_by_created ON approvals (created DESC, id DESC);
CREATE INDEX approvals_pending ON approvals (state, expires);
CREATE TABLE approval_decisions (
	approval_id TEXT NOT NULL REFERENCES approvals (id),
	approver TEXT NOT NULL,
	approve INTEGER NOT NULL,
	comment TEXT NOT NULL,
	time INTEGER NOT NULL,
	PRIMARY KEY (approval_id, approver)
);
CREATE TABLE audit_records (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	time INTEGER NOT NULL,
	actor TEXT NOT NULL,
	action TEXT NOT NULL,
	object TEXT NOT NULL,
	detail TEXT NOT NULL
);
CREATE INDEX audit_by_object ON audit_records (object, id);
CREATE TABLE chunks (
	node TEXT NOT NULL,
	seq INTEGER NOT NULL,
	sha256 BLOB NOT NULL,
	path TEXT NOT NULL,
	events INTEGER NOT NULL,
	size INTEGER NOT NULL,
	uncompressed_size INTEGER NOT NULL,
	stored INTEGER NOT NULL,
	PRIMARY KEY (node, seq)
);
CREATE TABLE sessions (
	id TEXT PRIMARY KEY,
	node TEXT NOT NULL,
	workload TEXT NOT NULL,
	subject TEXT NOT NULL,
	app_id TEXT NOT NULL,
	object_id TEXT NOT NULL,
	target TEXT NOT NULL,
	opened INTEGER NOT NULL,
	summary BLOB NOT NULL
);
CREATE INDEX sessions_by_opened ON sessions (opened DESC, id DESC);
CREATE TABLE session_terms (
	session_id TEXT NOT NULL REFERENCES sessions (id),
	kind TEXT NOT NULL,
	value TEXT NOT NULL,
	PRIMARY KEY (session_id, kind, value)
);
CREATE INDEX session_terms_by_value ON session_terms (kind, value);
CREATE TABLE session_chunks (
	session_id TEXT NOT NULL,
	node TEXT NOT NULL,
	seq INTEGER NOT NULL,
	PRIMARY KEY (session_id, node, seq)
);
`}, {sql: `
ALTER TABLE chunks ADD COLUMN leaf INTEGER;
ALTER TABLE audit_records ADD COLUMN leaf INTEGER;
CREATE TABLE log_leaves (
	idx INTEGER PRIMARY KEY,
	data BLOB NOT NULL
);
CREATE TABLE log_nodes (
	level INTEGER NOT NULL,
	idx INTEGER NOT NULL,
	hash BLOB NOT NULL,
	PRIMARY KEY (level, idx)
) WITHOUT ROWID;
CREATE TABLE log_checkpoints (
	key_id TEXT NOT NULL,
	size INTEGER NOT NULL,
	time INTEGER NOT NULL,
	origin TEXT NOT NULL,
	root BLOB NOT NULL,
	signature BLOB NOT NULL,
	body BLOB NOT NULL,
	note BLOB NOT NULL,
	PRIMARY KEY (key_id, size)
);
`, fn: backfillLog},
}

// SchemaVersion is the schema version this code writes.
func SchemaVersion() int { return len(migrations) }

func (s *DB) migrate(ctx context.Context) error {
	return s.write(ctx, func(tx *sql.Tx) error {
		var v int
		if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("schema version %d is newer than this binary's %d", v, len(migrations))
		}
		for i := v; i < len(migrations); i++ {
			if _, err := tx.ExecContext(ctx, migrations[i].sql); err != nil {
				return fmt.Errorf("migrate to version %d: %w", i+1, err)
			}
			if fn := migrations[i].fn; fn != nil {
				if err := fn(ctx, tx); err != nil {
					return fmt.Errorf("migrate to version %d: %w", i+1, err)
				}
			}
		}
		if v != len(migrations) {
			if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
				return fmt.Errorf("set schema version: %w", err)
			}
		}
		return nil
	})
}
