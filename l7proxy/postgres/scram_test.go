// SPDX-License-Identifier: Apache-2.0

// SCRAM-SHA-256 against RFC 7677's test vector.

package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func TestScramRFC7677(t *testing.T) {
	s := &scramClient{user: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO"}
	s.clientFirst = "n=user,r=" + s.nonce
	if got := string(s.first()); got != "n,,n=user,r=rOprNGfwEbeRWgbNEkqO" {
		t.Fatalf("client-first %q", got)
	}
	final, err := s.final([]byte("r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="; string(final) != want {
		t.Fatalf("client-final\n got %s\nwant %s", final, want)
	}
	if err := s.verify([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err != nil {
		t.Fatal(err)
	}
	if err := s.verify([]byte("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err == nil {
		t.Fatal("a wrong server signature verified")
	}
	if _, err := s.final([]byte("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")); err == nil {
		t.Fatal("a nonce not extending the client's was accepted")
	}
	if _, err := s.final([]byte("r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=1")); err == nil {
		t.Fatal("1 iteration was accepted")
	}
}

// TestScramSASLprep: roles whose passwords are not ASCII log in through
// the handler, the password prepared with SASLprep as the server
// prepared it when it stored the verifier.
func TestScramSASLprep(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	roles := []struct{ role, stored, given string }{
		{"interlock_umlaut", "p\u00e4ssw\u00f6rd", "p\u00e4ssw\u00f6rd"},
		{"interlock_umlaut", "p\u00e4ssw\u00f6rd", "pa\u0308sswo\u0308rd"}, // decomposed: NFKC composes it
		{"interlock_nbsp", "pass\u00a0word", "pass\u00a0word"},             // NBSP: mapped to SPACE
		{"interlock_nbsp", "pass\u00a0word", "pass\u2003word"},             // EM SPACE: the same
		{"interlock_ivx", "\u2168x", "IXx"},                                // ROMAN NUMERAL NINE: NFKC
	}
	admin, err := pgx.Connect(t.Context(), f.srv.AdminDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	made := map[string]bool{}
	for _, r := range roles {
		if made[r.role] {
			continue
		}
		made[r.role] = true
		if _, err := admin.Exec(t.Context(), "CREATE ROLE "+r.role+" LOGIN PASSWORD '"+r.stored+"'"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.Exec(t.Context(), "GRANT CONNECT ON DATABASE "+pgx.Identifier{f.database}.Sanitize()+" TO "+r.role); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if c, err := pgx.Connect(ctx, f.srv.AdminDSN()); err == nil {
				_, _ = c.Exec(ctx, "DROP ROLE IF EXISTS "+r.role)
				c.Close(ctx)
			}
		})
	}
	var method string
	if err := admin.QueryRow(t.Context(), "SELECT left(rolpassword, 13) FROM pg_authid WHERE rolname = 'interlock_nbsp'").Scan(&method); err != nil || method != "SCRAM-SHA-256" {
		t.Fatalf("the stored password is %q (%v), want a SCRAM verifier", method, err)
	}
	for _, r := range roles {
		c, err := pgx.ConnectConfig(t.Context(), f.agentConfig(t, r.role, r.given))
		if err != nil {
			t.Errorf("%s with %+q: %v", r.role, r.given, err)
			continue
		}
		var user string
		if err := c.QueryRow(t.Context(), "SELECT current_user").Scan(&user); err != nil || user != r.role {
			t.Errorf("current_user = %q (%v)", user, err)
		}
		c.Close(t.Context())
	}
	// A wrong password is still refused.
	if _, err := pgx.ConnectConfig(t.Context(), f.agentConfig(t, "interlock_nbsp", "pass_word")); pgCode(err) != StateInvalidPassword {
		t.Errorf("wrong password: %v", err)
	}
}
