// SPDX-License-Identifier: Apache-2.0

// New: from an empty temporary directory to a server that answers over TLS.

package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/interlockhq/interlock/test/testca"
)

// New creates a database cluster in a new temporary directory, starts
// PostgreSQL on it and returns once a TLS connection as User works. ctx
// bounds the start only. On error nothing is left running or on disk; on
// success the caller must Close the server.
//
// When the binaries are missing the error wraps ErrNotInstalled.
func New(ctx context.Context, opts Options) (*Server, error) {
	s, err := newServer(ctx, opts, freePort)
	if err != nil {
		return nil, fmt.Errorf("pgtest: %w", err)
	}
	return s, nil
}

// newServer is New with the port picker as a parameter, for tests that
// make the picked port collide.
func newServer(ctx context.Context, opts Options, pickPort func() (int, error)) (_ *Server, err error) {
	opts, err = opts.withDefaults()
	if err != nil {
		return nil, fmt.Errorf("options: %w", err)
	}
	binDir, err := findBinDir(opts.BinDir, debianBinGlob)
	if err != nil {
		return nil, err
	}
	u, err := lookupOSUser(opts.OSUser)
	if err != nil {
		return nil, err
	}
	ca := opts.CA
	if ca == nil {
		if ca, err = testca.New("pgtest CA"); err != nil {
			return nil, err
		}
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}

	sweepStale(os.TempDir())
	dir, err := os.MkdirTemp("", "pgtest-*")
	if err != nil {
		return nil, fmt.Errorf("make directory: %w", err)
	}
	s := &Server{
		dir:         dir,
		binDir:      binDir,
		role:        opts.Role,
		password:    password,
		database:    opts.Database,
		ca:          ca,
		stopTimeout: opts.StopTimeout,
	}
	defer func() {
		if err != nil {
			// Errors already carry the logs' tails; close removes them.
			_ = s.close()
		}
	}()

	if err := s.prepareDir(u); err != nil {
		return nil, err
	}
	if err := s.initdb(ctx, u); err != nil {
		return nil, err
	}
	if err := s.writeConfig(opts.Settings); err != nil {
		return nil, err
	}
	if err := s.writeTLS(ca, opts.ServerNames, u); err != nil {
		return nil, err
	}
	if err := s.startPostmaster(ctx, u, pickPort); err != nil {
		return nil, err
	}
	if err := s.createRole(ctx); err != nil {
		return nil, err
	}
	if err := s.checkTLS(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// prepareDir readies the temporary directory: readable by all (the CA
// bundle is for any client), owned by u, with a private socket directory
// and a note of which process owns it (for sweepStale).
func (s *Server) prepareDir(u osUser) error {
	if err := os.Chmod(s.dir, 0o755); err != nil {
		return fmt.Errorf("chmod %s: %w", s.dir, err)
	}
	if err := u.chown(s.dir); err != nil {
		return fmt.Errorf("%s: %w", s.dir, err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", ownerFile, err)
	}
	sock := s.SocketDir()
	// sun_path holds 107 bytes; the socket is sock/.s.PGSQL.<port>.
	if n := len(sock) + len("/.s.PGSQL.65535"); n > 107 {
		return fmt.Errorf("socket path in %s would be %d bytes, over the limit of 107: set a shorter TMPDIR", sock, n)
	}
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fmt.Errorf("make socket directory: %w", err)
	}
	if err := u.chown(sock); err != nil {
		return fmt.Errorf("%s: %w", sock, err)
	}
	return nil
}

// randomPassword returns 144 random bits in URL-safe base64, which needs
// no quoting in SQL, DSNs or URLs.
func randomPassword() (string, error) {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random password: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
