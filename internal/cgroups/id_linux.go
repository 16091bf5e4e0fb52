// SPDX-License-Identifier: Apache-2.0

// Cgroup ids on Linux.

package cgroups

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ID returns the id of the cgroup v2 directory dir: the kernfs inode number,
// which is what bpf_get_current_cgroup_id returns for its tasks.
func ID(dir string) (uint64, error) {
	var fs unix.Statfs_t
	if err := unix.Statfs(dir, &fs); err != nil {
		return 0, fmt.Errorf("cgroups: %s: %w", dir, err)
	}
	if fs.Type != unix.CGROUP2_SUPER_MAGIC {
		return 0, fmt.Errorf("cgroups: %s: not on a cgroup v2 file system", dir)
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("cgroups: %s: %w", dir, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return 0, fmt.Errorf("cgroups: %s: not a directory", dir)
	}
	return st.Ino, nil
}
