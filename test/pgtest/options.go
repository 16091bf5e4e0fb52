// SPDX-License-Identifier: Apache-2.0

// Options configure a server; their zero value is a working default.

package pgtest

import (
	"fmt"
	"regexp"
	"time"

	"github.com/interlockhq/interlock/test/testca"
)

// Defaults for the zero Options.
const (
	DefaultRole         = "interlock"
	DefaultDatabase     = "interlock"
	DefaultStopTimeout  = 10 * time.Second
	DefaultStartTimeout = 2 * time.Minute // used by Start and Shared.Main
)

// AdminRole is the superuser initdb creates. It has no password and logs
// in over the unix socket only.
const AdminRole = "postgres"

// Options configure New.
type Options struct {
	// BinDir holds initdb and postgres. Empty means the newest
	// /usr/lib/postgresql/*/bin that holds both.
	BinDir string

	// ServerNames are DNS names or IP addresses the server certificate is
	// issued for, beside "localhost" and "127.0.0.1" (for example
	// "orders.postgres.database.azure.com").
	ServerNames []string

	// CA issues the server certificate. Nil means a new CA per server.
	CA *testca.CA

	// OSUser runs initdb and postgres when the caller is root. Empty means
	// "postgres", or "nobody" where there is no such user. Ignored when the
	// caller is not root: the server then runs as the caller.
	OSUser string

	// Role is the password role and Database the database it owns, which
	// DSN names. Empty means DefaultRole and DefaultDatabase.
	Role     string
	Database string

	// Settings are extra postgresql.conf settings ("log_connections":
	// "on"), written after pgtest's own so that they win.
	Settings map[string]string

	// StopTimeout bounds the fast shutdown in Close before it sends
	// SIGKILL. Zero means DefaultStopTimeout.
	StopTimeout time.Duration
}

// identRE matches names pgtest accepts for roles, databases and settings:
// plain lowercase identifiers, so they need no quoting anywhere (SQL, DSN,
// postgresql.conf) and PostgreSQL does not truncate them.
var identRE = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// settingRE matches postgresql.conf parameter names, custom ones included.
var settingRE = regexp.MustCompile(`^[a-z_][a-z0-9_.]*$`)

// withDefaults returns o with its zero fields filled in, or an error
// naming the first field that is invalid.
func (o Options) withDefaults() (Options, error) {
	if o.Role == "" {
		o.Role = DefaultRole
	}
	if o.Database == "" {
		o.Database = DefaultDatabase
	}
	if o.StopTimeout <= 0 {
		o.StopTimeout = DefaultStopTimeout
	}
	if err := checkName("role", o.Role); err != nil {
		return o, err
	}
	if o.Role == AdminRole {
		return o, fmt.Errorf("role %q is the superuser's name", o.Role)
	}
	if err := checkName("database", o.Database); err != nil {
		return o, err
	}
	switch o.Database {
	case "postgres", "template0", "template1":
		return o, fmt.Errorf("database %q exists after initdb", o.Database)
	}
	for k := range o.Settings {
		if !settingRE.MatchString(k) {
			return o, fmt.Errorf("setting %q: not a parameter name", k)
		}
	}
	return o, nil
}

func checkName(what, name string) error {
	if !identRE.MatchString(name) {
		return fmt.Errorf("%s %q: want 1 to 63 of [a-z0-9_], not starting with a digit", what, name)
	}
	return nil
}
