// SPDX-License-Identifier: Apache-2.0

package bench

import (
	"testing"

	"github.com/interlockhq/interlock/test/echoproc"
)

func TestMain(m *testing.M) { echoproc.Main(m) }
