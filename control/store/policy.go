// SPDX-License-Identifier: Apache-2.0

// Policy bundles: immutable, versioned one by one.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// PutBundle stores b as the next version (the current one plus one) and
// returns it with its version set. When expected is not zero and the
// current version differs, it stores nothing and returns ErrVersionConflict.
func (s *DB) PutBundle(ctx context.Context, b *interlockv1.PolicyBundle, expected uint64) (*interlockv1.PolicyBundle, error) {
	out := proto.Clone(b).(*interlockv1.PolicyBundle)
	err := s.write(ctx, func(tx *sql.Tx) error {
		var cur uint64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM policy_bundles").Scan(&cur); err != nil {
			return fmt.Errorf("store: current policy version: %w", err)
		}
		if expected != 0 && cur != expected {
			return fmt.Errorf("store: current version is %d, not %d: %w", cur, expected, ErrVersionConflict)
		}
		out.Version = cur + 1
		blob, err := proto.MarshalOptions{Deterministic: true}.Marshal(out)
		if err != nil {
			return fmt.Errorf("store: marshal bundle: %w", err)
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO policy_bundles (version, bundle) VALUES (?, ?)", out.Version, blob); err != nil {
			return fmt.Errorf("store: put bundle: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Bundle returns one version of the policy bundle, the current one for
// version 0, or ErrNotFound.
func (s *DB) Bundle(ctx context.Context, version uint64) (*interlockv1.PolicyBundle, error) {
	var row *sql.Row
	if version == 0 {
		row = s.db.QueryRowContext(ctx, "SELECT bundle FROM policy_bundles ORDER BY version DESC LIMIT 1")
	} else {
		row = s.db.QueryRowContext(ctx, "SELECT bundle FROM policy_bundles WHERE version = ?", version)
	}
	var blob []byte
	if err := row.Scan(&blob); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: get bundle: %w", err)
	}
	b := &interlockv1.PolicyBundle{}
	if err := proto.Unmarshal(blob, b); err != nil {
		return nil, fmt.Errorf("store: decode bundle: %w", err)
	}
	return b, nil
}
