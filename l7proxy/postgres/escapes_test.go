// SPDX-License-Identifier: Apache-2.0

// What a second review found an agent could write to get a masked column
// out, kept as regression tests: each case fails with "LEAK" if the real
// email reaches the agent in rows, errors, notices or notifications.

package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// probeAgent connects an agent that collects notices and notifications.
func probeAgent(t *testing.T, f *fixture, seen *[]string) *pgx.Conn {
	t.Helper()
	cfg := f.agentConfig(t, f.srv.User(), f.srv.Password())
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { *seen = append(*seen, "notice:"+n.Message) }
	cfg.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { *seen = append(*seen, "notify:"+n.Payload) }
	c, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// simple runs q with the simple protocol and returns all the agent saw.
func simple(t *testing.T, c *pgx.Conn, seen *[]string, q string) string {
	res, err := c.PgConn().Exec(t.Context(), q).ReadAll()
	out := fmt.Sprint(err)
	for _, r := range res {
		out += fmt.Sprintf(" %v %q", r.Err, r.Rows)
	}
	out += " " + strings.Join(*seen, " ")
	*seen = nil
	return out
}

// probe is an agent's session whose notices and notifications are kept
// with what its statements return.
type probe struct {
	t    *testing.T
	c    *pgx.Conn
	seen []string
}

func newProbe(t *testing.T, f *fixture) *probe {
	pr := &probe{t: t}
	pr.c = probeAgent(t, f, &pr.seen)
	return pr
}

// run sends q and returns all the agent saw of it.
func (pr *probe) run(q string) string { return simple(pr.t, pr.c, &pr.seen, q) }

func leaked(s string) bool { return strings.Contains(strings.ToLower(s), realEmail) }

// Every case: a sequence of simple queries on one fresh agent session;
// the output of all of them is checked for the real email.
func TestProbeOneSession(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.approver.set(interlockv1.ApprovalState_APPROVAL_STATE_APPROVED, 0)
	f.exec(t,
		"CREATE VIEW v_names2 AS SELECT id, name FROM customers",
		"CREATE VIEW v_renamed AS SELECT id, email AS contact FROM customers",
		// What an agent would have made earlier, on its own (CREATE is allowed).
		`CREATE FUNCTION redefine() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'CREATE OR REPLACE VIEW v_names2 AS SELECT id, email AS name FROM customers'; RETURN 0; END$$`,
		`CREATE FUNCTION mkfn() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'CREATE FUNCTION leak2() RETURNS SETOF text LANGUAGE sql AS ''SELECT email FROM customers'''; RETURN 0; END$$`,
		`CREATE FUNCTION "ÉLEAK"() RETURNS SETOF text LANGUAGE sql AS $$SELECT email FROM customers$$`,
		`CREATE FUNCTION notif() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'LISTEN ch'; PERFORM pg_notify('ch', (SELECT string_agg(email, ',') FROM customers)); RETURN 0; END$$`,
	)
	cases := []struct {
		name string
		qs   []string
	}{
		{"schema-qualified table", []string{`SELECT email FROM public.customers WHERE id = 1`}},
		{"TABLE schema-qualified", []string{`TABLE public.customers`}},
		{"INSERT ... SELECT ... RETURNING", []string{`INSERT INTO events SELECT id + 100, email FROM customers WHERE id = 1 RETURNING what`}},
		{"CTE INSERT ... RETURNING", []string{`WITH x AS (INSERT INTO events SELECT id + 200, email FROM customers WHERE id = 1 RETURNING what) SELECT what FROM x`}},
		{"set_config side effect", []string{`SELECT set_config('x.y', email, false) FROM customers WHERE id = 1`, `SHOW x.y`}},
		{"set_config in WHERE", []string{`SELECT id FROM customers WHERE set_config('x.z', email, false) IS NOT NULL AND id = 1`, `SELECT current_setting('x.z')`}},
		{"large object", []string{`SELECT lo_from_bytea(424242, convert_to(email, 'UTF8')) FROM customers WHERE id = 1`, `SELECT convert_from(lo_get(424242), 'UTF8')`}},
		{"notification", []string{`SELECT notif()`, `SELECT 1`}},
		{"PREPARE name collision", []string{`PREPARE p AS SELECT email AS e FROM customers WHERE id = 1`, `PREPARE p AS SELECT 'x' AS e`, `EXECUTE p`}},
		{"PREPARE after a failed statement in one query", []string{`PREPARE p2 AS SELECT email AS e FROM customers WHERE id = 1`, `SELECT 1/0; PREPARE p2 AS SELECT 'x' AS e`, `EXECUTE p2`}},
		{"view redefined by a function in the same query", []string{`SELECT name FROM v_names2 WHERE id = 1`, `SELECT 1 WHERE redefine() = 42; SELECT name FROM v_names2 WHERE id = 1`}},
		{"function made by a function", []string{`SELECT 1 WHERE mkfn() = 42`, `SELECT leak2()`}},
		{"non-ASCII function name", []string{`SELECT "ÉLEAK"()`}},
		{"COPY select", []string{`COPY (SELECT email FROM customers) TO STDOUT`}},
		{"COPY table", []string{`COPY customers TO STDOUT`}},
		{"COPY view", []string{`COPY (SELECT * FROM v_renamed) TO STDOUT`}},
		{"UPDATE RETURNING", []string{`UPDATE customers SET name = name WHERE id = 1 RETURNING upper(email)`}},
		{"UPDATE view RETURNING", []string{`UPDATE v_renamed SET id = id WHERE id = 1 RETURNING contact`}},
		{"LATERAL", []string{`SELECT x.e FROM events, LATERAL (SELECT email AS e FROM customers) x`}},
		{"row_to_json view", []string{`SELECT row_to_json(v) FROM v_renamed v`}},
		{"composite", []string{`SELECT (c).email FROM (SELECT c FROM customers c) s`}},
		{"temp view", []string{`CREATE TEMP VIEW tv AS SELECT email AS e FROM customers`, `SELECT e FROM pg_temp.tv`}},
		{"EXPLAIN ANALYZE VERBOSE", []string{`EXPLAIN (ANALYZE, VERBOSE, COSTS OFF) SELECT email FROM customers`}},
		{"rule DO ALSO SELECT", []string{`CREATE TABLE t_rule (id int)`, `CREATE RULE r AS ON INSERT TO t_rule DO ALSO SELECT email AS e FROM customers`, `INSERT INTO t_rule VALUES (1)`}},
		{"child table", []string{`CREATE TABLE kid () INHERITS (customers)`, `SELECT email AS e FROM kid`, `SELECT email FROM customers`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr := newProbe(t, f)
			var all []string
			for _, q := range tc.qs {
				all = append(all, q+" => "+pr.run(q))
			}
			time.Sleep(50 * time.Millisecond)
			all = append(all, "late => "+pr.run("SELECT 1"))
			got := strings.Join(all, "\n  ")
			if leaked(got) {
				t.Errorf("LEAK:\n  %s", got)
			}
		})
	}
}

// Statements decided on a catalog older than what the server runs them on.
func TestProbeStaleCatalog(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		"CREATE VIEW v_names2 AS SELECT id, name FROM customers",
		"CREATE VIEW v_names3 AS SELECT id, name FROM customers",
		"CREATE VIEW v_names4 AS SELECT id, name FROM customers",
		`CREATE FUNCTION redefine() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'CREATE OR REPLACE VIEW v_names3 AS SELECT id, email AS name FROM customers'; RETURN 0; END$$`,
		`CREATE TABLE t_trig2 (id int, x text)`,
		`CREATE VIEW "ÉV" AS SELECT email AS e FROM customers`,
		`CREATE TABLE "év" (e text)`,
	)
	const q = "SELECT name FROM v_names2 WHERE id = $1"
	check := func(t *testing.T, what, got string, err error) {
		t.Helper()
		if leaked(got) {
			t.Errorf("LEAK %s: %q %v", what, got, err)
		}
	}

	t.Run("cached statement, view redefined by another session", func(t *testing.T) {
		c := f.agent(t) // pgx default: QueryExecModeCacheStatement
		var v string
		if err := c.QueryRow(t.Context(), q, 1).Scan(&v); err != nil || v != "Alice" {
			t.Fatalf("%q %v", v, err)
		}
		f.exec(t, "CREATE OR REPLACE VIEW v_names2 AS SELECT id, email AS name FROM customers")
		err := c.QueryRow(t.Context(), q, 1).Scan(&v)
		check(t, "cached", v, err)
	})

	t.Run("cached statement, view redefined by the agent's own function", func(t *testing.T) {
		c := f.agent(t)
		var v string
		const q3 = "SELECT name FROM v_names3 WHERE id = $1"
		if err := c.QueryRow(t.Context(), q3, 1).Scan(&v); err != nil || v != "Alice" {
			t.Fatalf("%q %v", v, err)
		}
		_, err := c.Exec(t.Context(), "SELECT redefine()")
		t.Logf("SELECT redefine(): %v", err)
		err = c.QueryRow(t.Context(), q3, 1).Scan(&v)
		check(t, "cached own", v, err)
	})

	t.Run("function made by another session", func(t *testing.T) {
		pr := newProbe(t, f)
		pr.run("SELECT 1 FROM events LIMIT 0") // catalog read
		f.exec(t, `CREATE FUNCTION late_fn() RETURNS SETOF text LANGUAGE sql AS $$SELECT email FROM customers$$`)
		got := pr.run("SELECT late_fn()")
		check(t, "late function", got, nil)
	})

	t.Run("rule added by another session", func(t *testing.T) {
		pr := newProbe(t, f)
		pr.run("SELECT 1 FROM events LIMIT 0")
		f.exec(t, `CREATE RULE r_late AS ON INSERT TO events DO ALSO SELECT email AS e FROM customers`)
		got := pr.run("INSERT INTO events VALUES (9, 'x')")
		check(t, "late rule", got, nil)
		f.exec(t, `DROP RULE r_late ON events`)
	})

	t.Run("trigger added by another session", func(t *testing.T) {
		pr := newProbe(t, f)
		pr.run("SELECT 1 FROM t_trig2 LIMIT 0")
		f.exec(t,
			`CREATE FUNCTION trig2() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.x := (SELECT string_agg(email, ',') FROM customers); RETURN NEW; END$$`,
			`CREATE TRIGGER tr2 BEFORE INSERT ON t_trig2 FOR EACH ROW EXECUTE FUNCTION trig2()`)
		got := pr.run("INSERT INTO t_trig2(id) VALUES (1) RETURNING x")
		check(t, "late trigger", got, nil)
	})

	t.Run("non-ASCII view name", func(t *testing.T) {
		pr := newProbe(t, f)
		got := pr.run(`SELECT e FROM "ÉV"`)
		check(t, "ÉV", got, nil)
	})

	t.Run("pipelined ROLLBACK after a failed transaction", func(t *testing.T) {
		pr := newProbe(t, f)
		c := pr.c
		pr.run("SELECT name FROM v_names4 WHERE id = 1")
		pr.run("BEGIN")
		pr.run("SELECT 1/0") // the transaction fails
		f.exec(t, "CREATE OR REPLACE VIEW v_names4 AS SELECT id, email AS name FROM customers")
		fe := c.PgConn().Frontend()
		fe.SendQuery(&pgproto3.Query{String: "ROLLBACK"})
		fe.SendQuery(&pgproto3.Query{String: "SELECT name FROM v_names4 WHERE id = 1"})
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		var got []string
		for rfq := 0; rfq < 2; {
			m, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *pgproto3.ReadyForQuery:
				rfq++
			case *pgproto3.DataRow:
				for _, v := range m.Values {
					got = append(got, string(v))
				}
			case *pgproto3.ErrorResponse:
				got = append(got, "ERROR "+m.Message)
			}
		}
		check(t, "pipelined", strings.Join(got, " "), nil)
	})
}

