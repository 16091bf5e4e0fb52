// SPDX-License-Identifier: Apache-2.0

// Uploaded chunks: one file per chunk (fsync + rename), one row per chunk,
// the sessions index and the chunk's audit log leaf in the same
// transaction.

package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/interlockhq/interlock/control/auditlog"
	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
)

// Chunk is one uploaded chunk.
type Chunk struct {
	Node string
	Seq  uint64
	// SHA256 is the digest of Data.
	SHA256 []byte
	// Data is the zstd-compressed EventBatch exactly as uploaded.
	Data             []byte
	Events           uint32
	UncompressedSize uint64
}

// SessionUpdate is what one chunk adds to one session's index entry.
type SessionUpdate struct {
	ID string
	// Apply merges the chunk's events into the summary; a new session's
	// summary arrives with SessionId and Node set.
	Apply func(s *interlockv1.SessionSummary)
	// Operations and Decisions are searchable values the chunk adds.
	Operations []string
	Decisions  []interlockv1.Action
}

var safeNode = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$`)

// PutChunk stores c, applies updates to the sessions index and appends
// the chunk's leaf to the audit log, unless a chunk with c's node and seq
// is already stored: then it returns dup=true with the same sha256,
// ErrChunkMismatch with another. A seq other than the node's last plus one
// returns a *GapError; events of another node's session return
// ErrForeignSession.
func (s *DB) PutChunk(ctx context.Context, c Chunk, updates []SessionUpdate) (dup bool, err error) {
	if !safeNode.MatchString(c.Node) {
		return false, fmt.Errorf("store: node id %q is not a safe file name", c.Node)
	}
	sum := sha256.Sum256(c.Data)
	if !bytes.Equal(sum[:], c.SHA256) {
		return false, fmt.Errorf("store: chunk %d: SHA256 is not the digest of Data", c.Seq)
	}
	err = s.write(ctx, func(tx *sql.Tx) error {
		var have []byte
		err := tx.QueryRowContext(ctx, "SELECT sha256 FROM chunks WHERE node = ? AND seq = ?", c.Node, c.Seq).Scan(&have)
		if err == nil {
			if !bytes.Equal(have, c.SHA256) {
				return fmt.Errorf("store: chunk %d: %w", c.Seq, ErrChunkMismatch)
			}
			dup = true
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: find chunk: %w", err)
		}
		last, err := lastChunk(ctx, tx, c.Node)
		if err != nil {
			return err
		}
		if c.Seq != last+1 {
			return &GapError{Have: last, Got: c.Seq}
		}
		rel := filepath.Join("chunks", c.Node, fmt.Sprintf("%020d.zst", c.Seq))
		if err := writeFileSync(filepath.Join(s.dir, rel), c.Data); err != nil {
			return fmt.Errorf("store: write chunk: %w", err)
		}
		leaf, err := logSize(ctx, tx)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO chunks (node, seq, sha256, path, events, size, uncompressed_size, stored, leaf)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.Node, c.Seq, c.SHA256, rel, c.Events, len(c.Data), c.UncompressedSize, time.Now().UnixNano(), leaf)
		if err != nil {
			return fmt.Errorf("store: insert chunk: %w", err)
		}
		ids := make([]string, 0, len(updates))
		for _, u := range updates {
			if err := updateSession(ctx, tx, c, u); err != nil {
				return err
			}
			ids = append(ids, u.ID)
		}
		return appendLeaf(ctx, tx, leaf, auditlog.ChunkLeaf{Node: c.Node, Seq: c.Seq, SHA256: sum, Sessions: ids}.Encode())
	})
	return dup, err
}

// LastChunk returns the highest seq stored for node, 0 for none.
func (s *DB) LastChunk(ctx context.Context, node string) (uint64, error) {
	var seq uint64
	err := s.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM chunks WHERE node = ?", node).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("store: last chunk: %w", err)
	}
	return seq, nil
}

// ChunkData returns the stored bytes of one chunk, or ErrNotFound.
func (s *DB) ChunkData(ctx context.Context, node string, seq uint64) ([]byte, error) {
	var rel string
	err := s.db.QueryRowContext(ctx, "SELECT path FROM chunks WHERE node = ? AND seq = ?", node, seq).Scan(&rel)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("store: find chunk: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(s.dir, rel))
	if err != nil {
		return nil, fmt.Errorf("store: read chunk: %w", err)
	}
	return b, nil
}

// ChunkRef names a stored chunk.
type ChunkRef struct {
	Node string
	Seq  uint64
	// Leaf is the chunk's index in the audit log.
	Leaf uint64
	// SHA256 is the digest of the chunk's stored bytes.
	SHA256 []byte
}

// SessionChunks returns the chunks that hold events of a session, in
// upload order.
func (s *DB) SessionChunks(ctx context.Context, sessionID string) ([]ChunkRef, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sc.node, sc.seq, COALESCE(c.leaf, -1), c.sha256
		FROM session_chunks sc JOIN chunks c ON c.node = sc.node AND c.seq = sc.seq
		WHERE sc.session_id = ? ORDER BY sc.node, sc.seq`, sessionID)
	if err != nil {
		return nil, fmt.Errorf("store: session chunks: %w", err)
	}
	defer rows.Close()
	var out []ChunkRef
	for rows.Next() {
		var r ChunkRef
		var leaf int64
		if err := rows.Scan(&r.Node, &r.Seq, &leaf, &r.SHA256); err != nil {
			return nil, fmt.Errorf("store: scan session chunk: %w", err)
		}
		if leaf < 0 {
			return nil, fmt.Errorf("store: chunk %s/%d has no log leaf", r.Node, r.Seq)
		}
		r.Leaf = uint64(leaf)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: session chunks: %w", err)
	}
	return out, nil
}

