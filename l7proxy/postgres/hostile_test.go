// SPDX-License-Identifier: Apache-2.0

// An agent working against the masks: cursors, and functions or operators
// of its own that would change what the handler's catalog lookup answers.

package postgres

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCursorsAreMasked: FETCH returns the rows of the query its cursor
// was declared for, and they are masked (a plain column) or refused (an
// expression over a masked column) as that query's would be; a FETCH of a
// cursor not declared on the session is refused.
func TestCursorsAreMasked(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		t.Run(mode.String(), func(t *testing.T) {
			c := f.agent(t)
			for _, q := range []string{
				"BEGIN",
				"DECLARE c1 CURSOR FOR SELECT email FROM customers WHERE id = 1",
				"DECLARE c2 CURSOR FOR SELECT upper(email) AS x FROM customers WHERE id = 1",
			} {
				if _, err := c.Exec(t.Context(), q, mode); err != nil {
					t.Fatalf("%s: %v", q, err)
				}
			}
			var v string
			if err := c.QueryRow(t.Context(), "FETCH ALL FROM c1", mode).Scan(&v); err != nil || v != "[MASKED]" {
				t.Errorf("FETCH of a plain email column: %q, %v; want [MASKED]", v, err)
			}
			err := c.QueryRow(t.Context(), "FETCH ALL FROM c2", mode).Scan(&v)
			if err == nil || !strings.Contains(err.Error(), CodeMaskFailed) {
				t.Errorf("FETCH of upper(email): %q, %v; want %s", v, err, CodeMaskFailed)
			}
			if _, err := c.Exec(t.Context(), "ROLLBACK", pgx.QueryExecModeSimpleProtocol); err != nil {
				t.Fatal(err)
			}
			err = c.QueryRow(t.Context(), "FETCH ALL FROM never_declared", mode).Scan(&v)
			if err == nil || !strings.Contains(err.Error(), CodeDisallowed) {
				t.Errorf("FETCH from a cursor never declared: %v; want it refused", err)
			}
		})
	}
	assertNotRecorded(t, f, realEmail, strings.ToUpper(realEmail))
}

