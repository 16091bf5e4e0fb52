// SPDX-License-Identifier: Apache-2.0

// Helpers for tests: a server per test (Start), one per package (Shared),
// and a database per test on a shared server (NewDatabase).

package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
)

// Start starts a server for t alone and closes it when t and its subtests
// end. Missing binaries skip t, or fail it under CI=true (testenv.Skip);
// any other error fails it.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), DefaultStartTimeout)
	defer cancel()
	srv, err := New(ctx, opts)
	if errors.Is(err, ErrNotInstalled) {
		testenv.Skip(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			t.Error(err)
		}
	})
	return srv
}

// Shared is one server that all tests of a package share. The package's
// TestMain owns it:
//
//	var pg = pgtest.Shared{Options: pgtest.Options{ /* ... */ }}
//
//	func TestMain(m *testing.M) { os.Exit(pg.Main(m)) }
//
//	func TestX(t *testing.T) {
//		srv := pg.Server(t)
//		// ...
//	}
//
// Main writes the server once, before any test runs; after that Server
// is safe to call from parallel tests.
type Shared struct {
	// Options configure the server. Set them before Main.
	Options Options

	srv *Server // written by Main before m.Run, then read-only
	err error   // why srv is nil
}

// Main starts the server, runs the tests and stops the server, also when
// m.Run panics. Pass its result to os.Exit. If the server does not start,
// the tests still run and Server skips or fails each that asks for it; a
// failed Close turns a passing run into exit code 1.
//
// If the process dies without Main returning (a panic in a test goroutine,
// a -timeout), the postmaster still gets SIGINT from the kernel and stops.
func (s *Shared) Main(m *testing.M) (code int) {
	if !flag.Parsed() {
		flag.Parse() // for testing.Verbose; m.Run would parse them anyway
	}
	ctx, cancel := context.WithTimeout(context.Background(), DefaultStartTimeout)
	start := time.Now()
	s.srv, s.err = New(ctx, s.Options)
	cancel()
	if s.err != nil {
		fmt.Fprintf(os.Stderr, "pgtest: shared server did not start: %v\n", s.err)
		return m.Run()
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "pgtest: shared server on %s started in %v\n", s.srv.Addr(), time.Since(start).Round(time.Millisecond))
	}
	defer func() {
		if err := s.srv.Close(); err != nil {
			fmt.Fprintf(os.Stderr, "%v\n", err)
			if code == 0 {
				code = 1
			}
		}
	}()
	return m.Run()
}

// Server returns the shared server. If Main could not start it, Server
// skips t when the binaries are missing (fails under CI=true) and fails t
// otherwise. Tests must not Close it.
func (s *Shared) Server(t testing.TB) *Server {
	t.Helper()
	switch {
	case s.srv != nil:
		return s.srv
	case errors.Is(s.err, ErrNotInstalled):
		testenv.Skip(t, "%v", s.err)
	case s.err != nil:
		t.Fatalf("shared server did not start: %v", s.err)
	default:
		t.Fatal("pgtest: Shared.Server called, but TestMain did not call Shared.Main")
	}
	return nil
}

// NewDatabase creates a database with a random name on srv for t, drops
// it when t ends, and returns its DSN.
func NewDatabase(t testing.TB, srv *Server) string {
	t.Helper()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "t_" + hex.EncodeToString(b)
	dsn, err := srv.CreateDatabase(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// t.Context is done by now.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.DropDatabase(ctx, name); err != nil {
			t.Error(err)
		}
	})
	return dsn
}
