// SPDX-License-Identifier: Apache-2.0

// A pod's network namespace, found through a process of one of its
// containers (the child cgroups of the pod's cgroup).

package workload

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// maxContainerDepth bounds how far below a container's cgroup a process is
// looked for (a container that runs systemd makes cgroups of its own).
const maxContainerDepth = 3

// containerRank orders a pod's child cgroups: the cgroups of containers
// first (rank 0), unknown names after them (rank 1). CRI-O's conmon
// cgroups (crio-conmon-<id>.scope) hold the monitor process, which lives in
// the host's network namespace, never the pod's: they are skipped (-1).
func containerRank(name string) int {
	switch {
	case strings.Contains(name, "conmon"):
		return -1
	case strings.HasPrefix(name, "cri-containerd-") && strings.HasSuffix(name, ".scope"),
		strings.HasPrefix(name, "crio-") && strings.HasSuffix(name, ".scope"),
		strings.HasPrefix(name, "docker-") && strings.HasSuffix(name, ".scope"),
		isContainerID(name):
		return 0
	default:
		return 1
	}
}

// isContainerID reports whether name is a bare container id (cgroupfs
// driver): 64 lowercase hex digits.
func isContainerID(name string) bool {
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// podNetns returns /proc/PID/ns/net of a process of one of the pod's
// containers and the namespace's inode; "" and 0 when no container has a
// process yet. Within a container the lowest PID of its shallowest
// non-empty cgroup is taken, likely the container's init (or the pause
// process), which the runtime put into the pod's namespace itself.
func podNetns(podDir string) (string, uint64, error) {
	ents, err := os.ReadDir(podDir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil // the pod went away meanwhile
	}
	if err != nil {
		return "", 0, fmt.Errorf("list containers: %w", err)
	}
	var dirs []string
	for _, e := range ents {
		if e.IsDir() && containerRank(e.Name()) >= 0 {
			dirs = append(dirs, e.Name())
		}
	}
	slices.SortStableFunc(dirs, func(a, b string) int { return containerRank(a) - containerRank(b) })
	for _, d := range dirs {
		path, ino, err := containerNetns(filepath.Join(podDir, d), maxContainerDepth)
		if err != nil {
			return "", 0, err
		}
		if path != "" {
			return path, ino, nil
		}
	}
	return "", 0, nil
}

// containerNetns searches dir and its descendants, breadth first, down to
// depth levels, for a live process, and returns its namespace.
func containerNetns(dir string, depth int) (string, uint64, error) {
	level := []string{dir}
	for range depth + 1 {
		var next []string
		for _, d := range level {
			path, ino, err := procNetns(d)
			if err != nil || path != "" {
				return path, ino, err
			}
			ents, err := os.ReadDir(d)
			if errors.Is(err, fs.ErrNotExist) {
				continue // removed meanwhile
			}
			if err != nil {
				return "", 0, fmt.Errorf("list cgroup: %w", err)
			}
			for _, e := range ents {
				if e.IsDir() {
					next = append(next, filepath.Join(d, e.Name()))
				}
			}
		}
		level = next
	}
	return "", 0, nil
}

// procNetns returns the namespace of the lowest PID in dir's cgroup.procs
// that still has one (a zombie or an exited process has none).
func procNetns(dir string) (string, uint64, error) {
	pids, err := cgroupProcs(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", 0, nil
	}
	if err != nil {
		return "", 0, err
	}
	slices.Sort(pids)
	for _, pid := range pids {
		path := "/proc/" + strconv.Itoa(pid) + "/ns/net"
		ino, err := nsInode(path)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // exited meanwhile, or a zombie
		}
		if err != nil {
			return "", 0, err
		}
		return path, ino, nil
	}
	return "", 0, nil
}
