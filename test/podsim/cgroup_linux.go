// SPDX-License-Identifier: Apache-2.0

// cgroup v2: finding the mount, making a workload's cgroup, its id and its
// processes.

package podsim

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// cgroupParent is the directory under the cgroup2 mount that holds every
// workload's cgroup. Parallel test processes share it.
const cgroupParent = "interlock-podsim"

// makeCgroup creates root/interlock-podsim/name. fs.ErrExist means the name
// is taken. The parent may vanish under us when a parallel process removes
// it while empty; then it is made again.
func makeCgroup(root, name string) (string, error) {
	parent := filepath.Join(root, cgroupParent)
	dir := filepath.Join(parent, name)
	for range 10 {
		if err := os.Mkdir(parent, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("make cgroup parent: %w", err)
		}
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrNotExist) {
			continue // parent removed meanwhile
		}
		if err != nil {
			return "", fmt.Errorf("make cgroup: %w", err)
		}
		return dir, nil
	}
	return "", fmt.Errorf("make cgroup %s: parent keeps vanishing", dir)
}

// removeCgroupParent removes the shared parent if it is empty. Another
// process may be using it or removing it too: EBUSY, ENOTEMPTY and ENOENT
// are fine.
func removeCgroupParent(root string) error {
	err := unix.Rmdir(filepath.Join(root, cgroupParent))
	switch {
	case err == nil, errors.Is(err, unix.EBUSY), errors.Is(err, unix.ENOTEMPTY), errors.Is(err, unix.ENOENT):
		return nil
	default:
		return fmt.Errorf("remove cgroup parent: %w", err)
	}
}
