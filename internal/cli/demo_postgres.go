// SPDX-License-Identifier: Apache-2.0

// The demo's PostgreSQL part: a throwaway server (test/pgtest) with a
// small customers table, its target and rules in the demo policy, and the
// real psql, unmodified, in the demo's workload: a query (the email
// column masked) and a DROP (blocked).

package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/interlockhq/interlock/test/pgtest"
	"github.com/interlockhq/interlock/test/podsim"
	"github.com/interlockhq/interlock/test/testca"
)

// demoDBHost is the server's name in the demo: the workload's hosts file
// points it at 127.0.0.1, where the throwaway server listens.
const demoDBHost = "crm.postgres.database.azure.com"

// demoCustomers are the rows of the demo table: name, email.
var demoCustomers = [][2]string{
	{"Ada Lovelace", "ada@analytical.example"},
	{"Grace Hopper", "grace@cobol.example"},
	{"Alan Turing", "alan@bletchley.example"},
}

// demoDB is the demo's PostgreSQL server and the psql that talks to it.
type demoDB struct {
	srv  *pgtest.Server
	psql string
}

// startDemoDB starts a throwaway PostgreSQL with the customers table, its
// certificate issued by ca (the fake Azure's, which the node trusts). It
// returns nil, saying why, when PostgreSQL's binaries are not installed
// or the server cannot start: the demo goes on without its PostgreSQL
// steps. The caller closes what it returns.
func startDemoDB(ctx context.Context, ca *testca.CA, say func(string, ...any)) *demoDB {
	skip := func(why string) *demoDB {
		say("   PostgreSQL: %s, so the customers table steps will be SKIPPED", why)
		say("   (sudo make deps, or apt-get install postgresql postgresql-client, installs them).")
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	srv, err := pgtest.New(sctx, pgtest.Options{ServerNames: []string{demoDBHost}, CA: ca, Database: "crm", Role: "agent"})
	if errors.Is(err, pgtest.ErrNotInstalled) {
		return skip("its server binaries (initdb, postgres) are not installed")
	}
	if err != nil {
		return skip(fmt.Sprintf("a throwaway server did not start (%v)", err))
	}
	db := &demoDB{srv: srv, psql: filepath.Join(srv.BinDir(), "psql")}
	if _, err := os.Stat(db.psql); err != nil {
		if db.psql, err = exec.LookPath("psql"); err != nil {
			srv.Close()
			return skip("psql is not installed")
		}
	}
	if err := db.seed(sctx); err != nil {
		srv.Close()
		return skip(fmt.Sprintf("the customers table could not be made (%v)", err))
	}
	say("   PostgreSQL: a throwaway server (in %s) stands in for Azure Database for", srv.Dir())
	say("   PostgreSQL at %s, with a customers table of %d rows.", demoDBHost, len(demoCustomers))
	return db
}

// seed creates the customers table, directly on the server.
func (db *demoDB) seed(ctx context.Context) error {
	c, err := pgx.Connect(ctx, db.srv.DSN())
	if err != nil {
		return err
	}
	defer c.Close(context.WithoutCancel(ctx))
	if _, err := c.Exec(ctx, "CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL)"); err != nil {
		return err
	}
	for _, r := range demoCustomers {
		if _, err := c.Exec(ctx, "INSERT INTO customers (name, email) VALUES ($1, $2)", r[0], r[1]); err != nil {
			return err
		}
	}
	return nil
}

// count counts the customers directly on the server (not through the
// node); -1 when the table is gone.
func (db *demoDB) count(ctx context.Context) int {
	c, err := pgx.Connect(ctx, db.srv.DSN())
	if err != nil {
		return -1
	}
	defer c.Close(context.WithoutCancel(ctx))
	var n int
	if err := c.QueryRow(ctx, "SELECT count(*) FROM customers").Scan(&n); err != nil {
		return -1
	}
	return n
}

// target is the demo policy's target for the server.
func (db *demoDB) target() string {
	return fmt.Sprintf(`  - name: crm
    protocol: postgres
    hosts: ["%s:%d"]
`, demoDBHost, db.srv.Port())
}

// demoDBRules are the demo policy's rules for the server.
const demoDBRules = `  - name: no-drop-or-truncate
    when: sql.statementType in ["DROP", "TRUNCATE"]
    action: deny
    message: Agents may not drop or truncate tables.
  - name: mask-customer-email
    when: '"customers" in sql.tables'
    action: allow
    mask: [{column: email}]
  - name: agents-may-query
    when: sql.statementType in ["SELECT", "SET", "SHOW"]
    action: allow
`

// demoDBSteps are the psql steps: what to say, and the statement.
var demoDBSteps = []struct{ say, sql string }{
	{"query the customers table with psql — allowed, but the email column is masked", "SELECT id, name, email FROM customers ORDER BY id"},
	{"drop the customers table with psql — the policy forbids it", "DROP TABLE customers"},
}

// runStep runs psql, unmodified, in the workload with one statement, and
// says what happened in plain words. psql verifies the server against
// the node's CA bundle (bundle), as interlock exec points it.
func (db *demoDB) runStep(ctx context.Context, w *podsim.Workload, bundle, sql string, stdout io.Writer) error {
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(cctx, db.psql, "-X", "-v", "ON_ERROR_STOP=1", "-c", sql,
		fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=verify-full", demoDBHost, db.srv.Port(), db.srv.User(), db.srv.Database()))
	home, err := os.MkdirTemp("", "interlock-demo-psql-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	cmd.Env = []string{
		"LC_ALL=C", "HOME=" + home, "PGCONNECT_TIMEOUT=10", "PGAPPNAME=demo-agent",
		"PGPASSWORD=" + db.srv.Password(), "PGSSLROOTCERT=" + bundle,
	}
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := w.Start(cmd); err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // stopped (Ctrl-C): not psql's fault
		}
		return fmt.Errorf("psql: %w", err)
	}
	err = cmd.Wait() // a refused statement is an outcome, not an error
	text := strings.TrimRight(out.String(), "\n")
	switch {
	case err == nil:
		fmt.Fprintln(stdout, "   allowed: psql printed")
		for _, l := range strings.Split(text, "\n") {
			fmt.Fprintf(stdout, "     %s\n", l)
		}
		if strings.Contains(text, "[MASKED]") {
			fmt.Fprintln(stdout, "   masked: the email column was replaced before the rows left the node (and in the recording)")
		}
	case strings.Contains(text, "RequestDisallowedByInterlock"):
		fmt.Fprintf(stdout, "   blocked: psql got %s\n", strings.Join(strings.Fields(text), " "))
		fmt.Fprintf(stdout, "   the statement never ran: the server (asked directly) still has %d customers\n", db.count(ctx))
	case ctx.Err() != nil:
		return ctx.Err()
	default:
		return fmt.Errorf("psql %q: %v\n%s", sql, err, text)
	}
	return nil
}

// Close stops the server and removes its directory.
func (db *demoDB) Close() error { return db.srv.Close() }
