// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// The directory lock elsewhere: only the LOCK file, no flock (the node
// agent runs on Linux; this keeps the package building for tools).

package spool

import (
	"fmt"
	"os"
	"path/filepath"
)

func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock: %w", err)
	}
	return f, nil
}
