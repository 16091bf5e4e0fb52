// SPDX-License-Identifier: Apache-2.0

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

func open(t testing.TB, dir string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestOpenModesAndClose(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir)
	for _, p := range []string{"state.db", "chunks"} {
		fi, err := os.Stat(filepath.Join(dir, p))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s mode %v, want no group/other access", p, fi.Mode().Perm())
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	// Reopening an up-to-date schema is a no-op.
	open(t, dir)
}

func TestEnrollTokens(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Now()
	hash := func(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }
	if err := db.AddToken(ctx, Token{Hash: hash("good"), Created: now, Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := db.AddToken(ctx, Token{Hash: hash("old"), Created: now.Add(-2 * time.Hour), Expires: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, token, node string
		want              error
	}{
		{"valid", "good", "n1", nil},
		{"reused", "good", "n2", ErrTokenInvalid},
		{"expired", "old", "n3", ErrTokenInvalid},
		{"unknown", "nope", "n4", ErrTokenInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := db.Enroll(ctx, hash(tt.token), now, Node{ID: tt.node, Name: tt.node, Enrolled: now, LastSeen: now})
			if !errors.Is(err, tt.want) {
				t.Fatalf("Enroll = %v, want %v", err, tt.want)
			}
		})
	}
	nodes, err := db.Nodes(ctx)
	if err != nil || len(nodes) != 1 || nodes[0].ID != "n1" {
		t.Fatalf("Nodes = %+v, %v; want only n1", nodes, err)
	}
	if err := db.TouchNode(ctx, "n1", now.Add(time.Minute), 7); err != nil {
		t.Fatal(err)
	}
	n, err := db.Node(ctx, "n1")
	if err != nil || n.PolicyVersion != 7 || !n.LastSeen.Equal(now.Add(time.Minute)) {
		t.Errorf("Node = %+v, %v", n, err)
	}
	if _, err := db.Node(ctx, "n2"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Node(n2) = %v, want ErrNotFound", err)
	}
}

func TestBundles(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	if _, err := db.Bundle(ctx, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Bundle on empty store = %v, want ErrNotFound", err)
	}
	tests := []struct {
		expected, want uint64
		err            error
	}{
		{0, 1, nil},
		{1, 2, nil},
		{1, 0, ErrVersionConflict},
		{0, 3, nil},
		{7, 0, ErrVersionConflict},
	}
	for _, tt := range tests {
		b, err := db.PutBundle(ctx, &interlockv1.PolicyBundle{Comment: fmt.Sprint(tt.want)}, tt.expected)
		if !errors.Is(err, tt.err) {
			t.Fatalf("PutBundle(expected %d) = %v, want %v", tt.expected, err, tt.err)
		}
		if err == nil && b.GetVersion() != tt.want {
			t.Fatalf("PutBundle(expected %d) version %d, want %d", tt.expected, b.GetVersion(), tt.want)
		}
	}
	cur, err := db.Bundle(ctx, 0)
	if err != nil || cur.GetVersion() != 3 {
		t.Fatalf("current = %v, %v; want version 3", cur, err)
	}
	two, err := db.Bundle(ctx, 2)
	if err != nil || two.GetComment() != "2" {
		t.Fatalf("version 2 = %v, %v", two, err)
	}
}

func newApproval(id string, now time.Time, fp string) *interlockv1.Approval {
	return &interlockv1.Approval{
		Id:          id,
		State:       interlockv1.ApprovalState_APPROVAL_STATE_PENDING,
		Node:        "n1",
		Fingerprint: []byte(fp),
		Created:     timestamppb.New(now),
		Expires:     timestamppb.New(now.Add(time.Minute)),
		GrantFor:    durationpb.New(time.Hour),
	}
}

func TestApprovals(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	now := time.Now()
	rec := AuditRecord{Time: now, Actor: "n1", Action: "approval.request", Object: "a1"}
	a, created, err := db.FileApproval(ctx, "id", newApproval("a1", now, "fp"), now, rec)
	if err != nil || !created || a.GetId() != "a1" {
		t.Fatalf("FileApproval = %v, %v, %v", a, created, err)
	}
	// The same identity and fingerprint get the open request back.
	a, created, err = db.FileApproval(ctx, "id", newApproval("a2", now, "fp"), now, rec)
	if err != nil || created || a.GetId() != "a1" {
		t.Fatalf("FileApproval (dup) = %v, %v, %v; want a1", a.GetId(), created, err)
	}
	// Approve a1 with a grant.
	_, err = db.UpdateApproval(ctx, "a1", func(a *interlockv1.Approval) ([]AuditRecord, error) {
		a.State = interlockv1.ApprovalState_APPROVAL_STATE_APPROVED
		a.Decisions = append(a.Decisions, &interlockv1.ApprovalDecision{Approver: "alice", Approve: true, Time: timestamppb.New(now)})
		a.GrantUntil = timestamppb.New(now.Add(time.Hour))
		return []AuditRecord{{Time: now, Actor: "alice", Action: "approval.decide", Object: "a1"}}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, created, err = db.FileApproval(ctx, "id", newApproval("a3", now.Add(time.Minute), "fp"), now.Add(time.Minute), rec)
	if err != nil || created || a.GetId() != "a1" {
		t.Fatalf("FileApproval within grant = %v, %v, %v; want a1", a.GetId(), created, err)
	}
	later := now.Add(2 * time.Hour)
	a, created, err = db.FileApproval(ctx, "id", newApproval("a4", later, "fp"), later, AuditRecord{Object: "a4"})
	if err != nil || !created || a.GetId() != "a4" {
		t.Fatalf("FileApproval after grant = %v, %v, %v; want new a4", a.GetId(), created, err)
	}
	// A failing update stores nothing.
	boom := errors.New("boom")
	if _, err := db.UpdateApproval(ctx, "a4", func(a *interlockv1.Approval) ([]AuditRecord, error) {
		a.State = interlockv1.ApprovalState_APPROVAL_STATE_DENIED
		return nil, boom
	}); !errors.Is(err, boom) {
		t.Fatalf("UpdateApproval = %v, want boom", err)
	}
	expired, err := db.ExpireApprovals(ctx, later.Add(2*time.Minute), "control")
	if err != nil || len(expired) != 1 || expired[0].GetId() != "a4" {
		t.Fatalf("ExpireApprovals = %v, %v; want a4", expired, err)
	}
	got, err := db.Approval(ctx, "a4")
	if err != nil || got.GetState() != interlockv1.ApprovalState_APPROVAL_STATE_EXPIRED {
		t.Fatalf("a4 = %v, %v; want expired", got, err)
	}
	recs, err := db.AuditRecords(ctx, "a1")
	if err != nil || len(recs) != 2 || recs[1].Action != "approval.decide" {
		t.Errorf("audit of a1 = %+v, %v", recs, err)
	}
	// Paging newest first.
	for i := range 5 {
		id := fmt.Sprintf("p%d", i)
		if _, _, err := db.FileApproval(ctx, id, newApproval(id, later.Add(time.Duration(i)*time.Second), id), later, AuditRecord{Object: id}); err != nil {
			t.Fatal(err)
		}
	}
	var ids []string
	cur := ""
	for {
		page, next, err := db.Approvals(ctx, ApprovalQuery{State: interlockv1.ApprovalState_APPROVAL_STATE_PENDING, Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page {
			ids = append(ids, a.GetId())
		}
		if next == "" {
			break
		}
		cur = next
	}
	if want := "[p4 p3 p2 p1 p0]"; fmt.Sprint(ids) != want {
		t.Errorf("pending pages = %v, want %s", ids, want)
	}
	if _, _, err := db.Approvals(ctx, ApprovalQuery{Cursor: "garbage!"}); !errors.Is(err, ErrBadCursor) {
		t.Errorf("bad cursor = %v, want ErrBadCursor", err)
	}
}

func chunk(node string, seq uint64, data string) Chunk {
	h := sha256.Sum256([]byte(data))
	return Chunk{Node: node, Seq: seq, SHA256: h[:], Data: []byte(data), Events: 1}
}

func opened(at time.Time, target string) func(*interlockv1.SessionSummary) {
	return func(s *interlockv1.SessionSummary) {
		s.Opened = timestamppb.New(at)
		s.Target = target
		s.Events++
	}
}

func TestChunks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, dir)
	now := time.Now()
	upd := []SessionUpdate{{ID: "s1", Apply: opened(now, "arm"), Operations: []string{"op/read"}, Decisions: []interlockv1.Action{interlockv1.Action_ACTION_ALLOW}}}
	tests := []struct {
		name  string
		c     Chunk
		upd   []SessionUpdate
		dup   bool
		err   error
		gapAt uint64
	}{
		{"first", chunk("n1", 1, "one"), upd, false, nil, 0},
		{"duplicate", chunk("n1", 1, "one"), upd, true, nil, 0},
		{"mismatch", chunk("n1", 1, "uno"), upd, false, ErrChunkMismatch, 0},
		{"gap", chunk("n1", 3, "three"), upd, false, nil, 1},
		{"foreign session", chunk("n2", 1, "x"), upd, false, ErrForeignSession, 0},
		{"second", chunk("n1", 2, "two"), []SessionUpdate{{ID: "s1", Apply: func(s *interlockv1.SessionSummary) { s.Events++ }}}, false, nil, 0},
		{"bad node", chunk("../n1", 1, "x"), nil, false, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dup, err := db.PutChunk(ctx, tt.c, tt.upd)
			var gap *GapError
			switch {
			case tt.gapAt != 0:
				if !errors.As(err, &gap) || gap.Have != tt.gapAt {
					t.Fatalf("PutChunk = %v, want a gap after %d", err, tt.gapAt)
				}
			case tt.name == "bad node":
				if err == nil {
					t.Fatal("PutChunk with node ../n1 succeeded")
				}
			case !errors.Is(err, tt.err) || dup != tt.dup:
				t.Fatalf("PutChunk = %v, %v; want %v, %v", dup, err, tt.dup, tt.err)
			}
		})
	}
	db.Close()
	// Everything survives a reopen.
	db = open(t, dir)
	last, err := db.LastChunk(ctx, "n1")
	if err != nil || last != 2 {
		t.Fatalf("LastChunk = %d, %v; want 2", last, err)
	}
	b, err := db.ChunkData(ctx, "n1", 2)
	if err != nil || string(b) != "two" {
		t.Fatalf("ChunkData = %q, %v", b, err)
	}
	refs, err := db.SessionChunks(ctx, "s1")
	if err != nil || len(refs) != 2 {
		t.Fatalf("SessionChunks = %v, %v", refs, err)
	}
	for i, r := range refs {
		sum := sha256.Sum256([]byte([]string{"one", "two"}[i]))
		if r.Node != "n1" || r.Seq != uint64(i+1) || r.Leaf != uint64(i) || !bytes.Equal(r.SHA256, sum[:]) {
			t.Errorf("SessionChunks[%d] = %+v", i, r)
		}
	}
	s, err := db.Session(ctx, "s1")
	if err != nil || s.GetEvents() != 2 || s.GetNode() != "n1" {
		t.Fatalf("Session = %v, %v; want 2 events on n1", s, err)
	}
	if _, err := db.ChunkData(ctx, "n1", 9); !errors.Is(err, ErrNotFound) {
		t.Errorf("ChunkData(9) = %v, want ErrNotFound", err)
	}
	// No temporary files are left beside the chunks.
	left, _ := filepath.Glob(filepath.Join(dir, "chunks", "n1", ".tmp-*"))
	if len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

func TestSessionFilters(t *testing.T) {
	ctx := context.Background()
	db := open(t, t.TempDir())
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	sessions := []struct {
		id, node, workload, subject, target, op string
		decision                                interlockv1.Action
	}{
		{"s1", "n1", "billing", "app-1", "arm", "Microsoft.Storage/storageAccounts/listKeys/action", interlockv1.Action_ACTION_ALLOW},
		{"s2", "n1", "billing", "app-2", "orders-db", "SELECT", interlockv1.Action_ACTION_DENY},
		{"s3", "n2", "reports", "app-1", "arm", "Microsoft.Resources/subscriptions/resourceGroups/delete", interlockv1.Action_ACTION_DENY},
	}
	seq := map[string]uint64{}
	for i, s := range sessions {
		seq[s.node]++
		at := t0.Add(time.Duration(i) * time.Minute)
		u := SessionUpdate{
			ID: s.id,
			Apply: func(sum *interlockv1.SessionSummary) {
				sum.Opened = timestamppb.New(at)
				sum.Target = s.target
				sum.Workload = &interlockv1.Workload{Name: s.workload}
				sum.Identity = &interlockv1.Identity{Subject: s.subject}
			},
			Operations: []string{s.op},
			Decisions:  []interlockv1.Action{s.decision},
		}
		if _, err := db.PutChunk(ctx, chunk(s.node, seq[s.node], s.id), []SessionUpdate{u}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name string
		f    *interlockv1.SessionFilter
		want string
	}{
		{"all", nil, "[s3 s2 s1]"},
		{"identity", &interlockv1.SessionFilter{Identity: "app-1"}, "[s3 s1]"},
		{"workload", &interlockv1.SessionFilter{Workload: "billing"}, "[s2 s1]"},
		{"target", &interlockv1.SessionFilter{Target: "orders-db"}, "[s2]"},
		{"operation", &interlockv1.SessionFilter{Operation: "SELECT"}, "[s2]"},
		{"decision", &interlockv1.SessionFilter{Decision: interlockv1.Action_ACTION_DENY}, "[s3 s2]"},
		{"node", &interlockv1.SessionFilter{Node: "n2"}, "[s3]"},
		{"since", &interlockv1.SessionFilter{Since: timestamppb.New(t0.Add(time.Minute))}, "[s3 s2]"},
		{"until", &interlockv1.SessionFilter{Until: timestamppb.New(t0.Add(time.Minute))}, "[s1]"},
		{"combined", &interlockv1.SessionFilter{Identity: "app-1", Decision: interlockv1.Action_ACTION_DENY}, "[s3]"},
		{"none", &interlockv1.SessionFilter{Workload: "nobody"}, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			cur := ""
			for {
				page, next, err := db.Sessions(ctx, tt.f, 1, cur)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range page {
					ids = append(ids, s.GetSessionId())
				}
				if next == "" {
					break
				}
				cur = next
			}
			if got := fmt.Sprint(ids); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Session(nope) = %v, want ErrNotFound", err)
	}
}
