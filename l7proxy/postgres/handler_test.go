// SPDX-License-Identifier: Apache-2.0

// Handler tests with real components: PostgreSQL 15 (pgtest), pgx and
// psql as unmodified agents, azurefake as Entra ID, the policy engine,
// the masker and the recorder.

package postgres

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"google.golang.org/protobuf/proto"

	interlockv1 "github.com/interlockhq/interlock/proto/interlock/v1"
	"github.com/interlockhq/interlock/test/azurefake"
)

const (
	realEmail = "alice.liddell@wonderland.example"
	realCard  = "4111 1111 1111 1111"
)

// setupCustomers makes the customers table, with an email (masked by
// column) and notes holding a card number (masked by the detector).
func (f *fixture) setupCustomers(t testing.TB) {
	f.exec(t,
		"CREATE TABLE customers (id int PRIMARY KEY, name text, email text, notes text, credit int)",
		"INSERT INTO customers VALUES (1, 'Alice', '"+realEmail+"', 'card "+realCard+" on file', 100), (2, 'Bob', 'bob@example.org', NULL, 50)",
		"CREATE TABLE events (id int, what text)",
		"INSERT INTO events VALUES (1, 'paid with "+realCard+"'), (2, 'nothing')",
	)
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// TestSelectMasked: SELECT through pgx (extended protocol, and simple)
// returns email masked by the column rule and the card number masked by
// the detector; neither real value is recorded.
func TestSelectMasked(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		var name, email string
		var notes *string
		var credit int
		err := c.QueryRow(t.Context(), "SELECT name, email, notes, credit FROM customers WHERE id = $1", mode, 1).Scan(&name, &email, &notes, &credit)
		if err != nil {
			t.Fatalf("mode %v: %v", mode, err)
		}
		if name != "Alice" || credit != 100 {
			t.Errorf("mode %v: unmasked columns changed: %q %d", mode, name, credit)
		}
		if email != maskedValue {
			t.Errorf("mode %v: email = %q, want %q", mode, email, maskedValue)
		}
		if notes == nil || strings.Contains(*notes, "4111") || !strings.Contains(*notes, "[MASKED:credit-card]") {
			t.Errorf("mode %v: notes = %v, want the card masked", mode, notes)
		}
	}
	// A table without column rules: detectors only.
	var what string
	if err := c.QueryRow(t.Context(), "SELECT what FROM events WHERE id = 1").Scan(&what); err != nil || strings.Contains(what, "4111") {
		t.Errorf("events: %q %v", what, err)
	}
	c.Close(t.Context())
	f.sink.WaitClosed(t)
	evs := f.sink.Events()
	checkRecording(t, evs, realEmail, realCard, "4111111111111111", f.srv.Password())
	var results, masked, byColumn int
	for _, e := range evs {
		if r := e.GetPgResult(); r != nil {
			results++
			for _, m := range r.GetData().GetMasks() {
				masked += int(m.Count)
				if m.GetColumn() == "email" && m.GetRule() == "mask-customer-email" && m.GetJsonPath() == "" {
					byColumn += int(m.Count)
				}
			}
		}
		b, _ := proto.Marshal(e)
		if strings.Contains(string(b), realEmail) {
			t.Error("the real email is in the recording")
		}
	}
	if results == 0 || masked < 6 || byColumn == 0 {
		t.Errorf("recorded %d results with %d masked values, %d by the email column rule", results, masked, byColumn)
	}
}

