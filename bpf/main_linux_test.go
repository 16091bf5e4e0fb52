// SPDX-License-Identifier: Apache-2.0

// main_test.go holds TestMain: the child-process modes of the test binary
// and the unmounting of a bpffs that the tests mounted.

package bpf

import (
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

func TestMain(m *testing.M) {
	if mode := os.Getenv(childModeEnv); mode != "" {
		if err := runChild(mode, os.Getenv(childArgsEnv), os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	mounted, _ := isBPFFS(bpffsRoot)
	code := m.Run()
	if now, _ := isBPFFS(bpffsRoot); !mounted && now && os.Geteuid() == 0 {
		// Load mounted it for the tests: leave the machine as found.
		if err := unix.Unmount(bpffsRoot, 0); err != nil {
			fmt.Fprintln(os.Stderr, "unmount bpffs:", err)
			code = 1
		}
	}
	os.Exit(code)
}
