// SPDX-License-Identifier: Apache-2.0

// bpffs_linux.go makes sure the pin directory lies on a bpffs, mounting one
// at /sys/fs/bpf when nothing is mounted there.

package bpf

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// bpffsRoot is the conventional bpffs mount point.
const bpffsRoot = "/sys/fs/bpf"

// isBPFFS reports whether path lies on a bpffs.
func isBPFFS(path string) (bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(path, &st); err != nil {
		return false, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Type == unix.BPF_FS_MAGIC, nil
}

// ensurePinDir creates dir on a bpffs. When dir is under /sys/fs/bpf and that
// is not a bpffs, it mounts one there and logs it; the mount stays (other
// BPF users share it).
func ensurePinDir(dir string, log *slog.Logger) error {
	if dir == bpffsRoot || strings.HasPrefix(dir, bpffsRoot+"/") {
		ok, err := isBPFFS(bpffsRoot)
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("%s does not exist: %w", bpffsRoot, err)
		}
		if err != nil {
			return err
		}
		if !ok {
			if err := unix.Mount("bpf", bpffsRoot, "bpf", 0, "mode=0700"); err != nil {
				return fmt.Errorf("mount bpffs on %s: %w", bpffsRoot, err)
			}
			log.Info("bpf: mounted bpffs, it was missing", "path", bpffsRoot)
		}
	}
	parent := filepath.Dir(dir)
	ok, err := isBPFFS(parent)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("pin dir %s: %s is not a bpffs", dir, parent)
	}
	if err := os.MkdirAll(filepath.Join(dir, linksDir), 0o700); err != nil {
		return fmt.Errorf("create pin dir: %w", err)
	}
	return nil
}
