// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// Cgroup ids elsewhere: there are none.

package cgroups

import (
	"errors"
	"fmt"
)

// ID fails: cgroup v2 is Linux's.
func ID(dir string) (uint64, error) {
	return 0, fmt.Errorf("cgroups: %s: %w", dir, errors.ErrUnsupported)
}
