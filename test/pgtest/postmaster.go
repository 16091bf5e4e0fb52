// SPDX-License-Identifier: Apache-2.0

// Starting the postmaster on a free port.

package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// maxPortAttempts bounds the retries when another process takes the port
// between picking it and the postmaster binding it.
const maxPortAttempts = 5

// startPostmaster starts postgres on a free port and waits until it
// accepts connections, picking another port if one was taken meanwhile.
func (s *Server) startPostmaster(ctx context.Context, u osUser, pickPort func() (int, error)) error {
	for attempt := 1; ; attempt++ {
		port, err := pickPort()
		if err != nil {
			return err
		}
		s.port = port
		logFrom, err := s.launch(u)
		if err != nil {
			return err
		}
		err = s.waitReady(ctx, logFrom)
		if err == nil {
			return nil
		}
		var exited *exitedError
		if errors.As(err, &exited) {
			if exited.portInUse() && attempt < maxPortAttempts {
				continue
			}
			return fmt.Errorf("start postgres: %w; server log (%s):\n%s", err, s.LogPath(), exited.Log)
		}
		return fmt.Errorf("start postgres: %w; server log (%s):\n%s", err, s.LogPath(), logTail(s.LogPath(), 8<<10))
	}
}

// launch starts the postmaster on s.port, appending its output to the
// log, and returns the log's size before it started.
func (s *Server) launch(u osUser) (int64, error) {
	logf, err := os.OpenFile(s.LogPath(), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return 0, fmt.Errorf("open server log: %w", err)
	}
	defer logf.Close() // the child holds its own descriptor
	fi, err := logf.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat server log: %w", err)
	}
	cmd := s.command(u, "postgres", "-D", s.DataDir(), "-p", strconv.Itoa(s.port))
	cmd.Stdout, cmd.Stderr = logf, logf
	p, err := startProc(cmd)
	if err != nil {
		return 0, fmt.Errorf("start postgres: %w", err)
	}
	s.proc = p
	return fi.Size(), nil
}

// freePort returns a TCP port on Host that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(Host, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
