// SPDX-License-Identifier: Apache-2.0

// Start: New for tests, with cleanup and environment skips.

package podsim

import (
	"errors"
	"testing"

	"github.com/interlockhq/interlock/test/testenv"
)

// Start makes a workload for the test and closes it in t.Cleanup. Without
// root, a cgroup2 mount or the helper programs it calls testenv.Skip (a
// failure under CI=true); any other error fails the test.
func Start(t testing.TB, opts Options) *Workload {
	t.Helper()
	testenv.RequireRoot(t, "podsim makes network namespaces, cgroups and mounts")
	w, err := New(t.Context(), opts)
	if errors.Is(err, errors.ErrUnsupported) {
		testenv.Skip(t, "%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	})
	return w
}
