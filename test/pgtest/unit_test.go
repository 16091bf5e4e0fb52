// SPDX-License-Identifier: Apache-2.0

// Options, quoting and the stale-directory sweep, without a server.

package pgtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestOptionsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"zero", Options{}, false},
		{"names", Options{Role: "agent_1", Database: "orders"}, false},
		{"settings", Options{Settings: map[string]string{"log_connections": "on", "pg_stat_statements.max": "100"}}, false},
		{"superuser role", Options{Role: AdminRole}, true},
		{"initdb database", Options{Database: "template1"}, true},
		{"upper case", Options{Role: "Alice"}, true},
		{"quote", Options{Database: `a"b`}, true},
		{"long", Options{Role: "a234567890123456789012345678901234567890123456789012345678901234"}, true},
		{"bad setting", Options{Settings: map[string]string{"fsync = off\nssl": "off"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.opts.withDefaults()
			if (err != nil) != tt.wantErr {
				t.Fatalf("withDefaults() error = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && (got.Role == "" || got.Database == "" || got.StopTimeout <= 0) {
				t.Errorf("withDefaults() left zero fields: %+v", got)
			}
		})
	}
}

// TestDSNQuoting round-trips awkward values through pgx's parser.
func TestDSNQuoting(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"plain", "with space", `it's`, `back\slash`, "", `'\ '`} {
		s := dsn("host", "/tmp/dir with space", "password", v, "sslmode", "disable")
		cfg, err := pgconn.ParseConfig(s)
		if err != nil {
			t.Errorf("ParseConfig(%q): %v", s, err)
			continue
		}
		if cfg.Password != v || cfg.Host != "/tmp/dir with space" {
			t.Errorf("ParseConfig(%q): password %q host %q, want %q and the dir", s, cfg.Password, cfg.Host, v)
		}
	}
}

func TestConfQuote(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"127.0.0.1", "'127.0.0.1'"},
		{"it's", "'it''s'"},
		{`a\b`, `'a\\b'`},
	}
	for _, tt := range tests {
		if got := confQuote(tt.in); got != tt.want {
			t.Errorf("confQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestPortInUse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		log  string
		want bool
	}{
		{`2026-11-23 12:00:00.000 UTC [42] LOG:  could not bind IPv4 address "127.0.0.1": Address already in use
2026-11-23 12:00:00.000 UTC [42] HINT:  Is another postmaster already running on port 5432? If not, wait a few seconds and retry.
2026-11-23 12:00:00.000 UTC [42] WARNING:  could not create listen socket for "127.0.0.1"
2026-11-23 12:00:00.000 UTC [42] FATAL:  could not create any TCP/IP sockets
`, true},
		{`2026-11-23 12:00:00.000 UTC [42] FATAL:  could not load server certificate file "server.crt": No such file or directory
`, false},
	}
	for _, tt := range tests {
		if got := (&exitedError{Log: []byte(tt.log)}).portInUse(); got != tt.want {
			t.Errorf("portInUse(%q) = %v, want %v", tt.log, got, tt.want)
		}
	}
}

func TestSweepStale(t *testing.T) {
	t.Parallel()
	// A pid that surely exited: a child we started and reaped.
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid

	tmp := t.TempDir()
	dirs := []struct {
		name     string
		owner    string // owner.pid content; "" for none
		pm       string // data/postmaster.pid content; "" for none
		wantGone bool
	}{
		{"pgtest-dead", strconv.Itoa(dead) + "\n", "", true},
		{"pgtest-dead-pm-dead", strconv.Itoa(dead) + "\n", strconv.Itoa(dead) + "\n/data\n", true},
		{"pgtest-dead-pm-live", strconv.Itoa(dead) + "\n", strconv.Itoa(os.Getpid()) + "\n/data\n", false},
		{"pgtest-live", strconv.Itoa(os.Getpid()) + "\n", "", false},
		{"pgtest-noowner", "", "", false},
		{"pgtest-partial", strconv.Itoa(dead), "", false}, // no newline yet
		{"other-dead", strconv.Itoa(dead) + "\n", "", false},
	}
	for _, d := range dirs {
		p := filepath.Join(tmp, d.name)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		if d.owner != "" {
			if err := os.WriteFile(filepath.Join(p, ownerFile), []byte(d.owner), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if d.pm != "" {
			if err := os.MkdirAll(filepath.Join(p, dataSubdir), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(p, dataSubdir, "postmaster.pid"), []byte(d.pm), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	sweepStale(tmp)
	for _, d := range dirs {
		_, err := os.Stat(filepath.Join(tmp, d.name))
		if gone := os.IsNotExist(err); gone != d.wantGone {
			t.Errorf("%s: gone = %v, want %v", d.name, gone, d.wantGone)
		}
	}
}
