// SPDX-License-Identifier: Apache-2.0

package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"testing"
	"time"
)

// fillLog appends n leaves in one transaction.
func fillLog(b *testing.B, db *DB, n uint64) {
	b.Helper()
	ctx := context.Background()
	err := db.write(ctx, func(tx *sql.Tx) error {
		for i := range n {
			if err := appendLeaf(ctx, tx, i, binary.BigEndian.AppendUint64(nil, i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAppendAudit is one audit record, with its leaf and nodes, per
// durable transaction.
func BenchmarkAppendAudit(b *testing.B) {
	db := open(b, b.TempDir())
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := db.AppendAudit(ctx, AuditRecord{Time: time.Now(), Actor: "bench", Action: "policy.push", Object: "policy"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendLeafInTx is the log's share of a write: one leaf and the
// nodes it completes, inside a transaction that is already open.
func BenchmarkAppendLeafInTx(b *testing.B) {
	db := open(b, b.TempDir())
	b.ResetTimer()
	fillLog(b, db, uint64(b.N))
}

func BenchmarkLogRoot100k(b *testing.B) {
	db := open(b, b.TempDir())
	fillLog(b, db, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := db.LogRoot(ctx, 100_000-uint64(i%7)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLogInclusion100k(b *testing.B) {
	db := open(b, b.TempDir())
	fillLog(b, db, 100_000)
	ctx := context.Background()
	b.ResetTimer()
	for i := range b.N {
		if _, err := db.LogInclusion(ctx, uint64(i*7919)%100_000, 100_000); err != nil {
			b.Fatal(err)
		}
	}
}
