// SPDX-License-Identifier: Apache-2.0

// Connecting to the shared server: TLS verified and reported by the
// server, plaintext and bad credentials refused, psql works too.

package pgtest

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/interlockhq/interlock/test/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestTLSVerifyFull(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	conn, err := pgx.Connect(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))

	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Errorf("client connection is %T, want *tls.Conn", conn.PgConn().Conn())
	}
	var (
		ssl           bool
		version, user string
		sum           int
		db            string
	)
	err = conn.QueryRow(ctx,
		`SELECT ssl, version, current_user, current_database(), 40 + 2
		   FROM pg_stat_ssl WHERE pid = pg_backend_pid()`).Scan(&ssl, &version, &user, &db, &sum)
	if err != nil {
		t.Fatal(err)
	}
	if !ssl {
		t.Error("pg_stat_ssl.ssl = false, want true")
	}
	if user != srv.User() || db != srv.Database() || sum != 42 {
		t.Errorf("user, db, sum = %q, %q, %d; want %q, %q, 42", user, db, sum, srv.User(), srv.Database())
	}
	t.Logf("server TLS version %s", version)
}

func TestRefused(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	port := strconv.Itoa(srv.Port())
	tests := []struct {
		name      string
		dsn       string
		wantCode  string // SQLSTATE
		wantInMsg string
	}{
		{
			name: "plaintext",
			dsn: dsn("host", Host, "port", port, "user", srv.User(), "password", srv.Password(),
				"dbname", srv.Database(), "sslmode", "disable"),
			wantCode:  "28000", // invalid_authorization_specification
			wantInMsg: "no encryption",
		},
		{
			name: "wrong password",
			dsn: dsn("host", Host, "port", port, "user", srv.User(), "password", srv.Password()+"x",
				"dbname", srv.Database(), "sslmode", "verify-full", "sslrootcert", srv.CAFile()),
			wantCode:  "28P01", // invalid_password
			wantInMsg: "password authentication failed",
		},
		{
			name: "superuser over tcp",
			dsn: dsn("host", Host, "port", port, "user", AdminRole, "password", "",
				"dbname", "postgres", "sslmode", "verify-full", "sslrootcert", srv.CAFile()),
			wantCode:  "28P01",
			wantInMsg: "password authentication failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			conn, err := pgx.Connect(ctx, tt.dsn)
			if err == nil {
				conn.Close(ctx)
				t.Fatal("connected, want refused")
			}
			var pgErr *pgconn.PgError
			if !errors.As(err, &pgErr) {
				t.Fatalf("error %v is not a server error", err)
			}
			if pgErr.Code != tt.wantCode || !strings.Contains(pgErr.Message, tt.wantInMsg) {
				t.Errorf("got %s %q, want %s containing %q", pgErr.Code, pgErr.Message, tt.wantCode, tt.wantInMsg)
			}
		})
	}
}

// TestServerNames reaches the server by the names in its certificate, as
// the proxy does, with a lookup that maps them to the loopback address.
func TestServerNames(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	tests := []struct {
		host    string
		wantErr bool
	}{
		{host: "localhost"},
		{host: "127.0.0.1"},
		{host: azureName},
		{host: "billing.postgres.database.azure.com", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cfg, err := pgx.ParseConfig(srv.DSN())
			if err != nil {
				t.Fatal(err)
			}
			cfg.Host = tt.host
			cfg.TLSConfig.ServerName = tt.host
			cfg.Fallbacks = nil
			// Never ask DNS: every name is this server.
			cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{Host}, nil }
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if tt.wantErr {
				var certErr *tls.CertificateVerificationError
				if err == nil {
					conn.Close(ctx)
					t.Fatal("connected, want a certificate error")
				}
				if !errors.As(err, &certErr) {
					t.Fatalf("error = %v, want a certificate verification error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close(context.WithoutCancel(ctx))
			if err := conn.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestPsql(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	const psql = "/usr/bin/psql"
	if _, err := os.Stat(psql); err != nil {
		testenv.Skip(t, "needs %s (apt-get install postgresql-client): %v", psql, err)
	}
	tests := []struct {
		query string
		want  string
	}{
		{"SELECT 1", "1"},
		{"SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", "t"},
		{"SHOW ssl", "on"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, psql, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", srv.DSN(), "-c", tt.query)
			// No PG* variables, no ~/.postgresql from the caller.
			cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "LC_ALL=C"}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("psql: %v\n%s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("psql -c %q = %q, want %q", tt.query, got, tt.want)
			}
		})
	}
}

func TestAdminDSN(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, srv.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var super string
	if err := conn.QueryRow(ctx, "SHOW is_superuser").Scan(&super); err != nil {
		t.Fatal(err)
	}
	if super != "on" {
		t.Errorf("is_superuser = %q, want on", super)
	}
	if want := net.JoinHostPort(Host, strconv.Itoa(srv.Port())); srv.Addr() != want {
		t.Errorf("Addr = %q, want %q", srv.Addr(), want)
	}
}