// TestDropDenied: psql's DROP TABLE is refused with 42501 and the rule,
// and the table is still there.
func TestDropDenied(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	env, conninfo := f.psqlArgs(f.srv.User(), f.srv.Password())
	cmd := exec.CommandContext(t.Context(), "psql", conninfo, "-v", "ON_ERROR_STOP=1", "-X", "-c", "DROP TABLE customers")
	cmd.Env = append(env, "PGOPTIONS=-c client_min_messages=warning", "LC_ALL=C", "PGAPPNAME=agent", "PG_COLOR=never", "VERBOSITY=verbose")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "RequestDisallowedByInterlock: no-ddl: Agents may not change the schema.") {
		t.Fatalf("psql DROP TABLE: err=%v\n%s", err, out)
	}
	var n int
	if err := f.direct(t).QueryRow(t.Context(), "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 2 {
		t.Errorf("customers after the refused DROP: %d rows, %v", n, err)
	}
	// psql -c with a SELECT: masked output.
	cmd = exec.CommandContext(t.Context(), "psql", conninfo, "-X", "-A", "-t", "-c", "SELECT email FROM customers ORDER BY id")
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != maskedValue+"\n"+maskedValue {
		t.Errorf("psql SELECT: %v\n%s", err, out)
	}
	f.sink.WaitClosed(t)
	var sqlstate string
	for _, e := range f.sink.Events() {
		if r := e.GetPgResult(); r.GetError() != nil && r.GetFromProxy() {
			sqlstate = r.GetError().GetSqlstate()
		}
	}
	if sqlstate != StateInsufficientPrivilege {
		t.Errorf("recorded refusal has SQLSTATE %q", sqlstate)
	}
}

// TestExtendedDeleteDenied: a DELETE through the extended protocol is
// refused, nothing is deleted, and the connection stays usable, in and
// out of a transaction; a refusal inside a transaction aborts it as a
// server error would.
func TestExtendedDeleteDenied(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	_, err := c.Exec(t.Context(), "DELETE FROM customers WHERE id = $1", 1)
	if pgCode(err) != StateInsufficientPrivilege || !strings.Contains(err.Error(), "no-delete") {
		t.Fatalf("DELETE: %v", err)
	}
	var one int
	if err := c.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil || one != 1 {
		t.Fatalf("connection after the refusal: %v", err)
	}
	tx, err := c.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "INSERT INTO customers (id, name) VALUES (3, 'Carol')"); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), "DELETE FROM customers WHERE id = 2"); pgCode(err) != StateInsufficientPrivilege {
		t.Fatalf("DELETE in a transaction: %v", err)
	}
	// The transaction is aborted, as after any error.
	if _, err := tx.Exec(t.Context(), "SELECT 1"); pgCode(err) != "25P02" {
		t.Errorf("after a refusal in a transaction: %v, want 25P02", err)
	}
	if err := tx.Commit(t.Context()); err == nil || !errors.Is(err, pgx.ErrTxCommitRollback) {
		t.Errorf("commit of the aborted transaction: %v", err)
	}
	var n int
	if err := f.direct(t).QueryRow(t.Context(), "SELECT count(*) FROM customers").Scan(&n); err != nil || n != 2 {
		t.Errorf("customers: %d rows (%v), want 2: nothing deleted, the insert rolled back", n, err)
	}
	if err := c.QueryRow(t.Context(), "SELECT 2").Scan(&one); err != nil || one != 2 {
		t.Errorf("connection after the transaction: %v", err)
	}
}

// TestMultiStatementDenied: one forbidden statement refuses the whole
// query; nothing of it runs.
func TestMultiStatementDenied(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	_, err := c.Exec(t.Context(), "INSERT INTO events VALUES (9, 'x'); DROP TABLE customers; SELECT 1")
	if pgCode(err) != StateInsufficientPrivilege || !strings.Contains(err.Error(), "no-ddl") {
		t.Fatalf("multi-statement: %v", err)
	}
	var n int
	d := f.direct(t)
	if err := d.QueryRow(t.Context(), "SELECT count(*) FROM events WHERE id = 9").Scan(&n); err != nil || n != 0 {
		t.Errorf("the allowed statement of a refused query ran: %d %v", n, err)
	}
	if err := d.QueryRow(t.Context(), "SELECT count(*) FROM customers").Scan(&n); err != nil {
		t.Errorf("customers is gone: %v", err)
	}
	// An allowed multi-statement query runs whole.
	if _, err := c.Exec(t.Context(), "INSERT INTO events VALUES (10, 'a'); INSERT INTO events VALUES (11, 'b')"); err != nil {
		t.Errorf("allowed multi-statement: %v", err)
	}
}

