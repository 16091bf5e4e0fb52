// SPDX-License-Identifier: Apache-2.0

// The embedded store: opening, closing and transactions.

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"sync"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver, pure Go
)

// Errors callers branch on.
var (
	// ErrNotFound: the node, token, bundle, approval or session does not exist.
	ErrNotFound = errors.New("not found")
	// ErrVersionConflict: a policy push expected another current version.
	ErrVersionConflict = errors.New("policy version conflict")
	// ErrTokenInvalid: the bootstrap token is unknown, used or expired.
	ErrTokenInvalid = errors.New("bootstrap token invalid, used or expired")
	// ErrChunkMismatch: a chunk with this seq is stored with another sha256.
	ErrChunkMismatch = errors.New("chunk stored with a different sha256")
	// ErrForeignSession: a chunk holds events of another node's session.
	ErrForeignSession = errors.New("session belongs to another node")
)

// GapError says a chunk does not follow the node's last stored chunk.
type GapError struct {
	// Have is the highest seq stored for the node; upload resumes at Have+1.
	Have uint64
	Got  uint64
}

func (e *GapError) Error() string {
	return fmt.Sprintf("chunk seq %d out of order: have up to %d, resume from %d", e.Got, e.Have, e.Have+1)
}

// DB is the embedded store.
type DB struct {
	db   *sql.DB
	dir  string // holds state.db and chunks/
	wmu  sync.Mutex
	once sync.Once
}

// BusyTimeoutMillis is how long a writer waits for another's lock.
const BusyTimeoutMillis = 10000

// Open opens (creating if needed) the store in dir, with mode 0700, and
// migrates its schema to the current version.
func Open(ctx context.Context, dir string) (*DB, error) {
	if err := os.MkdirAll(filepath.Join(dir, "chunks"), 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", BusyTimeoutMillis))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	q.Set("_txlock", "immediate")
	dsn := "file:" + filepath.Join(dir, "state.db") + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open: %w", err)
	}
	s := &DB{db: db, dir: dir}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	if err := os.Chmod(filepath.Join(dir, "state.db"), 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %w", err)
	}
	return s, nil
}

// Close closes the database. A second call returns net.ErrClosed.
func (s *DB) Close() error {
	err := net.ErrClosed
	s.once.Do(func() { err = s.db.Close() })
	return err
}

// write runs fn in a write transaction, one at a time in this process.
func (s *DB) write(ctx context.Context, fn func(tx *sql.Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
