// SPDX-License-Identifier: Apache-2.0

//go:build !linux

// Stubs: cgroups and network namespaces exist only on Linux.

package workload

import (
	"errors"
	"fmt"
)

var errNotLinux = fmt.Errorf("workload discovery needs Linux: %w", errors.ErrUnsupported)

func cgroupMount() (string, error)      { return "", errNotLinux }
func cgroupID(string) (uint64, error)   { return 0, errNotLinux }
func cgroupProcs(string) ([]int, error) { return nil, errNotLinux }
func ownCgroup() (string, error)        { return "", errNotLinux }
func nsInode(string) (uint64, error)    { return 0, errNotLinux }
func hostNetnsInode() (uint64, error)   { return 0, errNotLinux }
