// SPDX-License-Identifier: Apache-2.0

package bench

import (
	"testing"

	"github.com/interlockhq/interlock/test/echoproc"
)

func TestMain(m *testing.M) {
	runChild() // exits when this process is a benchmark's child
	echoproc.Main(m)
}
