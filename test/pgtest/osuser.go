// SPDX-License-Identifier: Apache-2.0

// The unprivileged OS user that runs initdb and postgres.

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// osUser is who runs the server's processes and owns its files.
type osUser struct {
	name     string
	uid, gid int
	// cred switches the child to uid/gid and drops supplementary groups;
	// nil when the caller is not root and the child runs as the caller.
	cred *syscall.Credential
}

// lookupOSUser returns the user to run PostgreSQL as: the caller when it
// is not root, else name, else "postgres", else "nobody".
func lookupOSUser(name string) (osUser, error) {
	if os.Geteuid() != 0 {
		u := osUser{uid: os.Geteuid(), gid: os.Getegid()}
		if cur, err := user.Current(); err == nil {
			u.name = cur.Username
		}
		return u, nil
	}
	candidates := []string{"postgres", "nobody"}
	if name != "" {
		candidates = []string{name}
	}
	var errs []error
	for _, n := range candidates {
		u, err := user.Lookup(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			errs = append(errs, fmt.Errorf("user %s: non-numeric uid %q or gid %q", n, u.Uid, u.Gid))
			continue
		}
		if uid == 0 {
			errs = append(errs, fmt.Errorf("user %s is root, which postgres refuses", n))
			continue
		}
		return osUser{
			name: n,
			uid:  int(uid),
			gid:  int(gid),
			cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)},
		}, nil
	}
	return osUser{}, fmt.Errorf("no user to run postgres as (tried %s): %w", strings.Join(candidates, ", "), errors.Join(errs...))
}

// chown gives path to u; a no-op when u is the caller.
func (u osUser) chown(path string) error {
	if u.cred == nil {
		return nil
	}
	if err := os.Lchown(path, u.uid, u.gid); err != nil {
		return fmt.Errorf("chown: %w", err)
	}
	return nil
}