func TestProbeRepeatableRead(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, "CREATE VIEW v_rr AS SELECT id, name FROM customers")
	pr := newProbe(t, f)
	t.Log(pr.run("BEGIN ISOLATION LEVEL REPEATABLE READ"))
	t.Log(pr.run("SELECT id FROM events LIMIT 1")) // snapshot taken (and the catalog read in it)
	done := make(chan struct{})
	go func() {
		defer close(done)
		f.exec(t, "CREATE OR REPLACE VIEW v_rr AS SELECT id, email AS name FROM customers")
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the redefinition is blocked")
	}
	got := pr.run("SELECT name FROM v_rr WHERE id = 1") // catalog re-read, in the old snapshot
	if leaked(got) {
		t.Errorf("LEAK: %s", got)
	}
}

func TestProbeNotification(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, `CREATE FUNCTION notif() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'LISTEN ch'; PERFORM pg_notify('ch', (SELECT string_agg(email, ',') FROM customers)); RETURN 0; END$$`)
	pr := newProbe(t, f)
	got := pr.run("SELECT 1 WHERE notif() = 42")
	got += pr.run("SELECT 1")
	if leaked(got) {
		t.Errorf("LEAK: %s", got)
	}
}

// Ordinary use wrongly refused.
func TestProbeOrdinaryUse(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		"CREATE TABLE orders (id int, total int, updated_at timestamptz)",
		"INSERT INTO orders VALUES (1, 10, now())",
		`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$`,
		`CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()`,
		"CREATE TABLE accounts_stats (id int, n int)",
		"INSERT INTO accounts_stats VALUES (1, 5)",
		"CREATE VIEW v_acc AS SELECT id, n FROM accounts_stats",
		"CREATE SEQUENCE order_seq",
	)
	c := f.agent(t)
	for _, q := range []string{
		"SELECT count(*) FROM orders",
		"SELECT sum(n) FROM v_acc",
		"SELECT n FROM v_acc",
		"SELECT last_value FROM order_seq",
	} {
		for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
			if _, err := c.Exec(t.Context(), q, mode); err != nil {
				t.Errorf("%v: %s: %v (an ordinary statement was refused)", mode, q, err)
			}
		}
	}
	var n int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM orders WHERE id = $1", 1).Scan(&n); err != nil || n != 1 {
		t.Errorf("count(*) on a table with a trigger, with a parameter: %d, %v", n, err)
	}
}