// TestUnclassifiableFailsClosed: a statement the classifier cannot
// classify is refused.
func TestUnclassifiableFailsClosed(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.agent(t)
	for _, q := range []string{"EXECUTE never_prepared", "SELECT 1; FROBNICATE"} {
		_, err := c.Exec(t.Context(), q, pgx.QueryExecModeSimpleProtocol)
		if pgCode(err) != StateInsufficientPrivilege || !strings.Contains(err.Error(), "could not be classified") {
			t.Errorf("%q: %v", q, err)
		}
	}
	// SQL-level PREPARE on the session makes EXECUTE known.
	if _, err := c.Exec(t.Context(), "PREPARE two AS SELECT 2", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(t.Context(), "EXECUTE two", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Errorf("EXECUTE of a prepared SELECT: %v", err)
	}
}

// TestApproval: an UPDATE is held while people decide; approved, it runs;
// pending, it is refused with the approval id.
func TestApproval(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	c := f.agent(t)
	f.approver.set(interlockv1.ApprovalState_APPROVAL_STATE_PENDING, 0)
	_, err := c.Exec(t.Context(), "UPDATE customers SET credit = 0 WHERE id = 1")
	if pgCode(err) != StateInsufficientPrivilege || !strings.Contains(err.Error(), "ApprovalPending") || !strings.Contains(err.Error(), "appr-1") {
		t.Fatalf("pending: %v", err)
	}
	f.approver.set(interlockv1.ApprovalState_APPROVAL_STATE_APPROVED, 300*time.Millisecond)
	start := time.Now()
	tag, err := c.Exec(t.Context(), "UPDATE customers SET credit = 0 WHERE id = 1")
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("approved: %v %v", tag, err)
	}
	if held := time.Since(start); held < 300*time.Millisecond {
		t.Errorf("held %v, want the approver's delay", held)
	}
	var credit int
	if err := f.direct(t).QueryRow(t.Context(), "SELECT credit FROM customers WHERE id = 1").Scan(&credit); err != nil || credit != 0 {
		t.Errorf("credit = %d (%v), want the approved update", credit, err)
	}
	f.approver.mu.Lock()
	defer f.approver.mu.Unlock()
	if len(f.approver.asked) == 0 || f.approver.asked[0].Rule != "updates-need-approval" || f.approver.asked[0].Operation != "UPDATE customers" {
		t.Errorf("approval requests: %+v", f.approver.asked)
	}
}

// TestForgedTokenRefused: a password that is a forged token is refused
// with 28P01, and the server never saw a connection.
func TestForgedTokenRefused(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	forged, err := f.az.ForgeToken(azurefake.TokenOptions{Resource: audiencePG})
	if err != nil {
		t.Fatal(err)
	}
	before := connectionsReceived(t, f)
	_, err = pgx.ConnectConfig(t.Context(), f.agentConfig(t, "agent@example.com", forged))
	if pgCode(err) != StateInvalidPassword {
		t.Fatalf("forged token: %v, want 28P01", err)
	}
	if after := connectionsReceived(t, f); after != before {
		t.Errorf("the server received %d connections during the refused login", after-before)
	}
	// psql too.
	env, conninfo := f.psqlArgs("agent@example.com", forged)
	cmd := exec.CommandContext(t.Context(), "psql", conninfo, "-X", "-c", "SELECT 1")
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "token does not verify") {
		t.Errorf("psql with a forged token: %v\n%s", err, out)
	}
	f.sink.WaitClosed(t)
	checkRecording(t, f.sink.Events(), forged)
}

// connectionsReceived counts the server's "connection received" log lines.
func connectionsReceived(t *testing.T, f *fixture) int {
	t.Helper()
	time.Sleep(100 * time.Millisecond) // let the server write its log
	b, err := readFile(f.srv.LogPath())
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "connection received")
}

