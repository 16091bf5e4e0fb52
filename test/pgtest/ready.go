// SPDX-License-Identifier: Apache-2.0

// Waiting for a starting server to accept connections.

package pgtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// pollInterval is how often waitReady retries a connection.
const pollInterval = 20 * time.Millisecond

// exitedError reports a postmaster that exited before it was ready; Log
// holds what it wrote during this attempt.
type exitedError struct {
	Err error // Wait's result
	Log []byte
}

func (e *exitedError) Error() string {
	return fmt.Sprintf("postgres exited before accepting connections (%v)", e.Err)
}

func (e *exitedError) Unwrap() error { return e.Err }

// portInUse reports whether the postmaster exited because another process
// took its port first.
func (e *exitedError) portInUse() bool {
	return bytes.Contains(e.Log, []byte("Address already in use")) &&
		bytes.Contains(e.Log, []byte("could not create any TCP/IP sockets"))
}

// waitReady polls a real connection as the superuser over the unix socket
// until one succeeds, the postmaster exits, or ctx ends. logFrom is the
// log's size when this postmaster started.
func (s *Server) waitReady(ctx context.Context, logFrom int64) error {
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	for {
		err := s.ping(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-s.proc.done:
			return &exitedError{Err: s.proc.err, Log: readFrom(s.LogPath(), logFrom)}
		case <-ctx.Done():
			return fmt.Errorf("wait for postgres: %w (last attempt: %v)", context.Cause(ctx), err)
		case <-t.C:
		}
	}
}

// ping connects as the superuser and runs a query.
func (s *Server) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var one int
	return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// readFrom returns the file's bytes from offset on, or a note why not.
func readFrom(path string, offset int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return []byte(err.Error())
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return []byte(err.Error())
	}
	b, err := io.ReadAll(f)
	if err != nil {
		b = append(b, err.Error()...)
	}
	return b
}

// logTail is the end of the server's log, at most n bytes, for errors.
func logTail(path string, n int64) string {
	fi, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	from := max(fi.Size()-n, 0)
	return string(readFrom(path, from))
}
