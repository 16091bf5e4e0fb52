// SPDX-License-Identifier: Apache-2.0

// main_test.go holds TestMain: the child-process modes of the test binary.

package bpf

import (
	"fmt"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		if err := runChild(mode, os.Getenv(childArgsEnv), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	// bpffs stays mounted on /sys/fs/bpf if Load mounted it, as on any
	// systemd machine: test packages run in parallel and share it.
	os.Exit(m.Run())
}
