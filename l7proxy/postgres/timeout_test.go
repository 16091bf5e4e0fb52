// SPDX-License-Identifier: Apache-2.0

// The response timeout: a server that stops answering during a
// statement ends the session with Interlock's error; a session idling
// between statements is not bounded by it.

package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestResponseTimeout(t *testing.T) {
	const timeout = 400 * time.Millisecond
	f := newFixture(t, fixtureOptions{responseTimeout: timeout})
	c := f.agent(t)
	// Idle longer than the timeout between statements: the session lives.
	time.Sleep(2 * timeout)
	var one int
	if err := c.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("after idling: %v", err)
	}
	c.Close(t.Context())
	// A statement during which the server sends nothing for longer.
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeSimpleProtocol, pgx.QueryExecModeCacheStatement} {
		c := f.agent(t)
		start := time.Now()
		_, err := c.Exec(t.Context(), "SELECT pg_sleep(20)", mode)
		took := time.Since(start)
		if pgCode(err) != StateConnectionFailure || !strings.Contains(err.Error(), "interlock: upstream response timeout") ||
			!strings.Contains(err.Error(), timeout.String()) {
			t.Errorf("mode %v: %v, want Interlock's response timeout error", mode, err)
		}
		if took > 10*time.Second {
			t.Errorf("mode %v: the error came after %v", mode, took)
		}
		if !c.IsClosed() {
			if err := c.Ping(t.Context()); err == nil {
				t.Errorf("mode %v: the session outlived the timeout", mode)
			}
		}
	}
	// The server was asked to cancel the sleeps.
	d := f.direct(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		if err := d.QueryRow(t.Context(), "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(20)' AND state = 'active'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sleeps still run on the server", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.sink.WaitClosed(t)
	var recorded int
	for _, e := range f.sink.Events() {
		if r := e.GetPgResult(); r.GetFromProxy() && strings.Contains(r.GetError().GetMessage(), "response timeout") {
			recorded++
		}
		if cl := e.GetClose(); cl != nil && strings.Contains(cl.GetReason(), "response timeout") {
			recorded++
		}
	}
	if recorded < 4 {
		t.Errorf("%d recorded results and closes name the timeout, want 4", recorded)
	}
}