// TestInjectCredential: the target injects the node's credential: the
// agent proves itself with a token, the server sees the node's user and
// password, and the agent's token never goes upstream.
func TestInjectCredential(t *testing.T) {
	const nodeUser, nodePass = "interlock_node", "node-secret-Pa55"
	f := newFixture(t, fixtureOptions{
		credential:   "{mode: inject, azure: {type: managedIdentity}, user: " + nodeUser + "}",
		nodePassword: nodePass,
	})
	admin, err := pgx.Connect(t.Context(), f.srv.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(t.Context(), "CREATE ROLE "+nodeUser+" LOGIN PASSWORD '"+nodePass+"'"); err != nil {
		t.Fatal(err)
	}
	admin.Close(t.Context())
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if c, err := pgx.Connect(ctx, f.srv.AdminDSN()); err == nil {
			_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+nodeUser)
			c.Close(ctx)
		}
	})
	tok, err := f.az.MintToken(azurefake.TokenOptions{Resource: audiencePG})
	if err != nil {
		t.Fatal(err)
	}
	c, err := pgx.ConnectConfig(t.Context(), f.agentConfig(t, "agent@example.com", tok))
	if err != nil {
		t.Fatalf("agent with a token: %v", err)
	}
	defer c.Close(context.Background())
	var user string
	if err := c.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil || user != nodeUser {
		t.Fatalf("current_user = %q (%v), want the injected %s", user, err, nodeUser)
	}
	// A password that is not a token is refused: the node logs in.
	if _, err := pgx.ConnectConfig(t.Context(), f.agentConfig(t, "agent@example.com", f.srv.Password())); pgCode(err) != StateInvalidPassword {
		t.Errorf("plain password to an inject target: %v", err)
	}
	c.Close(t.Context())
	f.sink.WaitClosed(t)
	checkRecording(t, f.sink.Events(), tok, nodePass)
	var verified, opened bool
	for _, e := range f.sink.Events() {
		if d := e.GetDecision(); d != nil && strings.Contains(d.Reason, "token verified") && strings.Contains(d.Reason, "injected for user "+nodeUser) {
			verified = true
		}
		if o := e.GetOpen(); o != nil && o.GetIdentity().GetIssuer() == f.az.IssuerV1() && o.GetIdentity().GetAppId() != "" &&
			o.GetUser() == "agent@example.com" && o.GetDatabase() == f.database {
			opened = true
		}
	}
	if !verified {
		t.Error("no recorded login decision with the verified token and the injected user")
	}
	if !opened {
		t.Error("no recorded session open with the verified identity, the user and the database")
	}
}

// TestPool: concurrent agents sharing a few connections, as a pool does
// (pgxpool needs github.com/jackc/puddle/v2 in go.mod, which it is not).
func TestPool(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	pool := make(chan *pgx.Conn, 4)
	for range 4 {
		pool <- f.agent(t)
	}
	errs := make(chan error, 40)
	for i := range 40 {
		go func() {
			c := <-pool
			defer func() { pool <- c }()
			var email string
			err := c.QueryRow(t.Context(), "SELECT email FROM customers WHERE id = $1", 1+i%2).Scan(&email)
			if err == nil && email != maskedValue {
				err = errors.New("unmasked: " + email)
			}
			errs <- err
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestCopy: COPY TO STDOUT of a table with a column rule fails closed
// (COPY names no columns); without one, it passes with the detectors.
func TestCopy(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	env, conninfo := f.psqlArgs(f.srv.User(), f.srv.Password())
	cmd := exec.CommandContext(t.Context(), "psql", conninfo, "-X", "-c", "COPY customers TO STDOUT")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), CodeMaskFailed) || strings.Contains(string(out), realEmail) {
		t.Errorf("COPY customers: %v\n%s", err, out)
	}
	cmd = exec.CommandContext(t.Context(), "psql", conninfo, "-X", "-c", "COPY events TO STDOUT")
	cmd.Env = env
	out, err = cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[MASKED:credit-card]") || strings.Contains(string(out), "4111") || !strings.Contains(string(out), "nothing") {
		t.Errorf("COPY events: %v\n%s", err, out)
	}
	// COPY FROM STDIN is decided (COPY is allowed) and its data flows.
	c := f.agent(t)
	tag, err := c.PgConn().CopyFrom(t.Context(), strings.NewReader("7\tcopied\n8\tcopied\n"), "COPY events FROM STDIN")
	if err != nil || tag.RowsAffected() != 2 {
		t.Errorf("COPY FROM STDIN: %v %v", tag, err)
	}
}