// TestCatalogLookupIgnoresSchemaTricks: functions and operators of the
// agent's own, and a search_path that puts them first, do not change
// which columns the handler knows to be masked — in this session or the
// next.
func TestCatalogLookupIgnoresSchemaTricks(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	for _, q := range []string{
		`CREATE FUNCTION public.lower(name) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'zz'::text$$`,
		`CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT 'zz'::text$$`,
		`CREATE FUNCTION public.never(oid, oid) RETURNS bool LANGUAGE sql IMMUTABLE AS $$SELECT false$$`,
		`CREATE OPERATOR public.= (LEFTARG = oid, RIGHTARG = oid, FUNCTION = public.never)`,
		`SET search_path = public, pg_catalog`,
	} {
		if _, err := c.Exec(t.Context(), q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	check := func(t *testing.T, c *pgx.Conn) {
		t.Helper()
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			var e string
			if err := c.QueryRow(t.Context(), "SELECT email AS e FROM customers WHERE id = 1", mode).Scan(&e); err != nil || e != "[MASKED]" {
				t.Errorf("%v: an aliased email column: %q, %v; want [MASKED]", mode, e, err)
			}
			err := c.QueryRow(t.Context(), "SELECT pg_catalog.upper(email) FROM customers WHERE id = 1", mode).Scan(&e)
			if err == nil || !strings.Contains(err.Error(), CodeMaskFailed) {
				t.Errorf("%v: upper(email): %q, %v; want %s", mode, e, err, CodeMaskFailed)
			}
		}
	}
	check(t, c)
	c2 := f.agent(t)
	if _, err := c2.Exec(t.Context(), `SET search_path = public, pg_catalog`, pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	check(t, c2)
	assertNotRecorded(t, f, realEmail, strings.ToUpper(realEmail))
}

// assertNotRecorded fails t if any recorded event holds one of values.
func assertNotRecorded(t *testing.T, f *fixture, values ...string) {
	t.Helper()
	for _, ev := range f.sink.Events() {
		b, _ := json.Marshal(ev)
		for _, v := range values {
			if strings.Contains(string(b), v) {
				t.Errorf("%q is in the recording: %s", v, b)
			}
		}
	}
}

// TestViewsAndFunctionsAreTraced: the mask rule names the customers
// table, and views and functions over it neither escape the rule nor
// carry the email out under another name. A view that keeps the column's
// name is masked; one that renames it, or reads it through another view
// or a function of the database's own, is refused; a view that does not
// read the email passes. A view made and read in the same query is
// refused: the catalog is read between queries.
func TestViewsAndFunctionsAreTraced(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		"CREATE VIEW v_same AS SELECT id, name, email FROM customers",
		"CREATE VIEW v_renamed AS SELECT id, email AS contact FROM customers",
		"CREATE VIEW v_nested AS SELECT id, contact AS c2 FROM v_renamed",
		"CREATE VIEW v_names AS SELECT id, name FROM customers",
		"CREATE MATERIALIZED VIEW mv_contacts AS SELECT id, email AS contact FROM customers",
		`CREATE FUNCTION contacts() RETURNS TABLE(x text) LANGUAGE sql AS $$SELECT email FROM customers$$`,
		`CREATE VIEW v_fn AS SELECT x AS y FROM contacts()`,
	)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		t.Run(mode.String(), func(t *testing.T) {
			c := f.agent(t)
			var v string
			if err := c.QueryRow(t.Context(), "SELECT email FROM v_same WHERE id = 1", mode).Scan(&v); err != nil || v != "[MASKED]" {
				t.Errorf("a view's email column: %q, %v; want [MASKED]", v, err)
			}
			if err := c.QueryRow(t.Context(), "SELECT name FROM v_names WHERE id = 1", mode).Scan(&v); err != nil || v != "Alice" {
				t.Errorf("a view without the email: %q, %v; want Alice", v, err)
			}
			for _, q := range []string{
				"SELECT contact FROM v_renamed WHERE id = 1",
				"SELECT c2 FROM public.v_nested WHERE id = 1",
				"SELECT upper(contact) FROM v_renamed WHERE id = 1",
				"SELECT contact FROM mv_contacts WHERE id = 1",
				"SELECT x FROM contacts()",
				"SELECT y FROM v_fn",
				"SELECT z FROM query_to_xml('SELECT email FROM customers', false, false, '') AS z",
			} {
				// Refused: the result (InterlockMaskingFailed), or a call
				// that could copy the column elsewhere, before it runs.
				v = ""
				err := c.QueryRow(t.Context(), q, mode).Scan(&v)
				if err == nil || (!strings.Contains(err.Error(), CodeMaskFailed) && !strings.Contains(err.Error(), CodeDisallowed)) || v != "" {
					t.Errorf("%s: %q, %v; want it refused", q, v, err)
				}
			}
		})
	}
	c := f.agent(t)
	_, err := c.Exec(t.Context(), "CREATE VIEW v_late AS SELECT email AS e2 FROM customers; SELECT e2 FROM v_late", pgx.QueryExecModeSimpleProtocol)
	if err == nil || !strings.Contains(err.Error(), "schema change in the same query") {
		t.Errorf("a view made and read in one query: %v; want it refused", err)
	}
	// Made on its own, it is read from the next query on.
	if _, err := c.Exec(t.Context(), "CREATE VIEW v_late AS SELECT email AS e2 FROM customers", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	var v string
	if err := c.QueryRow(t.Context(), "SELECT e2 FROM v_late", pgx.QueryExecModeSimpleProtocol).Scan(&v); err == nil || !strings.Contains(err.Error(), CodeMaskFailed) {
		t.Errorf("a view made by the agent, read in the next query: %q, %v; want %s", v, err, CodeMaskFailed)
	}
	// The recording names what the views read.
	var sawBase bool
	for _, ev := range f.sink.Events() {
		if q := ev.GetPgQuery(); q != nil && strings.Contains(q.GetText(), "v_names") && slices.Contains(q.GetTables(), "customers") {
			sawBase = true
		}
	}
	if !sawBase {
		t.Error("no recorded statement on v_names lists customers among its tables")
	}
	assertNotRecorded(t, f, realEmail, strings.ToUpper(realEmail))
}

// TestMaskEscapesAreRefused: what an agent can write to get a masked
// column out past a rule on the customers table — names the classifier
// would misread, whole-row references, functions run by views, operators,
// attribute notation, triggers, extension functions that run SQL text,
// notices, and relations made where this session's catalog cannot see
// them — gets it nowhere: in rows, errors or notices.
func TestMaskEscapesAreRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		`CREATE EXTENSION tablefunc`,
		`CREATE VIEW "x.v" AS SELECT id, email FROM customers`,
		`CREATE VIEW v_row AS SELECT c::text AS r FROM customers c`,
		`CREATE VIEW v_xml AS SELECT query_to_xml('SELECT email FROM customers', false, false, '')::text AS x`,
		`CREATE FUNCTION contacts() RETURNS TABLE(x text) LANGUAGE sql AS $$SELECT email FROM customers$$`,
		`CREATE VIEW v_fn AS SELECT x AS y FROM contacts()`,
		`CREATE FUNCTION opf(int, int) RETURNS text LANGUAGE sql AS $$SELECT string_agg(email, ',') FROM customers$$`,
		`CREATE FUNCTION leakattr(events) RETURNS text LANGUAGE sql AS $$SELECT string_agg(email, ',') FROM customers$$`,
		`CREATE FUNCTION noisy() RETURNS int LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE '%', (SELECT string_agg(email, ',') FROM customers); RETURN 1; END$$`,
		`CREATE TABLE t_trig (id int, x text)`,
		`CREATE FUNCTION trig() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.x := (SELECT string_agg(email, ',') FROM customers); RETURN NEW; END$$`,
		`CREATE TRIGGER tr BEFORE INSERT ON t_trig FOR EACH ROW EXECUTE FUNCTION trig()`,
		`CREATE FUNCTION mkview() RETURNS void LANGUAGE plpgsql AS $$BEGIN EXECUTE 'CREATE VIEW v_side AS SELECT email AS e FROM customers'; END$$`,
	)
	var seen []string
	agent := func() *pgx.Conn { return probeAgent(t, f, &seen) }
	run := func(c *pgx.Conn, q string) string { return simple(t, c, &seen, q) }
	check := func(c *pgx.Conn, what string, qs ...string) {
		t.Helper()
		var got string
		for _, q := range qs {
			got += run(c, q)
		}
		if leaked(got) {
			t.Errorf("%s: the email reached the agent: %.200s", what, got)
		}
	}
	c := agent()
	check(c, "a Unicode-escaped table name", `SELECT email FROM U&"custom\0065rs"`)
	check(c, "a quoted view name with a dot", `SELECT email FROM "x.v"`)
	check(c, "a whole-row reference in a view", `SELECT r FROM v_row`)
	check(c, "a view over query_to_xml", `SELECT x FROM v_xml`)
	check(c, "an expression over a view that calls a function", `SELECT upper(y) FROM v_fn`)
	check(c, "an attribute-notation function", `SELECT e.leakattr FROM events e`)
	check(c, "an extension function that runs SQL text", `SELECT * FROM crosstab('SELECT id, ''a''::text, email FROM customers ORDER BY 1') AS ct(id int, e text)`)
	check(c, "a notice raised by a function", `SELECT noisy()`)
	check(c, "a trigger's value returned", `INSERT INTO t_trig(id) VALUES (1) RETURNING x`)
	check(c, "a function made and called in one query",
		`CREATE FUNCTION f2() RETURNS SETOF text LANGUAGE sql AS $$SELECT email FROM customers$$; SELECT f2()`)
	check(c, "a view made by a function", `SELECT mkview()`, `SELECT e FROM v_side`)
	// Another session makes a view, or redefines one in place, after this
	// one read its catalog.
	f.exec(t, "CREATE VIEW v_names2 AS SELECT id, name FROM customers")
	b := agent()
	var name string
	if err := b.QueryRow(t.Context(), "SELECT name FROM v_names2 WHERE id = 1").Scan(&name); err != nil || name != "Alice" {
		t.Fatalf("a view without the email: %q, %v", name, err)
	}
	f.exec(t, "CREATE VIEW v_other AS SELECT email AS e FROM customers",
		"CREATE OR REPLACE VIEW v_names2 AS SELECT id, email AS name FROM customers")
	check(b, "a view another session redefined in place", `SELECT name FROM v_names2 WHERE id = 1`)
	check(b, "a view made by another session", `SELECT e FROM v_other`)
	// The last, an operator: once the database has one that runs its own
	// function, every expression column on a masked target is refused.
	f.exec(t, `CREATE OPERATOR ### (function = opf, leftarg = int, rightarg = int)`)
	check(agent(), "an operator that runs a function", `SELECT 1 ### 2`)
	assertNotRecorded(t, f, realEmail, strings.ToUpper(realEmail))
}