func TestProbeDeferredTriggerNotice(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		"CREATE TABLE t_def (id int)",
		`CREATE FUNCTION loud() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE '%', (SELECT string_agg(email, ',') FROM customers); RETURN NULL; END$$`,
		`CREATE CONSTRAINT TRIGGER t_def_loud AFTER INSERT ON t_def DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION loud()`,
	)
	pr := newProbe(t, f)
	var all []string
	for _, q := range []string{"BEGIN", "INSERT INTO t_def VALUES (1)", "COMMIT"} {
		all = append(all, q+" => "+pr.run(q))
	}
	got := strings.Join(all, "\n  ")
	if leaked(got) {
		t.Errorf("LEAK:\n  %s", got)
	}
}

func TestProbeSQLPrepareAcrossRedefinition(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, "CREATE VIEW v_p AS SELECT id, name FROM customers")
	pr := newProbe(t, f)
	var all []string
	for _, q := range []string{"PREPARE pv AS SELECT name FROM v_p WHERE id = 1", "EXECUTE pv"} {
		all = append(all, q+" => "+pr.run(q))
	}
	f.exec(t, "CREATE OR REPLACE VIEW v_p AS SELECT id, email AS name FROM customers")
	all = append(all, "EXECUTE pv => "+pr.run("EXECUTE pv"))
	got := strings.Join(all, "\n  ")
	if leaked(got) {
		t.Errorf("LEAK:\n  %s", got)
	}
}

