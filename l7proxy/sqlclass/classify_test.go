// SPDX-License-Identifier: Apache-2.0

// Table tests on real statements: psql's, pgx's, ORMs', migrations' and
// attackers'.

package sqlclass

import (
	"reflect"
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		sql       string
		typ       string
		tables    []string
		functions []string
		where     bool
	}{
		{"SELECT 1", "SELECT", nil, nil, false},
		{"select id, email from users where id = $1", "SELECT", []string{"users"}, nil, true},
		{`SELECT u.id, o.total FROM public.users u JOIN "Sales"."Orders" AS o ON o.user_id = u.id`, "SELECT", []string{"public.users", "Sales.Orders"}, nil, false},
		{"SELECT count(*) FROM orders, customers c WHERE orders.cid = c.id", "SELECT", []string{"orders", "customers"}, []string{"count"}, true},
		{"SELECT * FROM generate_series(1, 10) g", "SELECT", nil, []string{"generate_series"}, false},
		{"SELECT pg_catalog.pg_read_file('/etc/passwd')", "SELECT", nil, []string{"pg_catalog.pg_read_file"}, false},
		{"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'x'", "SELECT", []string{"pg_stat_activity"}, []string{"pg_terminate_backend"}, true},
		{"SELECT EXTRACT(year FROM created_at), substring(name FROM 1 FOR 3) FROM accounts", "SELECT", []string{"accounts"}, []string{"extract", "substring"}, false},
		{"SELECT a IS DISTINCT FROM b FROM t", "SELECT", []string{"t"}, nil, false},
		{"SELECT CAST(price AS numeric(10,2)), amount::varchar(20) FROM items", "SELECT", []string{"items"}, nil, false},
		{"SELECT * FROM t1 WHERE id IN (SELECT tid FROM t2) AND EXISTS (SELECT 1 FROM t3)", "SELECT", []string{"t1", "t2", "t3"}, nil, true},
		{"SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t", "SELECT", []string{"t"}, []string{"row_number"}, false},
		{"VALUES (1, 'a'), (2, 'b')", "SELECT", nil, nil, false},
		{"TABLE users", "SELECT", []string{"users"}, nil, false},
		{"(SELECT a FROM x) UNION ALL (SELECT a FROM y)", "SELECT", []string{"x", "y"}, nil, false},
		{"SELECT * INTO backup_users FROM users", "CREATE", []string{"backup_users", "users"}, nil, false},
		{"SELECT * FROM users FOR UPDATE SKIP LOCKED", "SELECT", []string{"users"}, nil, false},
		{"INSERT INTO users (email, name) VALUES ($1, $2) RETURNING id", "INSERT", []string{"users"}, nil, false},
		{"insert into audit.log select now(), * from events", "INSERT", []string{"audit.log", "events"}, []string{"now"}, false},
		{"INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET n = t.n + 1", "INSERT", []string{"t"}, nil, false},
		{"UPDATE accounts SET balance = balance - 100 WHERE id = 7", "UPDATE", []string{"accounts"}, nil, true},
		{"UPDATE ONLY accounts a SET flag = true FROM limits l WHERE a.id = l.id", "UPDATE", []string{"accounts", "limits"}, nil, true},
		{"UPDATE users SET name = lower(name)", "UPDATE", []string{"users"}, []string{"lower"}, false},
		{"DELETE FROM sessions WHERE expires < now()", "DELETE", []string{"sessions"}, []string{"now"}, true},
		{"DELETE FROM orders", "DELETE", []string{"orders"}, nil, false},
		{"DELETE FROM a USING b WHERE a.id = b.id", "DELETE", []string{"a", "b"}, nil, true},
		{"MERGE INTO stock s USING deliveries d ON s.item = d.item WHEN MATCHED THEN UPDATE SET qty = s.qty + d.qty WHEN NOT MATCHED THEN INSERT VALUES (d.item, d.qty)", "MERGE", []string{"stock", "deliveries"}, nil, false},
		{"WITH recent AS (SELECT * FROM orders WHERE ts > now() - interval '1 day') SELECT count(*) FROM recent", "SELECT", []string{"orders", "recent"}, []string{"now", "count"}, false},
		{"WITH old AS (SELECT id FROM sessions WHERE ts < $1) DELETE FROM sessions WHERE id IN (SELECT id FROM old)", "DELETE", []string{"sessions", "old"}, nil, true},
		{"WITH moved AS (DELETE FROM inbox WHERE done RETURNING *) INSERT INTO archive SELECT * FROM moved", "INSERT", []string{"inbox", "archive", "moved"}, nil, false},
		{"WITH gone AS (DELETE FROM users RETURNING *) SELECT * FROM gone", "DELETE", []string{"users", "gone"}, nil, false},
		{"WITH RECURSIVE t(n) AS (VALUES (1) UNION ALL SELECT n+1 FROM t WHERE n < 100) SELECT sum(n) FROM t", "SELECT", []string{"t"}, []string{"sum"}, false},
		{"EXPLAIN SELECT * FROM users", "EXPLAIN", []string{"users"}, nil, false},
		{"EXPLAIN ANALYZE DELETE FROM users WHERE id = 1", "DELETE", []string{"users"}, nil, true},
		{"EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1", "UPDATE", []string{"t"}, nil, false},
		{"EXPLAIN (ANALYZE false, COSTS) DELETE FROM t", "EXPLAIN", []string{"t"}, nil, false},
		{"CREATE TABLE IF NOT EXISTS users (id bigserial PRIMARY KEY, email varchar(255) NOT NULL UNIQUE, org int REFERENCES orgs (id))", "CREATE", []string{"users", "orgs"}, nil, false},
		{"CREATE INDEX CONCURRENTLY idx_users_email ON users (lower(email))", "CREATE", []string{"users"}, []string{"lower"}, false},
		{"CREATE OR REPLACE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql AS $$ SELECT a + b; $$", "CREATE", nil, nil, false},
		{"CREATE MATERIALIZED VIEW mv AS SELECT * FROM t", "CREATE", []string{"mv", "t"}, nil, false},
		{"CREATE TABLE t2 AS SELECT * FROM t1", "CREATE", []string{"t2", "t1"}, nil, false},
		{"ALTER TABLE users ADD COLUMN phone text", "ALTER", []string{"users"}, nil, false},
		{"ALTER TABLE IF EXISTS ONLY public.users DROP CONSTRAINT users_pkey", "ALTER", []string{"public.users"}, nil, false},
		{"DROP TABLE users", "DROP", []string{"users"}, nil, false},
		{"DROP TABLE IF EXISTS a, b.c CASCADE", "DROP", []string{"a", "b.c"}, nil, false},
		{"drop function if exists add(int, int)", "DROP", nil, nil, false},
		{"TRUNCATE orders, order_items RESTART IDENTITY", "TRUNCATE", []string{"orders", "order_items"}, nil, false},
		{"TRUNCATE TABLE ONLY logs", "TRUNCATE", []string{"logs"}, nil, false},
		{"GRANT SELECT, INSERT ON TABLE users, orders TO app", "GRANT", []string{"users", "orders"}, nil, false},
		{"GRANT ALL ON ALL TABLES IN SCHEMA public TO admin", "GRANT", nil, nil, false},
		{"REVOKE ALL ON accounts FROM PUBLIC", "REVOKE", []string{"accounts"}, nil, false},
		{"COPY users TO STDOUT WITH (FORMAT csv)", "COPY", []string{"users"}, nil, false},
		{"COPY users (id, email) FROM STDIN", "COPY", []string{"users"}, nil, false},
		{"COPY (SELECT email FROM users WHERE admin) TO STDOUT", "COPY", []string{"users"}, nil, false},
		{"BEGIN", "BEGIN", nil, nil, false},
		{"START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "BEGIN", nil, nil, false},
		{"COMMIT", "COMMIT", nil, nil, false},
		{"END", "COMMIT", nil, nil, false},
		{"ROLLBACK TO SAVEPOINT sp1", "ROLLBACK", nil, nil, false},
		{"SAVEPOINT sp1", "SAVEPOINT", nil, nil, false},
		{"SET search_path TO app, public", "SET", nil, nil, false},
		{"SET LOCAL statement_timeout = '5s'", "SET", nil, nil, false},
		{"SHOW server_version", "SHOW", nil, nil, false},
		{"RESET ALL", "RESET", nil, nil, false},
		{"CALL refresh_stats(1, 'x')", "CALL", nil, []string{"refresh_stats"}, false},
		{"DO $$BEGIN PERFORM pg_sleep(1); END$$", "DO", nil, nil, false},
		{"DO $body$ DECLARE x int; BEGIN DROP TABLE users; END $body$ LANGUAGE plpgsql", "DO", nil, nil, false},
		{"LOCK TABLE accounts IN EXCLUSIVE MODE", "LOCK", []string{"accounts"}, nil, false},
		{"VACUUM (VERBOSE, ANALYZE) big_table", "VACUUM", []string{"big_table"}, nil, false},
		{"ANALYZE users", "ANALYZE", []string{"users"}, nil, false},
		{"LISTEN jobs", "LISTEN", nil, nil, false},
		{"NOTIFY jobs, 'x'", "NOTIFY", nil, nil, false},
		{"DISCARD ALL", "DISCARD", nil, nil, false},
		{"PREPARE del (int) AS DELETE FROM users WHERE id = $1", "DELETE", []string{"users"}, nil, true},
		{"EXECUTE del(3)", "EXECUTE", nil, nil, false},
		{"DEALLOCATE PREPARE del", "DEALLOCATE", nil, nil, false},
		{"DECLARE c CURSOR FOR SELECT email FROM customers WHERE id = 1", "DECLARE", []string{"customers"}, nil, true},
		{"DECLARE c BINARY NO SCROLL CURSOR WITH HOLD FOR SELECT upper(email) FROM crm.customers", "DECLARE", []string{"crm.customers"}, []string{"upper"}, false},
		{"REFRESH MATERIALIZED VIEW CONCURRENTLY mv", "REFRESH", []string{"mv"}, nil, false},
		{"LOAD '/tmp/evil.so'", "LOAD", nil, nil, false},
		{"SELECT 'it''s; DROP TABLE x' AS s, E'\\'; DELETE FROM y' FROM z", "SELECT", []string{"z"}, nil, false},
		{"SELECT /* nested /* comment; */ DROP */ 1 -- ; DELETE FROM t\n FROM w", "SELECT", []string{"w"}, nil, false},
		{`SELECT "weird;name" FROM "My Table"`, "SELECT", []string{"My Table"}, nil, false},
		{"SELECT $tag$ ; DROP TABLE a; $tag$, $$x$$", "SELECT", nil, nil, false},
		{"SELECT U&'d\\0061t\\+000061' FROM t", "SELECT", []string{"t"}, nil, false},
	} {
		sts := Classify(tc.sql)
		if len(sts) != 1 {
			t.Errorf("%q: %d statements, want 1: %+v", tc.sql, len(sts), sts)
			continue
		}
		st := sts[0]
		if st.Unknown != "" || st.Type != tc.typ || !reflect.DeepEqual(st.Tables, tc.tables) || !reflect.DeepEqual(st.Functions, tc.functions) || st.HasWhere != tc.where {
			t.Errorf("%q:\n got %s tables=%q functions=%q where=%v unknown=%q\nwant %s tables=%q functions=%q where=%v",
				tc.sql, st.Type, st.Tables, st.Functions, st.HasWhere, st.Unknown, tc.typ, tc.tables, tc.functions, tc.where)
		}
	}
}

