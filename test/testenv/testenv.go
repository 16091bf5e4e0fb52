// SPDX-License-Identifier: Apache-2.0

// Package testenv routes every environment requirement of a test (root,
// cgroup v2, PostgreSQL's binaries, a kernel feature) through one place that
// names the reason.
//
// Outside CI a missing requirement skips the test with that reason. Under
// CI=true it fails the test instead: CI machines are set up by .ci/run to
// have everything, so a skip there would hide a test that never ran.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// InCI reports whether the tests run under CI (CI=true), where skips are
// failures.
func InCI() bool { return os.Getenv("CI") == "true" }

// Skip skips t with the reason, or fails it under CI.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if InCI() {
		t.Fatalf("requirement missing under CI=true (a skip here is a failure): %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips (or fails under CI) unless the test runs as root; why
// says what needs it.
func RequireRoot(t testing.TB, why string) {
	t.Helper()
	if os.Geteuid() != 0 {
		Skip(t, "needs root: %s", why)
	}
}
