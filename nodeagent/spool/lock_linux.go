// SPDX-License-Identifier: Apache-2.0

//go:build linux

// The directory lock on Linux: an exclusive flock on dir/LOCK.

package spool

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// lockDir takes an exclusive, non-blocking flock on dir/LOCK; closing the
// returned file releases it (so does the process dying).
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s (another spool has it open?): %w", dir, err)
	}
	return f, nil
}
