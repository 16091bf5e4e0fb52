// SPDX-License-Identifier: Apache-2.0

// Server and what it tells clients: address, credentials, DSNs, files.

package pgtest

import (
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

// Host is the only TCP address a server listens on.
const Host = "127.0.0.1"

// Server is a running PostgreSQL server made by New. Its methods are safe
// for concurrent use; Close stops it and removes its directory.
type Server struct {
	dir         string // temporary directory holding everything below
	binDir      string
	port        int
	role        string
	password    string
	database    string
	ca          *testca.CA
	stopTimeout time.Duration
	proc        *proc // the postmaster; nil until it has started

	closeOnce sync.Once
}

// Layout of the temporary directory.
const (
	dataSubdir   = "data"         // PGDATA, made by initdb
	socketSubdir = "sock"         // unix_socket_directories, 0700
	caFile       = "ca.pem"       // the CA bundle for sslrootcert, 0644
	certFile     = "server.crt"   // owned by the server user
	keyFile      = "server.key"   // owned by the server user, 0600
	logFile      = "postgres.log" // the postmaster's stdout and stderr
	initdbLog    = "initdb.log"
	ownerFile    = "owner.pid" // pid of the process that made the directory
)

// Port is the TCP port the server listens on at Host.
func (s *Server) Port() int { return s.port }

// Host is the address the server listens on, always "127.0.0.1".
func (s *Server) Host() string { return Host }

// Addr is Host:Port.
func (s *Server) Addr() string { return net.JoinHostPort(Host, strconv.Itoa(s.port)) }

// User is the password role, which owns Database.
func (s *Server) User() string { return s.role }

// Password is User's password, random per server.
func (s *Server) Password() string { return s.password }

// Database is the database that DSN names.
func (s *Server) Database() string { return s.database }

// CA is the authority that issued the server certificate.
func (s *Server) CA() *testca.CA { return s.ca }

// CAFile is the path of the CA bundle (PEM) that DSN names as sslrootcert.
func (s *Server) CAFile() string { return filepath.Join(s.dir, caFile) }

// LogPath is the path of the server's log (its stdout and stderr).
func (s *Server) LogPath() string { return filepath.Join(s.dir, logFile) }

// Dir is the temporary directory that Close removes.
func (s *Server) Dir() string { return s.dir }

// DataDir is the server's PGDATA.
func (s *Server) DataDir() string { return filepath.Join(s.dir, dataSubdir) }

// SocketDir is the directory holding the server's unix socket.
func (s *Server) SocketDir() string { return filepath.Join(s.dir, socketSubdir) }

// BinDir is the directory initdb and postgres were run from.
func (s *Server) BinDir() string { return s.binDir }

// PID is the postmaster's process id.
func (s *Server) PID() int { return s.proc.cmd.Process.Pid }

// DSN is a keyword/value connection string for User on Database over TLS
// with sslmode=verify-full against CAFile, which pgx and libpq (psql)
// both accept.
func (s *Server) DSN() string { return s.DatabaseDSN(s.database) }

// DatabaseDSN is DSN for another database, such as one from
// CreateDatabase.
func (s *Server) DatabaseDSN(database string) string {
	return dsn(
		"host", Host,
		"port", strconv.Itoa(s.port),
		"user", s.role,
		"password", s.password,
		"dbname", database,
		"sslmode", "verify-full",
		"sslrootcert", s.CAFile(),
	)
}

// AdminDSN is a connection string for the superuser AdminRole over the
// unix socket (trust authentication, no TLS), for setup that needs
// superuser rights.
func (s *Server) AdminDSN() string {
	return dsn(
		"host", s.SocketDir(),
		"port", strconv.Itoa(s.port),
		"user", AdminRole,
		"dbname", "postgres",
		"sslmode", "disable",
	)
}

// dsn joins keyword/value pairs, quoting values as libpq's conninfo
// parser expects: in single quotes, with \ and ' escaped by a backslash.
func dsn(kv ...string) string {
	var b strings.Builder
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(kv[i])
		b.WriteByte('=')
		b.WriteString(quoteValue(kv[i+1]))
	}
	return b.String()
}

func quoteValue(v string) string {
	if v != "" && !strings.ContainsAny(v, " \t\n\r\v\f'\\") {
		return v
	}
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`)
	return "'" + r.Replace(v) + "'"
}