func lastChunk(ctx context.Context, tx *sql.Tx, node string) (uint64, error) {
	var seq uint64
	if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(seq), 0) FROM chunks WHERE node = ?", node).Scan(&seq); err != nil {
		return 0, fmt.Errorf("store: last chunk: %w", err)
	}
	return seq, nil
}

// updateSession merges u into the session's index entry.
func updateSession(ctx context.Context, tx *sql.Tx, c Chunk, u SessionUpdate) error {
	sum := &interlockv1.SessionSummary{}
	var blob []byte
	err := tx.QueryRowContext(ctx, "SELECT summary FROM sessions WHERE id = ?", u.ID).Scan(&blob)
	switch {
	case err == nil:
		if err := proto.Unmarshal(blob, sum); err != nil {
			return fmt.Errorf("store: decode session: %w", err)
		}
		if sum.GetNode() != c.Node {
			return fmt.Errorf("store: session %s: %w", u.ID, ErrForeignSession)
		}
	case errors.Is(err, sql.ErrNoRows):
		sum.SessionId, sum.Node = u.ID, c.Node
	default:
		return fmt.Errorf("store: find session: %w", err)
	}
	if u.Apply != nil {
		u.Apply(sum)
	}
	blob, err = proto.MarshalOptions{Deterministic: true}.Marshal(sum)
	if err != nil {
		return fmt.Errorf("store: marshal session: %w", err)
	}
	id := sum.GetIdentity()
	_, err = tx.ExecContext(ctx, `INSERT INTO sessions (id, node, workload, subject, app_id, object_id, target, opened, summary)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET workload = excluded.workload, subject = excluded.subject,
			app_id = excluded.app_id, object_id = excluded.object_id, target = excluded.target,
			opened = excluded.opened, summary = excluded.summary`,
		u.ID, c.Node, sum.GetWorkload().GetName(), id.GetSubject(), id.GetAppId(), id.GetObjectId(),
		sum.GetTarget(), sum.GetOpened().AsTime().UnixNano(), blob)
	if err != nil {
		return fmt.Errorf("store: upsert session: %w", err)
	}
	for _, op := range u.Operations {
		if err := addTerm(ctx, tx, u.ID, "operation", op); err != nil {
			return err
		}
	}
	for _, d := range u.Decisions {
		if err := addTerm(ctx, tx, u.ID, "decision", d.String()); err != nil {
			return err
		}
	}
	_, err = tx.ExecContext(ctx, "INSERT OR IGNORE INTO session_chunks (session_id, node, seq) VALUES (?, ?, ?)", u.ID, c.Node, c.Seq)
	if err != nil {
		return fmt.Errorf("store: link session chunk: %w", err)
	}
	return nil
}

func addTerm(ctx context.Context, tx *sql.Tx, id, kind, value string) error {
	_, err := tx.ExecContext(ctx, "INSERT OR IGNORE INTO session_terms (session_id, kind, value) VALUES (?, ?, ?)", id, kind, value)
	if err != nil {
		return fmt.Errorf("store: add session %s: %w", kind, err)
	}
	return nil
}

// writeFileSync writes b to path durably: a temporary file in the same
// directory, fsync'd, renamed over path, and the directory fsync'd.
func writeFileSync(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
