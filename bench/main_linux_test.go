// SPDX-License-Identifier: Apache-2.0

package bench

import (
	"testing"

	"github.com/interlockhq/interlock/test/echoproc"
)

func TestMain(m *testing.M) {
	runHTTPSChild() // exits when this process is one of BenchmarkHTTPS's children
	echoproc.Main(m)
}
