// SPDX-License-Identifier: Apache-2.0

// Package pgtest runs a throwaway PostgreSQL server for tests, the demo and
// benchmarks: initdb and postgres in a fresh temporary directory, TLS on
// with a certificate from a test CA (package testca), one password role
// that owns one database, and nothing listening beyond 127.0.0.1 and a unix
// socket inside that directory.
//
// New starts a server and returns an error; Start does the same for one
// test and closes the server when the test ends; Shared lets a package's
// TestMain own one server that all its tests use, and NewDatabase gives a
// test its own database on it.
//
// Sharp edges:
//   - As root, PostgreSQL refuses to run, so initdb and postgres run as the
//     OS user "postgres" (or "nobody"; see Options.OSUser). As any other
//     user they run as that user.
//   - Only TLS connections over TCP are accepted (hostssl, scram-sha-256);
//     a plaintext TCP connection is refused by pg_hba.conf. The superuser
//     "postgres" has no password: it connects over the unix socket only,
//     with trust authentication (Server.AdminDSN).
//   - The unix socket lives in the temporary directory. Its path must stay
//     under 108 bytes, so keep TMPDIR short.
//   - The caller must Close a server from New. Close is idempotent: later
//     calls return net.ErrClosed. If the test binary dies without Close (a
//     panic in a test goroutine, a timeout, SIGKILL), the kernel sends the
//     postmaster SIGINT (Pdeathsig) and it shuts down on its own; the
//     temporary directory stays behind until a later New in any process
//     sweeps directories whose owner has died.
//   - Starting costs an initdb, about a second or two; share a server where
//     tests can (Shared, NewDatabase).
//
// A *Server is safe for concurrent use; its fields do not change after New.
package pgtest