func TestProbeBatch(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, "CREATE VIEW v_b AS SELECT id, name FROM customers")
	c := f.agent(t)
	for i := 0; i < 3; i++ {
		b := &pgx.Batch{}
		b.Queue("SELECT name FROM v_b WHERE id = $1", 1)
		b.Queue("SELECT what FROM events WHERE id = $1", 2)
		b.Queue("SELECT email FROM customers WHERE id = $1", 1)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		br := c.SendBatch(ctx, b)
		want := []string{"Alice", "nothing", maskedValue}
		for j := 0; j < 3; j++ {
			var s string
			if err := br.QueryRow().Scan(&s); err != nil || s != want[j] {
				t.Errorf("batch %d query %d: %q, %v; want %q", i, j, s, err, want[j])
			}
		}
		if err := br.Close(); err != nil {
			t.Errorf("batch %d: %v", i, err)
		}
		cancel()
		if i == 0 {
			f.exec(t, "CREATE TABLE late_t (x int)")
		}
	}
	var x int
	if err := c.QueryRow(t.Context(), "SELECT count(*) FROM late_t").Scan(&x); err != nil || x != 0 {
		t.Errorf("a table another session made: %d, %v", x, err)
	}
}

func TestProbeCTEShadow(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	pr := newProbe(t, f)
	for _, q := range []string{
		`WITH customers AS (SELECT email FROM customers) SELECT email FROM customers`,
		`WITH a AS (SELECT email AS e FROM customers), customers AS (SELECT 1 AS x) SELECT e FROM a`,
	} {
		got := pr.run(q)
		if leaked(got) {
			t.Errorf("LEAK %s => %s", q, got)
		}
	}
}

