// SPDX-License-Identifier: Apache-2.0

// Roles and databases: the password role at start, and databases that
// tests sharing a server create to keep their data apart.

package pgtest

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// createRole creates the password role and the database it owns.
func (s *Server) createRole(ctx context.Context) error {
	return s.admin(ctx, "create role",
		"CREATE ROLE "+ident(s.role)+" LOGIN PASSWORD "+literal(s.password),
		"CREATE DATABASE "+ident(s.database)+" OWNER "+ident(s.role),
	)
}

// checkTLS connects with DSN and checks that the server sees TLS.
func (s *Server) checkTLS(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		return fmt.Errorf("connect over tls: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var ssl bool
	err = conn.QueryRow(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl)
	if err != nil {
		return fmt.Errorf("query pg_stat_ssl: %w", err)
	}
	if !ssl {
		return fmt.Errorf("connection over tls: server reports ssl = false")
	}
	return nil
}

// CreateDatabase creates database name, owned by User, and returns its
// DSN. name must be 1 to 63 of [a-z0-9_], not starting with a digit.
func (s *Server) CreateDatabase(ctx context.Context, name string) (string, error) {
	if err := checkName("database", name); err != nil {
		return "", fmt.Errorf("pgtest: create database: %w", err)
	}
	if err := s.admin(ctx, "create database",
		"CREATE DATABASE "+ident(name)+" OWNER "+ident(s.role)); err != nil {
		return "", fmt.Errorf("pgtest: %w", err)
	}
	return s.DatabaseDSN(name), nil
}

// DropDatabase drops database name if it exists, ending its sessions.
func (s *Server) DropDatabase(ctx context.Context, name string) error {
	if err := checkName("database", name); err != nil {
		return fmt.Errorf("pgtest: drop database: %w", err)
	}
	if err := s.admin(ctx, "drop database",
		"DROP DATABASE IF EXISTS "+ident(name)+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("pgtest: %w", err)
	}
	return nil
}

// admin runs statements, one at a time, as the superuser.
func (s *Server) admin(ctx context.Context, what string, stmts ...string) error {
	conn, err := pgx.Connect(ctx, s.AdminDSN())
	if err != nil {
		return fmt.Errorf("%s: connect: %w", what, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	for _, q := range stmts {
		if _, err := conn.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
	}
	return nil
}

func ident(name string) string { return pgx.Identifier{name}.Sanitize() }

// literal quotes a string constant (standard_conforming_strings is on).
func literal(v string) string { return "'" + strings.ReplaceAll(v, "'", "''") + "'" }
