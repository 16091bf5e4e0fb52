// SPDX-License-Identifier: Apache-2.0

// Finding the cgroup2 mount, cgroup ids and member processes.

package cgroups

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ErrNoCgroup2 is returned when no cgroup v2 file system is mounted; it
// wraps errors.ErrUnsupported.
var ErrNoCgroup2 = fmt.Errorf("no cgroup2 mount in /proc/mounts (Interlock needs cgroup v2): %w", errors.ErrUnsupported)

// Mount returns the mount point of the first cgroup2 file system in
// /proc/mounts.
func Mount() (string, error) {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "", fmt.Errorf("cgroups: read mounts: %w", err)
	}
	return ParseMount(data)
}

// ParseMount returns the first cgroup2 mount point in the contents of
// /proc/mounts.
func ParseMount(mounts []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(mounts))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[2] == "cgroup2" {
			return unescapeMount(f[1]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("cgroups: read mounts: %w", err)
	}
	return "", ErrNoCgroup2
}

// unescapeMount undoes the octal escapes (\040 for a space) of /proc/mounts.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// Procs returns the processes listed in dir's cgroup.procs (not those of
// its descendants).
func Procs(dir string) ([]int, error) {
	file := filepath.Join(dir, "cgroup.procs")
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("cgroups: parse %s: %w", file, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

// OfProcess returns the cgroup v2 path of pid relative to the cgroup2 mount
// (the "0::" line of /proc/PID/cgroup), e.g. "/system.slice/agent.service".
func OfProcess(pid int) (string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return "", fmt.Errorf("cgroups: %w", err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "0::"); ok {
			return rest, nil
		}
	}
	return "", fmt.Errorf("cgroups: process %d has no cgroup v2 membership", pid)
}
