// SPDX-License-Identifier: Apache-2.0

package l7proxy

import (
	"testing"

	"github.com/interlockhq/interlock/test/echoproc"
)

func TestMain(m *testing.M) { echoproc.Main(m) }
