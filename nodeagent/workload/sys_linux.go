// SPDX-License-Identifier: Apache-2.0

// The kernel objects a scan reads on Linux: the cgroup2 hierarchy (through
// internal/cgroups) and network namespace inodes.

package workload

import (
	"fmt"
	"os"

	"github.com/interlockhq/interlock/internal/cgroups"
	"golang.org/x/sys/unix"
)

func cgroupMount() (string, error)          { return cgroups.Mount() }
func cgroupID(dir string) (uint64, error)   { return cgroups.ID(dir) }
func cgroupProcs(dir string) ([]int, error) { return cgroups.Procs(dir) }

// ownCgroup returns this process's cgroup, relative to the cgroup2 mount.
func ownCgroup() (string, error) { return cgroups.OfProcess(os.Getpid()) }

// nsInode returns the inode number of the namespace file at path (a
// /proc/PID/ns/net link or a bind mount of one).
func nsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// hostNetnsInode returns the inode of the network namespace of this
// process's unlocked threads: code that enters another namespace does so on
// a locked thread and restores it before unlocking (or lets it die), so an
// unlocked thread is in the process's own namespace. /proc/self/ns/net would
// be the main thread's, which may be locked inside a pod right now.
func hostNetnsInode() (uint64, error) {
	return nsInode("/proc/thread-self/ns/net")
}