func TestProbeSearchPathShadow(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	pr := newProbe(t, f)
	t.Log(pr.run("SELECT what FROM events WHERE id = 2"))
	// Another session (the agent's second connection would do).
	f.exec(t, "CREATE SCHEMA b", "CREATE VIEW b.events AS SELECT id, email AS what FROM customers")
	t.Log(pr.run("SET search_path = b, public"))
	got := pr.run("SELECT what FROM events WHERE id = 1")
	if leaked(got) {
		t.Errorf("LEAK: %s", got)
	}
}

func TestProbePgStats(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	pr := newProbe(t, f)
	// In a real database autovacuum has analyzed customers long ago; here the agent does (allowed: it names customers).
	t.Log(pr.run("ANALYZE customers"))
	got := pr.run("SELECT histogram_bounds::text, most_common_vals::text FROM pg_stats WHERE tablename = 'customers' AND attname = 'email'")
	if leaked(got) {
		t.Errorf("LEAK: %s", got)
	}
}

func TestProbeQuotedQuotes(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	pr := newProbe(t, f)
	var all []string
	for _, q := range []string{
		`CREATE TABLE vq (e text)`,
		`CREATE VIEW """vq""" AS SELECT email AS e FROM customers`,
		`SELECT e FROM """vq"""`,
	} {
		all = append(all, q+" => "+pr.run(q))
	}
	got := strings.Join(all, "\n  ")
	if leaked(got) {
		t.Errorf("LEAK:\n  %s", got)
	}
}

func TestProbeCallAllowed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t, `CREATE PROCEDURE wipe() LANGUAGE sql AS $$DELETE FROM events$$`, "CREATE VIEW v_l AS SELECT id, name FROM customers")
	c := f.agent(t)
	if _, err := c.Exec(t.Context(), "CALL wipe()"); err == nil {
		t.Error("CALL of a procedure of the database's own ran while the policy masks columns")
	}
	// What a view reads grants nothing: LOCK is not allowed by the policy,
	// and a view over customers does not make it so.
	tx, err := c.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "LOCK TABLE v_l"); err == nil || !strings.Contains(err.Error(), CodeDisallowed) {
		t.Errorf("LOCK of a view over customers: %v; want it refused as LOCK of a table would be", err)
	}
	_ = tx.Rollback(t.Context())
	var n int
	if err := f.direct(t).QueryRow(t.Context(), "SELECT count(*) FROM events").Scan(&n); err != nil || n != 2 {
		t.Errorf("events has %d rows (%v) after the refused CALL, want 2", n, err)
	}
}
