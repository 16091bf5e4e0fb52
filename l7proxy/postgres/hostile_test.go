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
				err := c.QueryRow(t.Context(), q, mode).Scan(&v)
				if err == nil || !strings.Contains(err.Error(), CodeMaskFailed) {
					t.Errorf("%s: %q, %v; want %s", q, v, err, CodeMaskFailed)
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
