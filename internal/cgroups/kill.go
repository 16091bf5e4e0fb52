// SPDX-License-Identifier: Apache-2.0

// Emptying a cgroup (cgroup.kill, or SIGKILL per pid) and removing it with
// whatever its processes made below it.

package cgroups

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// subtree returns dir and every cgroup below it, deepest first.
func subtree(dir string) ([]string, error) {
	var dirs []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	slices.Reverse(dirs)
	return dirs, err
}

// populated reports whether a process is left in dir or below it.
func populated(dir string) (bool, error) {
	data, err := os.ReadFile(filepath.Join(dir, "cgroup.events"))
	if err != nil {
		return false, err
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "populated "); ok {
			return v != "0", nil
		}
	}
	return false, fmt.Errorf("no populated field in %s/cgroup.events", dir)
}

// Kill kills every process in dir and below and waits until none is
// left: with cgroup.kill (Linux 5.14+), else with SIGKILL for each pid, again
// and again until the cgroup is empty (a process may fork meanwhile).
func Kill(ctx context.Context, dir string) error {
	useKillFile := true
	if err := os.WriteFile(filepath.Join(dir, "cgroup.kill"), []byte("1"), 0); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("cgroups: write cgroup.kill: %w", err)
		}
		useKillFile = false
	}
	return WaitEmpty(ctx, dir, !useKillFile)
}

// WaitEmpty polls until dir holds no process; with signal it SIGKILLs every
// pid it still finds on each round.
func WaitEmpty(ctx context.Context, dir string, signal bool) error {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if signal {
			if err := signalTree(dir); err != nil {
				return err
			}
		}
		busy, err := populated(dir)
		if err != nil {
			return fmt.Errorf("cgroups: wait for empty cgroup: %w", err)
		}
		if !busy {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cgroups: wait for empty cgroup %s: %w", dir, ctx.Err())
		case <-tick.C:
		}
	}
}

// signalTree sends SIGKILL to every pid in dir and below.
func signalTree(dir string) error {
	dirs, err := subtree(dir)
	if err != nil {
		return fmt.Errorf("cgroups: list %s: %w", dir, err)
	}
	for _, d := range dirs {
		pids, err := Procs(d)
		if err != nil {
			return fmt.Errorf("read cgroup.procs: %w", err)
		}
		for _, pid := range pids {
			if err := unix.Kill(pid, unix.SIGKILL); err != nil && !errors.Is(err, unix.ESRCH) {
				return fmt.Errorf("kill %d: %w", pid, err)
			}
		}
	}
	return nil
}

// Remove removes dir and any cgroup a process made below it, deepest
// first. The kernel may report EBUSY briefly after the last process left.
func Remove(ctx context.Context, dir string) error {
	dirs, err := subtree(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cgroups: list %s: %w", dir, err)
	}
	for _, d := range dirs {
		for {
			err := unix.Rmdir(d)
			if err == nil || errors.Is(err, unix.ENOENT) {
				break
			}
			if !errors.Is(err, unix.EBUSY) {
				return fmt.Errorf("cgroups: remove %s: %w", d, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("cgroups: remove %s: %w (%w)", d, err, ctx.Err())
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	return nil
}
