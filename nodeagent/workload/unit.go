// SPDX-License-Identifier: Apache-2.0

// Finding a systemd unit's cgroup: ask systemd when it runs, else search the
// cgroup2 tree for a directory named like the unit.

package workload

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	// maxUnitDepth bounds the tree search. A system service is at depth 2
	// (system.slice/agent.service), a user service at 5
	// (user.slice/user-1000.slice/user@1000.service/app.slice/x.service).
	maxUnitDepth = 6
	// systemctlTimeout bounds one systemctl call.
	systemctlTimeout = 5 * time.Second
)

// unitName returns the unit's full name: "agent" means "agent.service", as
// for systemctl. A name with a '/' or nothing before the suffix is refused.
func unitName(u string) (string, error) {
	if u == "" || strings.ContainsAny(u, "/\x00") || strings.HasPrefix(u, ".") || strings.HasPrefix(u, "-") {
		return "", fmt.Errorf("bad unit name %q", u)
	}
	if filepath.Ext(u) == "" {
		u += ".service"
	}
	return u, nil
}

// systemdRunning reports whether systemd is the init system (sd_booted).
func systemdRunning() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// systemdUnitCgroup asks systemd for the unit's cgroup, relative to the
// cgroup2 mount; "" when the unit is not running.
func systemdUnitCgroup(ctx context.Context, systemctl, unit string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, systemctlTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, systemctl, "show", "--property=ControlGroup", "--value", "--", unit).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && len(ee.Stderr) > 0 {
			return "", fmt.Errorf("systemctl show %s: %w: %s", unit, err, strings.TrimSpace(string(ee.Stderr)))
		}
		return "", fmt.Errorf("systemctl show %s: %w", unit, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// findUnitDir searches root's tree, breadth first and down to depth levels,
// for a directory named unit, and returns the shallowest (the first in
// lexical order among equals); "" when there is none. kubepods hierarchies
// are not entered: units are never inside them, and they are large.
func findUnitDir(ctx context.Context, root, unit string, depth int) (string, error) {
	level := []string{root}
	for range depth {
		var next []string
		for _, d := range level {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			ents, err := os.ReadDir(d)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return "", fmt.Errorf("search %s: %w", unit, err)
			}
			for _, e := range ents {
				if !e.IsDir() {
					continue
				}
				if e.Name() == unit {
					return filepath.Join(d, e.Name()), nil
				}
				if !strings.HasPrefix(e.Name(), "kubepods") {
					next = append(next, filepath.Join(d, e.Name()))
				}
			}
		}
		level = next
	}
	return "", nil
}