// TestCancel: pgx cancels a running query with a CancelRequest, which
// the handler forwards to the server.
func TestCancel(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	c := f.agent(t)
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Exec(ctx, "SELECT pg_sleep(30)")
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("cancelled query: %v after %v", err, time.Since(start))
	}
	if code := pgCode(err); code != "57014" && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled query: %v", err)
	}
	// psql's cancel (SIGINT) goes the same way.
	env, conninfo := f.psqlArgs(f.srv.User(), f.srv.Password())
	cmd := exec.Command("psql", conninfo, "-X", "-c", "SELECT pg_sleep(30)")
	cmd.Env = env
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Second)
	_ = cmd.Process.Signal(interruptSignal)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
		if !strings.Contains(out.String(), "canceling statement due to user request") {
			t.Errorf("psql after SIGINT: %s", out.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("psql's cancel did not reach the server")
	}
}

// TestRecordingFailureRefusesStatements: once the recording fails (a full
// disk), no statement reaches the server, whether the failure hit the
// last result (recorded in the background) or the next decision.
func TestRecordingFailureRefusesStatements(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.exec(t, "CREATE TABLE t_rec (id int)")
	c := f.agent(t)
	if _, err := c.Exec(t.Context(), "SELECT count(*) FROM t_rec"); err != nil {
		t.Fatal(err)
	}
	f.sink.FailWith(errors.New("no space left on device"))
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeExec} {
		if _, err := c.Exec(t.Context(), "INSERT INTO t_rec VALUES (1)", mode); err == nil {
			t.Errorf("%v: an INSERT went through with the recording failing", mode)
		}
	}
	f.sink.FailWith(nil)
	var n int
	if err := f.direct(t).QueryRow(t.Context(), "SELECT count(*) FROM t_rec").Scan(&n); err != nil || n != 0 {
		t.Errorf("the server has %d rows (%v) after the refused INSERTs, want 0", n, err)
	}
}

// TestOrdinaryAgentFlows: what agents do every day keeps working with
// column masks configured — a pgx transaction retried after an error,
// a cursor name reused in the next transaction, a write to a table with
// an updated_at trigger followed by a read in the same query or batch —
// and a statement in a failed transaction gets the server's 25P02.
func TestOrdinaryAgentFlows(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	f.setupCustomers(t)
	f.exec(t,
		"CREATE TABLE orders (id int, total int, updated_at timestamptz)",
		`CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN NEW.updated_at := now(); RETURN NEW; END$$`,
		`CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch()`,
	)
	c := f.agent(t)
	ctx := t.Context()

	// A transaction that failed, retried with the same cached statement.
	const q = "SELECT count(*) FROM events WHERE id > $1"
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "SELECT 1/0"); err == nil {
		t.Fatal("1/0 succeeded")
	}
	var n int
	err = tx.QueryRow(ctx, q, 0).Scan(&n)
	if pgCode(err) != "25P02" {
		t.Errorf("a statement in a failed transaction: %v; want 25P02", err)
	}
	_ = tx.Rollback(ctx)
	for range 2 {
		if err := c.QueryRow(ctx, q, 0).Scan(&n); err != nil || n != 2 {
			t.Fatalf("the same statement after ROLLBACK: %d, %v", n, err)
		}
	}

	// A cursor name reused in the next transaction.
	for i := range 2 {
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(ctx, "DECLARE c2 CURSOR FOR SELECT id FROM customers ORDER BY id"); err != nil {
			t.Fatalf("transaction %d: DECLARE: %v", i, err)
		}
		if err := tx.QueryRow(ctx, "FETCH 1 FROM c2").Scan(&n); err != nil || n != 1 {
			t.Fatalf("transaction %d: FETCH: %d, %v", i, n, err)
		}
		if err := tx.Commit(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// A write firing a trigger of the database's own, then a read, in one
	// query and in one batch.
	if _, err := c.Exec(ctx, "INSERT INTO orders (id, total) VALUES (1, 10); SELECT count(*) FROM orders", pgx.QueryExecModeSimpleProtocol); err != nil {
		t.Errorf("INSERT then SELECT in one query: %v", err)
	}
	b := &pgx.Batch{}
	b.Queue("INSERT INTO orders (id, total) VALUES ($1, $2)", 2, 20)
	b.Queue("SELECT count(*) FROM orders")
	br := c.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		t.Errorf("batch INSERT: %v", err)
	}
	if err := br.QueryRow().Scan(&n); err != nil || n != 2 {
		t.Errorf("batch SELECT after the INSERT: %d, %v", n, err)
	}
	if err := br.Close(); err != nil {
		t.Error(err)
	}
}
