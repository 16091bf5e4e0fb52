// SPDX-License-Identifier: Apache-2.0

// Column rules follow the source of a result column: an alias of a
// masked column is masked, an expression over a table with masked
// columns is refused, and a join masks the masked table's columns only.

package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestColumnRuleTracesSource(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, "CREATE TABLE orders (id int, customer int, email text, total int)",
		"INSERT INTO orders VALUES (10, 1, 'orders-desk@example.net', 7)")
	c := f.agent(t)
	modes := []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol}
	for _, mode := range modes {
		// An alias of a masked column, and of a column that is not.
		var e, n string
		if err := c.QueryRow(t.Context(), "SELECT email AS e, name AS n FROM customers WHERE id = 1", mode).Scan(&e, &n); err != nil {
			t.Fatalf("mode %v: alias: %v", mode, err)
		}
		if e != maskedValue || n != "Alice" {
			t.Errorf("mode %v: alias: e = %q, n = %q; want %q and Alice", mode, e, n, maskedValue)
		}
		// Through a subquery and a CTE the source is still known.
		if err := c.QueryRow(t.Context(), "WITH x AS (SELECT email AS m FROM customers WHERE id = 1) SELECT m FROM (SELECT m AS y FROM x) s(m)", mode).Scan(&e); err != nil || e != maskedValue {
			t.Errorf("mode %v: cte: %q %v", mode, e, err)
		}
		// Expressions over a table with a masked column: refused.
		for _, q := range []string{
			"SELECT upper(email) FROM customers WHERE id = 1",
			"SELECT email || '' AS email2 FROM customers WHERE id = 1",
			"SELECT c::text FROM customers c WHERE id = 1",
			"SELECT count(*) FROM customers",
		} {
			var v any
			err := c.QueryRow(t.Context(), q, mode).Scan(&v)
			if pgCode(err) != StateInsufficientPrivilege || !strings.Contains(err.Error(), CodeMaskFailed) || !strings.Contains(err.Error(), "cannot be traced to a table's column") {
				t.Errorf("mode %v: %s: %v (%v), want the result refused", mode, q, v, err)
			}
			if s, ok := v.(string); ok && strings.Contains(strings.ToUpper(s), strings.ToUpper(realEmail)) {
				t.Errorf("mode %v: %s leaked %q", mode, q, s)
			}
		}
		// An expression named like the masked column is masked by name.
		if err := c.QueryRow(t.Context(), "SELECT upper(email) AS email FROM customers WHERE id = 1", mode).Scan(&e); err != nil || e != maskedValue {
			t.Errorf("mode %v: expression named email: %q %v", mode, e, err)
		}
		// A join of two tables: both email columns are masked (rules
		// name columns, and the decision's rule matched), aliases and
		// all; the other columns pass.
		var ce, oe string
		var total int
		err := c.QueryRow(t.Context(), "SELECT c.email AS customer_mail, o.email AS desk, o.total FROM customers c JOIN orders o ON o.customer = c.id", mode).Scan(&ce, &oe, &total)
		if err != nil || ce != maskedValue || oe != maskedValue || total != 7 {
			t.Errorf("mode %v: join: %q %q %d %v", mode, ce, oe, total, err)
		}
		// The connection is still usable.
		var one int
		if err := c.QueryRow(t.Context(), "SELECT 1", mode).Scan(&one); err != nil {
			t.Fatalf("mode %v: after the refusals: %v", mode, err)
		}
	}
	// A table made on the session after the catalog was read: its masked
	// column is traced too (DDL makes the catalog stale).
	if _, err := c.Exec(t.Context(), "CREATE TABLE customers2 (id int, email text)"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), "INSERT INTO customers2 VALUES (1, 'carol@example.com')"); err != nil {
		t.Fatal(err)
	}
	var e string
	if err := c.QueryRow(t.Context(), "SELECT c2.email AS x FROM customers c JOIN customers2 c2 USING (id)").Scan(&e); err != nil || e != maskedValue {
		t.Errorf("new table: %q %v", e, err)
	}
	// A table without masked columns keeps its expressions.
	var what string
	if err := c.QueryRow(t.Context(), "SELECT upper(what) FROM events WHERE id = 2").Scan(&what); err != nil || what != "NOTHING" {
		t.Errorf("events: %q %v", what, err)
	}
	c.Close(t.Context())
	f.sink.WaitClosed(t)
	checkRecording(t, f.sink.Events(), realEmail, strings.ToUpper(realEmail), "orders-desk@example.net")
}
