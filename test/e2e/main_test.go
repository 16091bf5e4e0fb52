// SPDX-License-Identifier: Apache-2.0

package e2e_test

import (
	"os"
	"testing"
)

// TestMain runs the node child process when the test binary is re-executed
// as one (see kill_test.go), and the tests otherwise.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChild())
	}
	os.Exit(m.Run())
}
