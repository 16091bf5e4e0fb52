// SPDX-License-Identifier: Apache-2.0

// cgroup v2: finding the mount, making a workload's cgroup, its id and its
// processes.

package podsim

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// cgroupParent is the directory under the cgroup2 mount that holds every
// workload's cgroup. Parallel test processes share it.
const cgroupParent = "interlock-podsim"

// cgroup2Mount returns the mount point of the first cgroup2 file system in
// /proc/mounts (on this project's machines /sys/fs/cgroup/unified).
func cgroup2Mount() (string, error) {
	data, err := os.ReadFile("/proc/mounts")
	if err != nil {
		return "", fmt.Errorf("read mounts: %w", err)
	}
	return parseCgroup2Mount(data)
}

func parseCgroup2Mount(mounts []byte) (string, error) {
	sc := bufio.NewScanner(bytes.NewReader(mounts))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 3 && f[2] == "cgroup2" {
			return unescapeMount(f[1]), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("read mounts: %w", err)
	}
	return "", fmt.Errorf("no cgroup2 mount in /proc/mounts: %w", errors.ErrUnsupported)
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

// cgroupInode returns the inode number of a cgroup directory, which is the
// cgroup id that bpf_get_current_cgroup_id reports.
func cgroupInode(dir string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return 0, fmt.Errorf("stat cgroup: %w", err)
	}
	return st.Ino, nil
}

// readPids returns the pids listed in a cgroup.procs file.
func readPids(file string) ([]int, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(data)) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", file, err)
		}
		pids = append(pids, pid)
	}
	return pids, nil
}
