// SPDX-License-Identifier: Apache-2.0

// Databases that keep the data of tests sharing a server apart.

package pgtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func TestNewDatabaseIsolates(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	a, b := NewDatabase(t, srv), NewDatabase(t, srv)
	connA, err := pgx.Connect(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	defer connA.Close(context.WithoutCancel(ctx))
	if _, err := connA.Exec(ctx, "CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders VALUES (1)"); err != nil {
		t.Fatal(err)
	}

	connB, err := pgx.Connect(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	defer connB.Close(context.WithoutCancel(ctx))
	_, err = connB.Exec(ctx, "SELECT * FROM orders")
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "42P01" { // undefined_table
		t.Errorf("orders in the other database: %v, want undefined_table", err)
	}
}

func TestDropDatabaseEndsSessions(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	dsn, err := srv.CreateDatabase(ctx, "drop_me")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := srv.DropDatabase(ctx, "drop_me"); err != nil {
		t.Fatal(err)
	}
	if err := conn.Ping(ctx); err == nil {
		t.Error("session on a dropped database still works")
	}
	if err := srv.DropDatabase(ctx, "drop_me"); err != nil {
		t.Errorf("second drop: %v, want nil (IF EXISTS)", err)
	}
}

func TestCreateDatabaseRejectsNames(t *testing.T) {
	t.Parallel()
	srv := shared.Server(t)
	for _, name := range []string{"", "Orders", "1st", "a-b", `x"; DROP DATABASE interlock; --`, string(make([]byte, 64))} {
		if _, err := srv.CreateDatabase(t.Context(), name); err == nil {
			t.Errorf("CreateDatabase(%q) = nil error", name)
		}
	}
}
