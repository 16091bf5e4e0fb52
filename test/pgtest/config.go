// SPDX-License-Identifier: Apache-2.0

// postgresql.conf settings and pg_hba.conf rules.

package pgtest

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// hbaConf admits the superuser over the unix socket and everyone else only
// over TLS with a SCRAM password; plaintext TCP is refused outright so that
// tests prove TLS. pg_hba.conf is first match.
const hbaConf = `# pg_hba.conf written by pgtest.
# TYPE     DATABASE  USER  ADDRESS  METHOD
local      all       all            trust
hostnossl  all       all   all      reject
hostssl    all       all   all      scram-sha-256
`

// baseSettings are pgtest's postgresql.conf settings, for a disposable
// server: no durability, small memory, logs to stderr.
func (s *Server) baseSettings() [][2]string {
	return [][2]string{
		{"listen_addresses", Host},
		{"unix_socket_directories", s.SocketDir()},
		{"unix_socket_permissions", "0700"},
		{"ssl", "on"},
		{"ssl_cert_file", filepath.Join(s.dir, certFile)},
		{"ssl_key_file", filepath.Join(s.dir, keyFile)},
		{"ssl_min_protocol_version", "TLSv1.2"},
		{"password_encryption", "scram-sha-256"},
		{"fsync", "off"},
		{"synchronous_commit", "off"},
		{"full_page_writes", "off"},
		{"shared_buffers", "32MB"},
		{"max_connections", "100"},
		{"logging_collector", "off"},
		{"log_destination", "stderr"},
		{"log_line_prefix", "%m [%p] %q%u@%d "},
		{"log_timezone", "UTC"},
		{"timezone", "UTC"},
	}
}

// writeConfig appends pgtest's settings and then extra to the
// postgresql.conf that initdb wrote (later lines win), and replaces
// pg_hba.conf. Both files keep initdb's owner.
func (s *Server) writeConfig(extra map[string]string) error {
	var b strings.Builder
	b.WriteString("\n# Written by pgtest; later settings override earlier ones.\n")
	for _, kv := range s.baseSettings() {
		fmt.Fprintf(&b, "%s = %s\n", kv[0], confQuote(kv[1]))
	}
	for _, k := range slices.Sorted(maps.Keys(extra)) {
		fmt.Fprintf(&b, "%s = %s\n", k, confQuote(extra[k]))
	}
	conf := filepath.Join(s.DataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return fmt.Errorf("open postgresql.conf: %w", err)
	}
	_, err = f.WriteString(b.String())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write postgresql.conf: %w", err)
	}
	hba := filepath.Join(s.DataDir(), "pg_hba.conf")
	if err := os.WriteFile(hba, []byte(hbaConf), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	return nil
}

// confQuote quotes a postgresql.conf value: in single quotes, with a
// quote doubled and a backslash escaped.
func confQuote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `''`)
	return "'" + r.Replace(v) + "'"
}