// TestCatalogLookupSurvivesTheAgent: a transaction that failed after a
// schema change, or a statement of the agent's under the lookup's old
// name, does not leave the session without its catalog: statements that
// name relations are decided (and masked) as before.
func TestCatalogLookupSurvivesTheAgent(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	for _, q := range []string{
		"PREPARE interlock_catalog AS SELECT 1",
		"BEGIN",
		"CREATE VIEW v_ok AS SELECT id, email FROM customers",
	} {
		if _, err := c.Exec(t.Context(), q, pgx.QueryExecModeSimpleProtocol); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := c.Exec(t.Context(), "CREATE VIEW v_bad AS SELECT nope", pgx.QueryExecModeSimpleProtocol); err == nil {
		t.Fatal("a view of a column that does not exist was made")
	}
	if _, err := c.Exec(t.Context(), "ROLLBACK", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatalf("ROLLBACK after the failed statement: %v", err)
	}
	if _, err := c.Exec(t.Context(), "CREATE VIEW v_ok AS SELECT id, email FROM customers", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	var e string
	if err := c.QueryRow(t.Context(), "SELECT email FROM v_ok WHERE id = 1", pgx.QueryExecModeSimpleProtocol).Scan(&e); err != nil || e != maskedValue {
		t.Errorf("a view's email after the failed transaction: %q, %v; want %q", e, err, maskedValue)
	}
}
