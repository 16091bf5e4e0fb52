// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/interlockhq/interlock/control/auditlog"
	"github.com/interlockhq/interlock/control/merkle"
)

// logTree rebuilds the log in memory from the stored leaves.
func logTree(t *testing.T, db *DB) (*merkle.Tree, []any) {
	t.Helper()
	ctx := context.Background()
	n, err := db.LogSize(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var tr merkle.Tree
	var leaves []any
	for i := range n {
		b, err := db.LogLeaf(ctx, i)
		if err != nil {
			t.Fatal(err)
		}
		tr.Append(b)
		v, err := auditlog.DecodeLeaf(b)
		if err != nil {
			t.Fatalf("leaf %d: %v", i, err)
		}
		leaves = append(leaves, v)
	}
	return &tr, leaves
}

// checkLog checks every root and inclusion proof the store serves against
// a tree rebuilt from its leaves.
func checkLog(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	tr, _ := logTree(t, db)
	for size := uint64(0); size <= tr.Size(); size++ {
		want, _ := tr.Root(size)
		got, err := db.LogRoot(ctx, size)
		if err != nil || got != want {
			t.Fatalf("LogRoot(%d) = %s, %v; rebuilt %s", size, got, err, want)
		}
		for i := range size {
			p, err := db.LogInclusion(ctx, i, size)
			if err != nil {
				t.Fatal(err)
			}
			leaf, _ := tr.Node(0, i)
			if err := merkle.VerifyInclusion(leaf, i, size, p, want); err != nil {
				t.Fatalf("leaf %d of %d: %v", i, size, err)
			}
		}
		for m := range size {
			p, err := db.LogConsistency(ctx, m, size)
			if err != nil {
				t.Fatal(err)
			}
			old, _ := tr.Root(m)
			if err := merkle.VerifyConsistency(m, size, old, want, p); err != nil {
				t.Fatalf("%d to %d: %v", m, size, err)
			}
		}
	}
	if _, err := db.LogRoot(ctx, tr.Size()+1); !errors.Is(err, merkle.ErrSize) {
		t.Errorf("LogRoot past the end = %v, want merkle.ErrSize", err)
	}
}

func TestLogLeaves(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Unix(1700000000, 123456789)
	if n, err := db.LogSize(ctx); err != nil || n != 0 {
		t.Fatalf("LogSize of a new store = %d, %v", n, err)
	}
	if _, err := db.PutChunk(ctx, chunk("n1", 1, "one"), []SessionUpdate{{ID: "s2"}, {ID: "s1"}}); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendAudit(ctx, AuditRecord{Time: now, Actor: "alice", Action: "policy.push", Object: "policy", Detail: "v2"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.FileApproval(ctx, "id", newApproval("a1", now, "fp"), now, AuditRecord{Time: now, Actor: "n1", Action: "approval.request", Object: "a1"}); err != nil {
		t.Fatal(err)
	}
	// A duplicate chunk appends nothing; a refused one neither.
	if dup, err := db.PutChunk(ctx, chunk("n1", 1, "one"), nil); err != nil || !dup {
		t.Fatalf("duplicate PutChunk = %v, %v", dup, err)
	}
	if _, err := db.PutChunk(ctx, chunk("n1", 5, "gap"), nil); err == nil {
		t.Fatal("gap accepted")
	}
	if _, err := db.PutChunk(ctx, chunk("n1", 2, "two"), []SessionUpdate{{ID: "s1"}}); err != nil {
		t.Fatal(err)
	}
	sum1, sum2 := sha256.Sum256([]byte("one")), sha256.Sum256([]byte("two"))
	want := []any{
		auditlog.ChunkLeaf{Node: "n1", Seq: 1, SHA256: sum1, Sessions: []string{"s1", "s2"}},
		auditlog.RecordLeaf{ID: 1, Time: now, Actor: "alice", Action: "policy.push", Object: "policy", Detail: "v2"},
		auditlog.RecordLeaf{ID: 2, Time: now, Actor: "n1", Action: "approval.request", Object: "a1"},
		auditlog.ChunkLeaf{Node: "n1", Seq: 2, SHA256: sum2, Sessions: []string{"s1"}},
	}
	_, got := logTree(t, db)
	if len(got) != len(want) {
		t.Fatalf("%d leaves, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if g, ok := got[i].(auditlog.RecordLeaf); ok {
			w := want[i].(auditlog.RecordLeaf)
			if !g.Time.Equal(w.Time) {
				t.Errorf("leaf %d time %v, want %v", i, g.Time, w.Time)
			}
			g.Time = w.Time
			got[i] = g
		}
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("leaf %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	recs, err := db.AuditLog(ctx, AuditQuery{BeforeLeaf: 4, Limit: 10})
	if err != nil || len(recs) != 2 || recs[0].Leaf != 1 || recs[1].Leaf != 2 || recs[1].ID != 2 {
		t.Fatalf("AuditLog = %+v, %v", recs, err)
	}
	if recs, _ := db.AuditLog(ctx, AuditQuery{BeforeLeaf: 2, Limit: 10}); len(recs) != 1 {
		t.Errorf("AuditLog before leaf 2 = %+v, want one record", recs)
	}
	if recs, _ := db.AuditLog(ctx, AuditQuery{BeforeLeaf: 4, AfterID: 1, Limit: 10}); len(recs) != 1 || recs[0].ID != 2 {
		t.Errorf("AuditLog after id 1 = %+v", recs)
	}
	if recs, _ := db.AuditLog(ctx, AuditQuery{BeforeLeaf: 4, Since: now.Add(time.Second), Limit: 10}); len(recs) != 0 {
		t.Errorf("AuditLog since later = %+v", recs)
	}
	checkLog(t, db)
}

func TestCheckpoints(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	if _, err := db.LatestCheckpoint(ctx, "k1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("LatestCheckpoint on a new store = %v, want ErrNotFound", err)
	}
	for _, c := range []Checkpoint{
		{Size: 3, KeyID: "k1", Note: []byte("three")},
		{Size: 9, KeyID: "k1", Note: []byte("nine")},
		{Size: 9, KeyID: "k1", Note: []byte("nine again")},
		{Size: 20, KeyID: "k2", Note: []byte("other key")},
	} {
		c.Time, c.Root, c.Signature, c.Body = time.Now(), []byte{1}, []byte{2}, []byte{3}
		if err := db.PutCheckpoint(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	c, err := db.LatestCheckpoint(ctx, "k1")
	if err != nil || c.Size != 9 || string(c.Note) != "nine" {
		t.Errorf("LatestCheckpoint(k1) = %+v, %v; want the first of size 9", c, err)
	}
}

// TestMigrateBackfillsLog opens a store written at schema version 1 and
// checks that its chunks and audit records became leaves in time order.
func TestMigrateBackfillsLog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	q := url.Values{}
	q.Add("_pragma", "journal_mode(WAL)")
	old, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "state.db")+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.ExecContext(ctx, migrations[0].sql+"PRAGMA user_version = 1;"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1700000000, 0)
	sum := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	for _, stmt := range []struct {
		q    string
		args []any
	}{
		{"INSERT INTO chunks VALUES ('n1', 1, ?, 'chunks/n1/1.zst', 1, 3, 3, ?)", []any{sum("c1"), t0.Add(1).UnixNano()}},
		{"INSERT INTO chunks VALUES ('n1', 2, ?, 'chunks/n1/2.zst', 1, 3, 3, ?)", []any{sum("c2"), t0.Add(3).UnixNano()}},
		{"INSERT INTO session_chunks VALUES ('sB', 'n1', 1), ('sA', 'n1', 1), ('sA', 'n1', 2)", nil},
		{"INSERT INTO audit_records (time, actor, action, object, detail) VALUES (?, 'x', 'node.enroll', 'n1', 'vm1')", []any{t0.UnixNano()}},
		{"INSERT INTO audit_records (time, actor, action, object, detail) VALUES (?, 'y', 'policy.push', 'policy', '')", []any{t0.Add(2).UnixNano()}},
	} {
		if _, err := old.ExecContext(ctx, stmt.q, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.q, err)
		}
	}
	old.Close()

	db := open(t, dir)
	_, leaves := logTree(t, db)
	var got []string
	for _, l := range leaves {
		switch l := l.(type) {
		case auditlog.ChunkLeaf:
			got = append(got, fmt.Sprintf("chunk %s/%d %v", l.Node, l.Seq, l.Sessions))
		case auditlog.RecordLeaf:
			got = append(got, fmt.Sprintf("record %d %s", l.ID, l.Action))
		}
	}
	if want := "[record 1 node.enroll chunk n1/1 [sA sB] record 2 policy.push chunk n1/2 [sA]]"; fmt.Sprint(got) != want {
		t.Errorf("backfilled leaves %v\nwant %s", got, want)
	}
	refs, err := db.SessionChunks(ctx, "sA")
	if err != nil || len(refs) != 2 || refs[0].Leaf != 1 || refs[1].Leaf != 3 || !bytes.Equal(refs[1].SHA256, sum("c2")) {
		t.Errorf("SessionChunks(sA) after migration = %+v, %v", refs, err)
	}
	checkLog(t, db)
	// New leaves follow the backfilled ones.
	if err := db.AppendAudit(ctx, AuditRecord{Time: time.Now(), Action: "policy.push"}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.LogSize(ctx); n != 5 {
		t.Errorf("LogSize = %d, want 5", n)
	}
}
