// SPDX-License-Identifier: Apache-2.0

// The PostgreSQL benchmark's table, query and load client: pgx
// connections (TLS verified, password login) that each look up one
// customer at a time (runConns), with pgx's default statement cache, so
// the statement is parsed once per connection and then bound and
// executed.

package bench

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
)

const (
	// pgServerName is the name the client asks for and every
	// certificate is for.
	pgServerName = "orders.postgres.database.azure.com"
	// pgQuery is what the client runs, with pgCustomer: one row of four
	// columns, one of them the email the policy masks.
	pgQuery    = "SELECT id, name, email, credit FROM customers WHERE id = $1"
	pgCustomer = 42
	// pgMasked is what Interlock sends instead of a masked text value.
	pgMasked = "[MASKED]"
	// pgConnectTimeout bounds a client's connect and login.
	pgConnectTimeout = 30 * time.Second
)

// pgSchema makes and fills the table the client reads.
var pgSchema = []string{
	"CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, email text NOT NULL, credit int NOT NULL)",
	"INSERT INTO customers SELECT i, 'Customer ' || i, 'customer' || i || '@example.com', i * 10 FROM generate_series(1, 1000) i",
}

// pgEmail is the customer's email as the table holds it.
var pgEmail = fmt.Sprintf("customer%d@example.com", pgCustomer)

// pgLoadSpec is what a PostgreSQL load client does.
type pgLoadSpec struct {
	Addr     string `json:"addr"`  // where every connection goes
	CAPEM    []byte `json:"caPEM"` // the CA that issued the certificate for pgServerName
	User     string `json:"user"`
	Password string `json:"password"`
	Database string `json:"database"`
	// Email is the email the client must read back: the customer's, or
	// pgMasked through Interlock.
	Email string `json:"email"`
	loadShape
}

func runPGLoad(ctx context.Context, l pgLoadSpec) (loadResult, error) {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(l.CAPEM) {
		return loadResult{}, errors.New("no CA certificate")
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=verify-full", pgServerName, l.User, l.Database))
	if err != nil {
		return loadResult{}, err
	}
	cfg.Password = l.Password
	cfg.TLSConfig = &tls.Config{ServerName: pgServerName, RootCAs: pool}
	cfg.Fallbacks = nil
	// The name resolves nowhere: every connection goes to l.Addr.
	cfg.LookupFunc = func(context.Context, string) ([]string, error) { return []string{"127.0.0.1"}, nil }
	cfg.DialFunc = func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, l.Addr)
	}
	return runConns(ctx, l.loadShape, func(ctx context.Context) (doer, error) {
		ctx, cancel := context.WithTimeout(ctx, pgConnectTimeout)
		defer cancel()
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return &pgConn{c: c, email: l.Email}, nil
	})
}

// pgConn runs the query on one pgx connection and checks the row.
type pgConn struct {
	c     *pgx.Conn
	email string // what the email column must hold
}

func (p *pgConn) do(ctx context.Context) error {
	var (
		id, credit  int32
		name, email string
	)
	if err := p.c.QueryRow(ctx, pgQuery, pgCustomer).Scan(&id, &name, &email, &credit); err != nil {
		return err
	}
	if id != pgCustomer || credit != pgCustomer*10 || name != fmt.Sprint("Customer ", pgCustomer) || email != p.email {
		return fmt.Errorf("row (%d, %q, %q, %d), want (%d, \"Customer %d\", %q, %d)", id, name, email, credit, pgCustomer, pgCustomer, p.email, pgCustomer*10)
	}
	return nil
}

func (p *pgConn) close() { p.c.Close(context.Background()) }