func TestClassifyMulti(t *testing.T) {
	sts := Classify("BEGIN; UPDATE a SET x = 1; DROP TABLE b;; COMMIT;  -- done")
	var got []string
	for _, s := range sts {
		got = append(got, s.Type+"|"+s.Text)
	}
	want := []string{"BEGIN|BEGIN", "UPDATE|UPDATE a SET x = 1", "DROP|DROP TABLE b", "COMMIT|COMMIT"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
	// A function body with BEGIN ATOMIC keeps its semicolons.
	sts = Classify("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 2 END; END; SELECT f()")
	if len(sts) != 2 || sts[0].Type != "CREATE" || sts[1].Type != "SELECT" || !reflect.DeepEqual(sts[1].Functions, []string{"f"}) {
		t.Errorf("BEGIN ATOMIC: %+v", sts)
	}
	if sts := Classify("  ;; /* nothing */ ; "); len(sts) != 0 {
		t.Errorf("empty query: %+v", sts)
	}
	if sts := Classify("SELECT 'x'; SELECT E'\\''"); len(sts) != 2 || sts[1].Text != `SELECT E'\''` {
		t.Errorf("text of a statement ending in a string: %+v", sts)
	}
}

func TestClassifyUnknown(t *testing.T) {
	for _, q := range []string{
		"FROBNICATE users",
		"SELECT 'unterminated",
		"SELECT /* unterminated",
		`SELECT "unterminated`,
		"SELECT $x$ unterminated",
		"SELECT (1",
		"SELECT 1)",
		"42",
		"WITH x AS SELECT 1",
		"EXPLAIN",
		"PREPARE p AS",
		"DECLARE c CURSOR FOR DELETE FROM users",
		"DECLARE c CURSOR",
		"FETCH",
		"SELECT \x00",
		// Names that would read as other names: Unicode escapes, a dot
		// inside quotes.
		`SELECT email FROM U&"custom\0065rs"`,
		`SELECT email FROM u&"custom!0065rs" UESCAPE '!'`,
		`SELECT email FROM "x.customers"`,
		`SELECT * FROM "x.leak"()`,
		`SELECT "weird;""name" FROM t`,
		`SELECT * FROM "ÉLEAK"()`,
		`SELECT * FROM éleak()`,
	} {
		sts := Classify(q)
		if len(sts) == 0 || sts[len(sts)-1].Unknown == "" {
			t.Errorf("%q: classified as %+v, want unknown", q, sts)
		}
	}
	// Cursors: DECLARE, FETCH, MOVE and CLOSE name theirs.
	for _, tt := range []struct{ q, typ, name string }{
		{"DECLARE cur CURSOR FOR SELECT 1", "DECLARE", "cur"},
		{`DECLARE "Cur" CURSOR FOR SELECT 1`, "DECLARE", "Cur"},
		{"FETCH ALL FROM cur", "FETCH", "cur"},
		{"FETCH FORWARD 10 IN cur", "FETCH", "cur"},
		{"FETCH cur", "FETCH", "cur"},
		{"MOVE ABSOLUTE 3 FROM cur", "MOVE", "cur"},
		{"CLOSE cur", "CLOSE", "cur"},
		{"CLOSE ALL", "CLOSE", "all"},
	} {
		if sts := Classify(tt.q); len(sts) != 1 || sts[0].Type != tt.typ || sts[0].Name != tt.name {
			t.Errorf("%q: %+v, want %s naming %q", tt.q, sts, tt.typ, tt.name)
		}
	}
	// One unknown statement among known ones is reported as such.
	sts := Classify("SELECT 1; FROBNICATE; SELECT 2")
	if len(sts) != 3 || sts[1].Unknown == "" || !strings.Contains(sts[1].Unknown, "frobnicate") {
		t.Errorf("mixed: %+v", sts)
	}
}
